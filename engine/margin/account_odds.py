"""The probability that a cross account reaches its liquidation within a horizon (Monte Carlo).

One symbol's fall drags the others: a cross account's wallet backs all its cross positions, so its
liquidation depends on the joint move of all its marks. This simulates that joint move and evaluates the
account the way the engine does.

**The model.** The marks of the book's (exchange, symbol) keys follow correlated log-price Brownian motions
with zero drift: ln(S_t / S_0) = sigma * W_t per key, Corr(W_i, W_j) = rho_ij, sigma annualised and t in
years of 365 days (as engine.margin.liquidation_odds). The covariance comes from the symbols' return history
(engine.market.volatility); a correlation that is unknown leaves the accounts that need it without a figure.

**The evaluation.** Each path is checked every step (horizon / steps; hourly by default): the account is
liquidated on a path when its cross surplus (cross wallet + cross uPnL - cross maintenance margin, the
engine's own tiers, hedge-mode pairs and fixed maintenance included: engine.margin.vectorised_stress.MoveSearch)
is <= 0 at a step. Isolated positions have their own collateral and never take the cross account down; their
own figures are per position (engine.margin.liquidation_odds). Checking only at the steps misses a touch
between two of them, so the figure is biased low against the continuously monitored one (for a
one-position account, about as the Broadie-Glasserman-Kou shift of liquidation_odds.discrete_barrier says).

**The estimate.** Seeded (the same book, marks and seed give the same figure), vectorised over paths, with
antithetic pairs (each normal draw also used with its sign flipped; the pair's mean is one sample, which
halves the variance of a figure driven mostly by the direction of the move); the standard error is that of
the mean over pairs.
"""

from __future__ import annotations

import math

import numpy as np

from engine.margin.liquidation_odds import Odds, horizon_years, no_volatility_reason
from engine.margin.vectorised import CompiledBook
from engine.margin.vectorised_stress import MoveSearch

DEFAULT_PATHS = 10_000
_CELLS_PER_CHUNK = 2_000_000
"""Paths x cross legs evaluated at once: bounds the memory (a few arrays of this many float64) of a large book."""


def default_steps(hours: float) -> int:
    """Steps of about an hour each over `hours` (at least one)."""
    return max(1, math.ceil(hours - 1e-9))


def monte_carlo_model(paths: int, steps: int, hours: float) -> str:
    """The words for how an account figure was computed (the report's `model`)."""
    return (
        f"Monte Carlo: {paths} paths (antithetic pairs) of correlated driftless log-price Brownian motions, "
        f"365-day year, the cross surplus checked every {hours / steps:g} h ({steps} steps)"
    )


def factor(covariance: np.ndarray) -> np.ndarray:
    """A matrix A with A @ A.T = the covariance (k x k, symmetric), through its eigen-decomposition with
    negative eigenvalues set to 0: a correlation matrix estimated from histories of different lengths need
    not be positive semi-definite, and Cholesky would refuse it (or a +1 / -1 correlation, which is singular)."""
    values, vectors = np.linalg.eigh(covariance)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


def _unknown_reason(search: MoveSearch, account: int, marks: np.ndarray, vol: np.ndarray, corr: np.ndarray) -> str:
    """Why an account with cross legs cannot be simulated ("" when it can)."""
    keys = search.compiled.price_keys
    own = np.unique(search.price[search.account == account])
    for k in own:
        if not np.isfinite(marks[k]):
            return f"the cross account waits for the mark of {keys[k][1]} on {keys[k][0]}"
    for k in own:
        if not (np.isfinite(vol[k]) and vol[k] >= 0):
            return no_volatility_reason(keys[k])
    for i in own:
        for j in own:
            if i < j and not np.isfinite(corr[i, j]):
                return f"the correlation of {keys[i][1]} and {keys[j][1]} is unknown (no common return history)"
    return ""


