"""Realized volatility and correlation of the book's symbols, from price series (candles or the mark history).

The probability of liquidation (engine.margin.liquidation_odds, engine.margin.account_odds) needs each
symbol's annualised volatility and, for a cross account, the correlation of its symbols. Both are estimated
here from hourly closes: candles fetched through ccxt (engine.market.candles), or the stored mark history
resampled to the last mark of each hour where there are no candles.

Estimators (zero mean, as the model has no drift; a 365-day year):
- volatility: sigma^2 = sum(r_i^2) / sum(dt_i), r_i = ln(close_i / close_{i-1}), dt_i in years: a gap in the
  series (a missed hour) is one longer return, not a wrong one;
- correlation: sum(r_a * r_b) / sqrt(sum(r_a^2) * sum(r_b^2)) over the hours both series have, each return
  between two consecutive hours of both.
Fewer than MIN_RETURNS returns give no estimate (None / NaN): a day of hours at least.
A volatility typed in the portfolio file wins over both (engine.book.market_volatility).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.margin.liquidation_odds import HOURS_PER_YEAR
from engine.margin.model import PriceKey

MIN_RETURNS = 24
HOUR_S = 3600.0

Series = tuple[np.ndarray, np.ndarray]
"""(hour index = floor(Unix seconds / 3600), int64; close, float64), both (n,), hours strictly increasing."""


def hourly_series(times_s: Sequence[float] | np.ndarray, prices: Sequence[float] | np.ndarray) -> Series:
    """The last finite positive price of each hour (times in Unix seconds, any order; candles: their open
    times, so each candle's close lands in its own hour)."""
    t = np.asarray(times_s, dtype=float)
    p = np.asarray(prices, dtype=float)
    keep = np.isfinite(t) & np.isfinite(p) & (p > 0)
    t, p = t[keep], p[keep]
    order = np.argsort(t, kind="stable")
    hours = np.floor(t[order] / HOUR_S).astype(np.int64)
    p = p[order]
    last = np.ones(len(hours), dtype=bool)
    last[:-1] = hours[1:] != hours[:-1]
    return hours[last], p[last]


def realized_volatility(series: Series, min_returns: int = MIN_RETURNS) -> float | None:
    """Annualised volatility (a fraction) of an hourly series (module docstring); None with fewer returns."""
    hours, closes = series
    if len(closes) < min_returns + 1:
        return None
    r = np.diff(np.log(closes))
    dt = np.diff(hours) / HOURS_PER_YEAR
    return math.sqrt(float(np.sum(r * r) / np.sum(dt)))


def correlation(a: Series, b: Series, min_returns: int = MIN_RETURNS) -> float | None:
    """Zero-mean correlation of the hourly returns two series share (module docstring), in [-1, 1]; None with
    fewer than min_returns common returns or a series that never moves."""
    common, ia, ib = np.intersect1d(a[0], b[0], assume_unique=True, return_indices=True)
    if len(common) < min_returns + 1:
        return None
    consecutive = np.diff(common) == 1
    if int(consecutive.sum()) < min_returns:
        return None
    ra = np.diff(np.log(a[1][ia]))[consecutive]
    rb = np.diff(np.log(b[1][ib]))[consecutive]
    scale = math.sqrt(float(np.sum(ra * ra) * np.sum(rb * rb)))
    if scale == 0.0:
        return None
    return max(-1.0, min(1.0, float(np.sum(ra * rb)) / scale))


@dataclass(frozen=True)
class MarketVolatility:
    """Per price key (the order of `keys`): the annualised volatility (NaN: unknown) and where it came from,
    and the correlation matrix (NaN where unknown, 1 on the diagonal)."""

    keys: tuple[PriceKey, ...]
    volatility: np.ndarray
    source: tuple[str, ...]
    """'portfolio file', 'candles', 'mark history' or '' (unknown), per key."""
    correlation: np.ndarray

    def of(self, key: PriceKey) -> float | None:
        """The volatility of one key (None: unknown or not in keys)."""
        if key not in self.keys:
            return None
        value = float(self.volatility[self.keys.index(key)])
        return None if math.isnan(value) else value


def market_volatility(
    keys: Sequence[PriceKey],
    typed: Mapping[PriceKey, float],
    candles: Mapping[PriceKey, Series],
    marks: Mapping[PriceKey, Series],
) -> MarketVolatility:
    """Volatility and correlation for each key: typed (the portfolio file) wins, then the candles, then the
    mark history (each an hourly series; hourly_series makes one from samples). A correlation comes from the
    candles where both keys have enough of them, else from their mark histories."""
    vol = np.full(len(keys), np.nan)
    source = []
    for i, key in enumerate(keys):
        found, where = typed.get(key), "portfolio file"
        if found is None and key in candles:
            found, where = realized_volatility(candles[key]), "candles"
        if found is None and key in marks:
            found, where = realized_volatility(marks[key]), "mark history"
        if found is not None:
            vol[i] = found
        source.append(where if found is not None else "")
    corr = correlation_matrix([candles.get(key) for key in keys])
    from_marks = correlation_matrix([marks.get(key) for key in keys])
    corr = np.where(np.isnan(corr), from_marks, corr)
    np.fill_diagonal(corr, 1.0)
    return MarketVolatility(tuple(keys), vol, tuple(source), corr)


def correlation_matrix(series: Sequence[Series | None], min_returns: int = MIN_RETURNS) -> np.ndarray:
    """`correlation` of every pair at once: (k, k), NaN where it gives None (or a series is None), the diagonal
    as the pairs (1 where a series has enough moving returns). All series on one grid of hours, so a pair's
    returns are the hours both have along with the hour before, as `correlation` takes them."""
    k = len(series)
    out = np.full((k, k), np.nan)
    present = [i for i, s in enumerate(series) if s is not None and len(s[0])]
    if not present:
        return out
    grid = np.unique(np.concatenate([series[i][0] for i in present]))
    log_close = np.full((len(grid), len(present)), np.nan)
    for column, i in enumerate(present):
        log_close[np.searchsorted(grid, series[i][0]), column] = np.log(series[i][1])
    has = ~np.isnan(log_close)
    step = np.zeros(len(grid), dtype=bool)
    step[1:] = np.diff(grid) == 1
    valid = has & np.vstack([np.zeros((1, len(present)), dtype=bool), has[:-1]]) & step[:, None]
    r = np.where(valid, np.vstack([np.full((1, len(present)), np.nan), np.diff(log_close, axis=0)]), 0.0)
    v, h = valid.astype(float), has.astype(float)
    squares = r * r
    scale = np.sqrt((squares.T @ v) * (v.T @ squares))
    enough = (h.T @ h >= min_returns + 1) & (v.T @ v >= min_returns) & (scale > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        found = np.where(enough, np.clip((r.T @ r) / scale, -1.0, 1.0), np.nan)
    out[np.ix_(present, present)] = found
    return out
