"""The probability of liquidation with fat tails: a historical bootstrap of the symbols' own hourly returns.

**The model.** Over the horizon, each hour's log-return of a mark is drawn with replacement from that
symbol's own hourly log-returns (30 days of candles, or the stored mark history resampled to hours:
engine.market.volatility), less their mean (no drift, as in the normal model). Big moves come back as
often as they happened: the tails are the history's, not the normal curve's. For a cross account whole
hours are drawn (the returns of all its symbols in the same past hour), so their co-movement is the
history's too. Steps are hourly (default_steps); a horizon that is not a whole number of hours scales each
step's return by sqrt(step / 1 h).

**The figure.** The share of paths on which the mark's hourly close reaches the position's liquidation
price (for an account: its cross surplus, engine.margin.account_odds.CrossSurplus, is <= 0 at an hourly
step), with the binomial standard error sqrt(p (1 - p) / paths). Checked hourly, so lower than a
continuously watched touch, as engine.margin.account_odds says. Seeded: the same history, marks and seed give
the same figure. Not antithetic: flipping the signs would make the history's skew symmetric.

Source: the bootstrap, B. Efron, "Bootstrap methods: another look at the jackknife", Annals of Statistics
7(1), 1979; for returns, e.g. Hull, "Options, Futures, and Other Derivatives", historical simulation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from engine.margin.account_odds import CrossSurplus, default_steps
from engine.margin.liquidation_odds import Odds, horizon_years
from engine.margin.model import PriceKey
from engine.margin.vectorised import CompiledBook
from engine.margin.vectorised_stress import MoveSearch

BOOTSTRAP_PATHS = 10_000
MIN_RETURNS = 24
"""A day of hourly returns at least, as engine.market.volatility.MIN_RETURNS (the margin math does not import
the market layer; a test keeps the two equal)."""
Series = tuple[np.ndarray, np.ndarray]
"""(hour index, int64; close, float64), as engine.market.volatility.Series."""
_CELLS_PER_CHUNK = 2_000_000


def bootstrap_model(paths: int, steps: int, hours: float) -> str:
    """The words for how a bootstrap figure was computed (the report's `model`)."""
    return (
        f"historical bootstrap: {paths} paths of the symbols' own hourly returns (de-meaned, whole hours drawn "
        f"with replacement), checked every {hours / steps:g} h ({steps} steps)"
    )


def no_history_reason(key: PriceKey) -> str:
    return (
        f"no return history for {key[1]} on {key[0]}: the bootstrap needs {MIN_RETURNS} hourly returns of candles "
        "(marginwatch risk --candles) or stored marks"
    )


def joint_returns(series: Sequence[Series | None]) -> np.ndarray | None:
    """(hours, len(series)) log-returns between consecutive hours that every series has, each column less its
    mean; None when a series is missing or fewer than MIN_RETURNS such hours exist."""
    if not series or any(s is None for s in series):
        return None
    common = series[0][0]
    for s in series[1:]:
        common = np.intersect1d(common, s[0], assume_unique=True)
    if len(common) < MIN_RETURNS + 1:
        return None
    consecutive = np.flatnonzero(np.diff(common) == 1)
    if len(consecutive) < MIN_RETURNS:
        return None
    columns = []
    for hours, closes in series:
        log_close = np.log(closes[np.searchsorted(hours, common)])
        columns.append(np.diff(log_close)[consecutive])
    r = np.column_stack(columns)
    return r - r.mean(axis=0)


def _draws(returns: np.ndarray, paths: int, steps: int, hours: float, rng: np.random.Generator) -> np.ndarray:
    """(steps, paths, columns) cumulated log-moves: whole rows of `returns` drawn with replacement."""
    scale = math.sqrt(hours / steps)
    rows = rng.integers(len(returns), size=(steps, paths))
    return np.cumsum(returns[rows] * scale, axis=0)


def touch_by_bootstrap(
    returns: np.ndarray, barriers: np.ndarray, hours: float, *, paths: int = BOOTSTRAP_PATHS, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """P(the hourly close reaches each barrier within `hours`) and its standard error, for one symbol.

    returns: (n,) de-meaned hourly log-returns; barriers: ln(liquidation / mark) per position (< 0 below the
    mark, > 0 above, 0: there now, probability 1; NaN: no liquidation price, 0). Raises ValueError for a bad
    horizon or paths < 1."""
    horizon_years(hours)
    if paths < 1:
        raise ValueError("paths must be at least 1")
    walk = _draws(returns[:, None], paths, default_steps(hours), hours, np.random.default_rng(seed))[:, :, 0]
    low, high = np.sort(walk.min(axis=0)), np.sort(walk.max(axis=0))
    b = np.nan_to_num(barriers, nan=np.inf)
    below = np.searchsorted(low, np.where(b < 0, b, -np.inf), side="right")
    above = paths - np.searchsorted(high, np.where(b > 0, b, np.inf), side="left")
    p = np.where(b == 0, 1.0, np.where(b < 0, below, above) / paths)
    return p, np.sqrt(p * (1 - p) / paths)


def bootstrap_position_odds(
    row_keys: Sequence[PriceKey],
    mark: np.ndarray,
    liquidation: np.ndarray,
    distance: np.ndarray,
    series: Mapping[PriceKey, Series],
    hours: float,
    *,
    paths: int = BOOTSTRAP_PATHS,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Per row (float64 arrays as engine.margin.liquidation_odds.touch_probabilities takes): the bootstrap
    probability and its standard error; NaN where the mark is unknown or the symbol has no return history
    (no_history_reason). A row past its liquidation price: 1."""
    p, se = np.full(len(mark), np.nan), np.full(len(mark), np.nan)
    by_key: dict[PriceKey, list[int]] = {}
    for i, key in enumerate(row_keys):
        by_key.setdefault(key, []).append(i)
    for n, (key, rows) in enumerate(sorted(by_key.items())):
        returns = joint_returns([series.get(key)])
        idx = np.array(rows)
        known = idx[np.isfinite(mark[idx]) & (mark[idx] > 0)]
        if returns is None or not len(known):
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            barriers = np.log(liquidation[known] / mark[known])
        barriers = np.where(np.isfinite(distance[known]) & (distance[known] <= 0), 0.0, barriers)
        p[known], se[known] = touch_by_bootstrap(returns[:, 0], barriers, hours, paths=paths, seed=seed + n)
    return p, se


def bootstrap_account_odds(
    compiled: CompiledBook,
    marks: np.ndarray,
    series: Sequence[Series | None],
    hours: float,
    *,
    paths: int = BOOTSTRAP_PATHS,
    seed: int = 0,
    search: MoveSearch | None = None,
) -> list[Odds]:
    """Per account (book order): P(its cross account is liquidated within `hours`) by the bootstrap, with its
    standard error. marks: (len(compiled.price_keys),) (NaN: missing); series: each price key's hourly series
    (None: none). Accounts without a cross position, a mark or a common history get None with the reason; one
    already at or past its liquidation point 1.0. Raises ValueError for a bad horizon or paths < 1."""
    horizon_years(hours)
    if paths < 1:
        raise ValueError("paths must be at least 1")
    steps = default_steps(hours)
    model = bootstrap_model(paths, steps, hours)
    search = search or MoveSearch(compiled)
    keys = compiled.price_keys
    out = [Odds(None, "no cross position: its isolated positions have their own figures")] * compiled.n_accounts
    for a in range(compiled.n_accounts):
        legs = np.flatnonzero(search.account == a)
        if not search.has_cross[a] or not len(legs):
            continue
        own = np.unique(search.price[legs])
        missing = [k for k in own if not np.isfinite(marks[k])]
        if missing:
            k = missing[0]
            out[a] = Odds(None, f"the cross account waits for the mark of {keys[k][1]} on {keys[k][0]}", model=model)
            continue
        surplus = CrossSurplus(search, legs, marks)
        returns = joint_returns([series[k] for k in surplus.keys])
        if returns is None:
            unknown = next((k for k in surplus.keys if series[k] is None), surplus.keys[0])
            out[a] = Odds(None, no_history_reason(keys[unknown]), model=model)
            continue
        if surplus(marks[surplus.keys][None, :])[0, a] <= 0:
            out[a] = Odds(1.0, standard_error=0.0, model=model)
            continue
        p = _account_hits(surplus, a, marks[surplus.keys], returns, paths, steps, hours, seed + a)
        out[a] = Odds(p, standard_error=math.sqrt(p * (1 - p) / paths), model=model)
    return out


def _account_hits(
    surplus: CrossSurplus,
    account: int,
    base: np.ndarray,
    returns: np.ndarray,
    paths: int,
    steps: int,
    hours: float,
    seed: int,
) -> float:
    """The share of bootstrap paths on which the account's cross surplus is <= 0 at some step."""
    rng = np.random.default_rng(seed)
    chunk = max(1, min(paths, _CELLS_PER_CHUNK // (steps * returns.shape[1])))
    hits = 0
    for start in range(0, paths, chunk):
        m = min(chunk, paths - start)
        walk = _draws(returns, m, steps, hours, rng)
        hit = np.zeros(m, dtype=bool)
        for t in range(steps):
            hit |= surplus(base * np.exp(walk[t]))[:, account] <= 0
        hits += int(hit.sum())
    return hits / paths