def account_odds(
    compiled: CompiledBook,
    marks: np.ndarray,
    volatility: np.ndarray,
    correlation: np.ndarray,
    hours: float,
    *,
    paths: int = DEFAULT_PATHS,
    steps: int | None = None,
    seed: int = 0,
    search: MoveSearch | None = None,
) -> list[Odds]:
    """Per account (book order): P(its cross account is liquidated within `hours`), with its standard error.

    marks: float64 (len(compiled.price_keys),) in the compiled book's price-key order (NaN: missing);
    volatility: annualised, same shape (NaN: unknown); correlation: (keys, keys), 1 on the diagonal, NaN where
    unknown; paths: simulated paths (rounded up to an even number: antithetic pairs); steps: checks over the
    horizon (default: hourly); seed: of numpy's default generator; search: the compiled book's MoveSearch
    (built when not given). An account without a cross position, or whose marks, volatilities or
    correlations are not all known, gets probability None with the reason; one already at or past its
    liquidation point 1.0 (standard error 0).
    Raises ValueError for a horizon that is not a positive number of hours, or paths or steps < 1.
    """
    years = horizon_years(hours)
    if paths < 1 or (steps is not None and steps < 1):
        raise ValueError("paths and steps must be at least 1")
    steps = steps or default_steps(hours)
    pairs = (paths + 1) // 2
    model = monte_carlo_model(2 * pairs, steps, hours)
    search = search or MoveSearch(compiled)
    n = compiled.n_accounts
    out: list[Odds] = [Odds(None, "no cross position: its isolated positions have their own figures")] * n
    if not len(search.legs):
        return out
    now = search.cross_surplus(marks[search.price][None, :])[0]
    simulate = np.zeros(n, dtype=bool)
    for a in range(n):
        if not search.has_cross[a]:
            continue
        reason = _unknown_reason(search, a, marks, volatility, correlation)
        if reason:
            out[a] = Odds(None, reason, model=model)
        elif now[a] <= 0:
            out[a] = Odds(1.0, standard_error=0.0, model=model)
        else:
            simulate[a] = True
    if simulate.any():
        p, se = _simulate(search, simulate, marks, volatility, correlation, years, pairs, steps, seed)
        for a in np.flatnonzero(simulate):
            out[a] = Odds(float(p[a]), standard_error=float(se[a]), model=model)
    return out


def _simulate(
    search: MoveSearch,
    accounts: np.ndarray,
    marks: np.ndarray,
    volatility: np.ndarray,
    correlation: np.ndarray,
    years: float,
    pairs: int,
    steps: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per account (all of the book's; only those flagged in `accounts` meaningful): the mean over antithetic
    pairs of the liquidated-on-the-path indicator, and its standard error."""
    legs = np.flatnonzero(accounts[search.account])
    keys = np.unique(search.price[legs])  # the simulated marks
    column = np.searchsorted(keys, search.price[legs])  # each leg's simulated mark
    rho = np.nan_to_num(correlation[np.ix_(keys, keys)], nan=0.0)  # NaN only between keys no account shares
    np.fill_diagonal(rho, 1.0)
    sigma = volatility[keys]
    a_matrix = factor(rho * np.outer(sigma, sigma) * (years / steps))
    base = marks[keys]
    rng = np.random.default_rng(seed)
    chunk = max(1, _CELLS_PER_CHUNK // (2 * max(1, len(legs)) * steps))
    totals = np.zeros(search.n_accounts)
    squares = np.zeros(search.n_accounts)
    for start in range(0, pairs, chunk):
        m = min(chunk, pairs - start)
        # (steps, m, keys): one correlated log-return per key and step, cumulated along the path.
        walk = np.cumsum(rng.standard_normal((steps, m, len(keys))) @ a_matrix.T, axis=0)
        hit = np.zeros((2, m, search.n_accounts), dtype=bool)
        for t in range(steps):
            both = np.stack([walk[t], -walk[t]])  # the antithetic pair: the same draw, sign flipped
            leg_marks = (base * np.exp(both))[..., column]
            hit |= search.cross_surplus(leg_marks, legs) <= 0
        pair_mean = hit.mean(axis=0)  # (m, accounts): 0, 0.5 or 1
        totals += pair_mean.sum(axis=0)
        squares += (pair_mean**2).sum(axis=0)
    mean = totals / pairs
    variance = (squares - pairs * mean**2) / max(1, pairs - 1)
    return mean, np.sqrt(np.clip(variance, 0.0, None) / pairs)
