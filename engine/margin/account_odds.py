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

from engine.margin.liquidation_odds import DEFAULT_PATHS, Odds, horizon_years, no_volatility_reason
from engine.margin.vectorised import CompiledBook
from engine.margin.vectorised_stress import MoveSearch

_CELLS_PER_CHUNK = 2_000_000
"""Steps x paths x symbols of the walk drawn at once: bounds the memory of a long horizon (16 MB)."""
_ROWS_PER_CHUNK = 1024
"""Antithetic pairs evaluated at once."""


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


def _unit(ratio: np.ndarray) -> np.ndarray:
    """A ratio z / z_now in (0, inf) mapped monotonically into (0, 1), so that symbol k's z lie in (k, k + 1) and
    one sorted array of breakpoints serves every symbol (arctan keeps far ratios apart, unlike tanh)."""
    with np.errstate(divide="ignore"):
        return np.arctan(np.log(ratio)) / np.pi + 0.5


class CrossSurplus:
    """The cross surplus of a compiled book's accounts at many mark vectors: MoveSearch.cross_surplus's sum over
    the given cross legs, computed per symbol rather than per leg.

    Between two tier bounds a leg's maintenance margin is a line (notional * rate - amount), so its surplus is
    a * z + b (z: the mark, or 1 / mark for an inverse contract), and an account's cross surplus is a sum over
    its symbols of A * z plus a constant: one (paths x symbols) @ (symbols x accounts) product at the tiers
    the legs are in now. Where a path's mark has left its symbol's band (every leg of it still in today's
    tier), the line of the segment it is in (between two consecutive tier bounds of that symbol's legs,
    precomputed per account) replaces today's. Tables whose tier bounds are not ascending are left to
    MoveSearch. Equal to MoveSearch.cross_surplus to rounding (tested)."""

    def __init__(self, search: MoveSearch, legs: np.ndarray, marks: np.ndarray) -> None:
        c = search.compiled
        self.search, self.legs = search, legs
        self.keys = np.unique(search.price[legs])
        """The symbols (compiled price-key indices) __call__ takes marks of, in this order."""
        self.column = np.searchsorted(self.keys, search.price[legs])
        self.direct = not c.tiers_ordered
        self.key_inverse = np.zeros(len(self.keys), dtype=bool)
        self.key_inverse[self.column] = search.inverse[legs]
        self.account = search.account[legs]
        self.n_accounts = search.n_accounts
        self.reference = self._z(marks[self.keys][None, :])[0]
        """Each symbol's z at the current marks."""
        a, b, low, high = self._lines(self.reference[self.column], np.arange(len(legs)))
        n_keys = len(self.keys)
        self.coefficient, base = self._by_account(self.column, np.arange(len(legs)), a, b, n_keys)
        self.constant = c.cross_wallet + base.sum(axis=0)
        self.low = np.full(n_keys, -np.inf)
        np.maximum.at(self.low, self.column, low)
        self.high = np.full(n_keys, np.inf)
        np.minimum.at(self.high, self.column, high)
        self._segments(base)

    def _z(self, key_marks: np.ndarray) -> np.ndarray:
        return np.where(self.key_inverse, 1.0 / key_marks, key_marks) if self.key_inverse.any() else key_marks

    def _lines(self, z: np.ndarray, leg: np.ndarray) -> tuple[np.ndarray, ...]:
        """For legs (indices into self.legs) at z each: the line (a, b) of their surplus in the tier they are in
        there, and that tier's band [low, high) in z."""
        search, c = self.search, self.search.compiled
        nu, slope, offset = search.nu[self.legs[leg]], search.slope[self.legs[leg]], search.offset[self.legs[leg]]
        bounds = search.bounds[:, self.legs[leg]]
        tier = np.zeros(len(leg), dtype=np.intp)
        for row in bounds[1:]:
            tier += row <= nu * z
        flat = search.base[self.legs[leg]] + tier
        rate, amount = c.tier_rate.take(flat), c.tier_amount.take(flat)
        ends = np.vstack([np.full(len(leg), -np.inf), bounds[1:], np.full(len(leg), np.inf)])
        at = np.arange(len(leg))
        fixed = search.is_fixed[self.legs[leg]]
        with np.errstate(divide="ignore", invalid="ignore"):
            low = np.where(fixed, -np.inf, ends[tier, at] / nu)
            high = np.where(fixed, np.inf, ends[tier + 1, at] / nu)
        a = np.where(fixed, slope, slope - nu * rate)
        b = np.where(fixed, offset - search.fixed[self.legs[leg]], offset + amount)
        return a, b, low, high

    def _by_account(
        self, row: np.ndarray, leg: np.ndarray, a: np.ndarray, b: np.ndarray, n_rows: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(n_rows, accounts) sums of a and of b by (row, the account of leg)."""
        bins = row * self.n_accounts + self.account[leg]
        size = n_rows * self.n_accounts
        shape = (n_rows, self.n_accounts)
        return np.bincount(bins, a, size).reshape(shape), np.bincount(bins, b, size).reshape(shape)

    def _segments(self, base: np.ndarray) -> None:
        """Every tier bound of every leg, in z, as breakpoints of its symbol (one sorted array over all symbols,
        through _unit); for each segment between two, its accounts' line less today's (delta_a, delta_b)."""
        search, n_keys = self.search, len(self.keys)
        with np.errstate(divide="ignore", invalid="ignore"):
            bound_z = search.bounds[1:, self.legs] / search.nu[self.legs]
        bound_z = np.where(search.is_fixed[self.legs], np.inf, bound_z)
        t, leg = np.nonzero(np.isfinite(bound_z) & (bound_z > 0))
        key = self.column[leg]
        breaks = key + _unit(bound_z[t, leg] / self.reference[key])
        self.breaks = np.unique(np.concatenate([breaks, np.arange(1, n_keys, dtype=float)]))
        edges = np.concatenate([[0.0], self.breaks, [float(n_keys)]])
        segment_key = np.minimum(np.floor((edges[:-1] + edges[1:]) / 2).astype(np.intp), n_keys - 1)
        lo, hi = edges[:-1] - segment_key, edges[1:] - segment_key  # within (0, 1): the symbol's own
        ref = self.reference[segment_key]
        with np.errstate(over="ignore", invalid="ignore"):
            z_lo = np.where(lo <= 0, 0.0, ref * np.exp(np.tan((lo - 0.5) * np.pi)))
            z_hi = np.where(hi >= 1, np.inf, ref * np.exp(np.tan((hi - 0.5) * np.pi)))
            inside = np.where(z_lo == 0, z_hi / 2, np.where(np.isinf(z_hi), z_lo * 2, np.sqrt(z_lo * z_hi)))
        inside = np.where(np.isfinite(inside) & (inside > 0), inside, ref)  # a symbol without any bound
        # Every leg of each segment's symbol, at a point inside the segment.
        order = np.argsort(self.column, kind="stable")
        first = np.searchsorted(self.column[order], np.arange(n_keys))
        per = np.bincount(self.column, minlength=n_keys)[segment_key]
        segment = np.repeat(np.arange(len(segment_key)), per)
        start = np.repeat(first[segment_key] - np.cumsum(per) + per, per)
        legs = order[start + np.arange(len(segment))]
        a, b, _, _ = self._lines(inside[segment], legs)
        line_a, line_b = self._by_account(segment, legs, a, b, len(segment_key))
        self.delta_a = line_a - self.coefficient[segment_key]
        self.delta_b = line_b - base[segment_key]

    def __call__(self, key_marks: np.ndarray) -> np.ndarray:
        """Cross surplus per account (n, accounts) at marks (n, len(self.keys)), in self.keys order."""
        if self.direct:
            return self.search.cross_surplus(key_marks[:, self.column], self.legs)
        z = self._z(key_marks)
        surplus = z @ self.coefficient + self.constant
        rows, keys = np.nonzero((z < self.low) | (z >= self.high))
        if len(rows):  # some leg of that symbol left today's tier: the line of the segment it is in instead
            ze = z[rows, keys]
            g = np.searchsorted(self.breaks, keys + _unit(ze / self.reference[keys]), side="right")
            change = self.delta_a[g] * ze[:, None] + self.delta_b[g]
            bins = (rows[:, None] * self.n_accounts + np.arange(self.n_accounts)).ravel()
            surplus += np.bincount(bins, change.ravel(), minlength=surplus.size).reshape(surplus.shape)
        return surplus


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
    unknown = np.argwhere(~np.isfinite(corr[np.ix_(own, own)]))
    if len(unknown):
        i, j = own[unknown[0]]
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
    surplus = CrossSurplus(search, legs, marks)
    keys = surplus.keys  # the simulated marks
    rho = np.nan_to_num(correlation[np.ix_(keys, keys)], nan=0.0)  # NaN only between keys no account shares
    np.fill_diagonal(rho, 1.0)
    sigma = volatility[keys]
    a_matrix = factor(rho * np.outer(sigma, sigma) * (years / steps))
    base = marks[keys]
    rng = np.random.default_rng(seed)
    # Per step the arrays are (2 x chunk, keys): small enough to stay in the processor's cache.
    chunk = max(1, min(_ROWS_PER_CHUNK, _CELLS_PER_CHUNK // (steps * len(keys))))
    totals = np.zeros(search.n_accounts)
    squares = np.zeros(search.n_accounts)
    for start in range(0, pairs, chunk):
        m = min(chunk, pairs - start)
        # (steps, m, keys): one correlated log-return per key and step, cumulated along the path.
        walk = np.cumsum(rng.standard_normal((steps, m, len(keys))) @ a_matrix.T, axis=0)
        hit = np.zeros((2 * m, search.n_accounts), dtype=bool)
        for t in range(steps):
            both = np.concatenate([walk[t], -walk[t]])  # the antithetic pair: the same draw, sign flipped
            hit |= surplus(base * np.exp(both)) <= 0
        hit = hit.reshape(2, m, -1)
        pair_mean = hit.mean(axis=0)  # (m, accounts): 0, 0.5 or 1
        totals += pair_mean.sum(axis=0)
        squares += (pair_mean**2).sum(axis=0)
    mean = totals / pairs
    variance = (squares - pairs * mean**2) / max(1, pairs - 1)
    return mean, np.sqrt(np.clip(variance, 0.0, None) / pairs)
