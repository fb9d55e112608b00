"""The probability that a position's mark touches its liquidation price within a horizon (closed form).

**The model.** The mark follows a log-price Brownian motion: ln(S_t / S_0) = nu * t + sigma * W_t, with
sigma the annualised volatility (a fraction: 0.8 = 80% a year), t in years of **365 days** (crypto trades
every day), and nu the drift of the log-price per year, **zero unless given** (a drift is a forecast; the
figure does not make one). Everything else is held where it is: the liquidation price L is the one the
engine computes at the current marks (for a cross position: with the account's other marks unchanged;
the account's joint figure is engine.margin.account_odds).

**The figure.** P(the mark touches L at any time in [0, T]) for the continuously monitored path (the
exchange checks its mark every second or so; a path that crosses L and comes back between two looks still
counts). With b = ln(L / S_0) and s = sigma * sqrt(T):

    nu = 0:        P = 2 * Phi(-|b| / s)                                        (reflection principle)
    b > 0 (up):    P = Phi((nu*T - b) / s) + exp(2*nu*b / sigma^2) * Phi((-b - nu*T) / s)
    b < 0 (down):  P = Phi((b - nu*T) / s) + exp(2*nu*b / sigma^2) * Phi((b + nu*T) / s)

Source: the distribution of the running maximum of Brownian motion with drift, S. Shreve, "Stochastic
Calculus for Finance II" (Springer 2004), Corollary 7.2.2 (the down case by the reflection X -> -X);
Borodin & Salminen, "Handbook of Brownian Motion", part II, 1.1.4.

**What it is not.** Not a forecast of the market: a driftless random walk with one volatility, no jumps,
no fat tails, no change of volatility within the horizon, no funding paid, no added margin. A simulation
that looks at the mark only every dt (hourly candles, say) misses the touches between two looks and so
comes out lower than this figure; Broadie, Glasserman & Kou (Mathematical Finance 7(4), 1997) shift the
barrier away by exp(0.5826 * sigma * sqrt(dt)) to approximate that discrete figure (`discrete_barrier`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.margin.model import Book, PriceKey
from engine.margin.risk import PositionRisk

HOURS_PER_YEAR = 365.0 * 24.0
"""Crypto trades every day: a year is 365 days of 24 hours (no trading-day calendar)."""
DEFAULT_PATHS = 10_000
"""Monte Carlo paths of an account's figure (engine.margin.account_odds; here so that a job names its default
without importing the simulation)."""

BGK_BETA = 0.5825971579390106
"""-zeta(1/2) / sqrt(2 pi): the Broadie-Glasserman-Kou continuity correction for a discretely monitored barrier."""


def normal_cdf(x: float) -> float:
    """Phi(x), the standard normal distribution function (via math.erfc, accurate in both tails)."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def horizon_years(hours: float) -> float:
    """A horizon in hours as years of 365 days. ValueError for a horizon that is not finite and > 0."""
    if not (math.isfinite(hours) and hours > 0):
        raise ValueError(f"the horizon must be a positive number of hours, not {hours!r}")
    return hours / HOURS_PER_YEAR


def touch_probability(
    mark: float, liquidation: float | None, volatility: float, years: float, drift: float = 0.0
) -> float:
    """P(the mark touches `liquidation` within `years`), as a fraction in [0, 1] (module docstring).

    mark and liquidation in the contract's quote currency (> 0; liquidation None: no price liquidates,
    probability 0); volatility annualised (a fraction, >= 0); years > 0 (horizon_years); drift: of the
    log-price per year (0: none). A mark at or past the liquidation price gives 1. Volatility 0 gives 0
    unless the mark is already there (with a drift, the deterministic path decides).
    Raises ValueError for a mark, volatility or horizon that is not finite and positive (volatility: >= 0).
    """
    if not (math.isfinite(mark) and mark > 0):
        raise ValueError(f"the mark must be a positive price, not {mark!r}")
    if not (math.isfinite(volatility) and volatility >= 0):
        raise ValueError(f"the volatility must be a fraction >= 0, not {volatility!r}")
    if not (math.isfinite(years) and years > 0):
        raise ValueError(f"the horizon must be > 0 years, not {years!r}")
    if liquidation is None or not math.isfinite(liquidation) or liquidation <= 0:
        return 0.0
    b = math.log(liquidation / mark)
    if b == 0.0:
        return 1.0
    if volatility == 0.0:
        return 1.0 if drift * years / b >= 1.0 else 0.0
    s = volatility * math.sqrt(years)
    if drift == 0.0:
        return min(1.0, 2.0 * normal_cdf(-abs(b) / s))
    nu_t = drift * years
    if b > 0:
        first, second = normal_cdf((nu_t - b) / s), normal_cdf((-b - nu_t) / s)
    else:
        first, second = normal_cdf((b - nu_t) / s), normal_cdf((b + nu_t) / s)
    # exp(2 nu b / sigma^2) * Phi(...) in logs: the exponential alone overflows for large drifts.
    tail = 0.0 if second == 0.0 else math.exp(min(700.0, 2.0 * drift * b / volatility**2 + math.log(second)))
    return min(1.0, first + tail)


def discrete_barrier(mark: float, liquidation: float, volatility: float, step_years: float) -> float:
    """The liquidation price moved away from the mark by exp(BGK_BETA * sigma * sqrt(dt)): the continuous
    formula at this barrier approximates the probability of a touch seen only every dt (Broadie, Glasserman
    & Kou 1997). Prices in the quote currency, volatility annualised, step_years = dt in years (> 0)."""
    shift = math.exp(BGK_BETA * volatility * math.sqrt(step_years))
    return liquidation * shift if liquidation > mark else liquidation / shift


@dataclass(frozen=True, slots=True)
class Odds:
    """A probability of liquidation, or why there is none.

    probability: a fraction in [0, 1], None when it cannot be computed (then `reason` says why);
    standard_error: of a Monte Carlo estimate (None for the closed form); model: how it was computed, in
    words (engine.margin.account_odds and the report print it)."""

    probability: float | None
    reason: str = ""
    standard_error: float | None = None
    model: str = ""


CLOSED_FORM = "closed form: first passage of a driftless log-price Brownian motion, continuous monitoring, 365-day year"


def no_volatility_reason(key: tuple[str, str]) -> str:
    """Why a figure has no probability: no volatility is known for that (exchange, symbol)."""
    return f"no volatility for {key[1]} on {key[0]}: add 'volatility' (annualised, a fraction) to its markets entry"


def position_odds(
    risks: Sequence[PositionRisk], book: Book, volatility: Mapping[PriceKey, float], hours: float
) -> list[Odds]:
    """Per position (the order of `risks`, each a position of `book`): P(its mark touches its liquidation price
    within `hours`), by touch_probability at the position's own annualised volatility (volatility: per
    (exchange, symbol), a fraction). None with the reason where the position's figures are incomplete or no
    volatility is known; 1 at or past the liquidation price; 0 where no price liquidates it.
    Raises ValueError for a horizon that is not a positive number of hours; KeyError for a position whose
    account is not in `book`."""
    years = horizon_years(hours)
    out = []
    for r in risks:
        key = (book.account(r.position.account).exchange, r.position.symbol)
        sigma = volatility.get(key)
        if r.missing or not math.isfinite(r.mark_price):
            out.append(Odds(None, r.missing or "no mark price"))
        elif sigma is None or not math.isfinite(sigma) or sigma < 0:
            out.append(Odds(None, no_volatility_reason(key)))
        elif r.distance_to_liquidation is not None and r.distance_to_liquidation <= 0:
            out.append(Odds(1.0, model=CLOSED_FORM))
        else:
            p = touch_probability(r.mark_price, r.liquidation_price, sigma, years)
            out.append(Odds(p, model=CLOSED_FORM))
    return out


def touch_probabilities(
    mark: np.ndarray, liquidation: np.ndarray, distance: np.ndarray, volatility: np.ndarray, hours: float
) -> np.ndarray:
    """touch_probability for many positions at once (the live table's column): float64 arrays of one shape,
    marks and liquidation prices in each contract's quote currency (liquidation NaN: no price liquidates,
    probability 0), distance the engine's signed distance to liquidation (<= 0: 1), volatility annualised
    (NaN: unknown). NaN where the mark or the volatility is unknown. Raises ValueError for a bad horizon."""
    years = horizon_years(hours)
    out = np.full(mark.shape, np.nan)
    for i in range(len(out)):
        m, sigma = float(mark[i]), float(volatility[i])
        if not (math.isfinite(m) and m > 0 and math.isfinite(sigma) and sigma >= 0):
            continue
        if math.isfinite(distance[i]) and distance[i] <= 0:
            out[i] = 1.0
        else:
            out[i] = touch_probability(m, None if math.isnan(liquidation[i]) else float(liquidation[i]), sigma, years)
    return out


def likely_range(mark: float, volatility: float, hours: float, coverage: float = 0.9) -> tuple[float, float]:
    """The prices the mark ends the horizon between with probability `coverage`, under the module's model
    (driftless log-price Brownian motion, 365-day year): mark * exp(-+ z * sigma * sqrt(T)), z the normal
    quantile of (1 + coverage) / 2 (1.645 for 90%). In the mark's quote currency, low first. Raises
    ValueError for a mark, volatility, horizon or coverage out of range (coverage in (0, 1))."""
    if not (math.isfinite(mark) and mark > 0 and math.isfinite(volatility) and volatility >= 0):
        raise ValueError(f"the mark and volatility must be a price and a fraction >= 0, not {mark!r}, {volatility!r}")
    if not 0 < coverage < 1:
        raise ValueError(f"the coverage must be a fraction in (0, 1), not {coverage!r}")
    from statistics import NormalDist  # statistics and fractions: ~3 ms, only for the chart's likely range

    spread = NormalDist().inv_cdf((1 + coverage) / 2) * volatility * math.sqrt(horizon_years(hours))
    return mark * math.exp(-spread), mark * math.exp(spread)
