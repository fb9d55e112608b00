"""The segment scan of engine.margin.vectorised: liquidation prices of the groups Newton cannot solve.

Those are the two legs of a hedge-mode pair and tier tables whose maintenance margin jumps at a boundary
(OKX, Gate). Each group's surplus is a line on every tier segment (engine.margin.liquidation.segment_line),
precomputed at compile time: only the backing moves with prices, so each recompute is a handful of array
operations over (groups, segments). A root is either on a segment or at a boundary the surplus jumps across.
"""

from __future__ import annotations

import itertools

import numpy as np

from engine.margin.layout import BookLayout
from engine.margin.liquidation import PRICE_RANGE, Leg, segment_edges, segment_line, segment_midpoint


def in_range(prices: np.ndarray) -> np.ndarray:
    """NaN for a price outside PRICE_RANGE: no liquidation price, as engine.margin.liquidation says."""
    with np.errstate(invalid="ignore"):
        return np.where((prices >= PRICE_RANGE[0]) & (prices <= PRICE_RANGE[1]), prices, np.nan)


def tiers_continuous(leg: Leg) -> bool:
    """True when the leg's maintenance margin has no jump at any tier boundary."""
    for below, above in itertools.pairwise(leg.tiers):
        edge = above.lower
        under = edge * below.rate - below.amount  # below.maintenance(edge), once
        if abs(under - (edge * above.rate - above.amount)) > 1e-9 * max(1.0, abs(under)):
            return False
    return True


class SegmentScan:
    """Precomputed tier segments of the groups solved by scanning (at most two legs each)."""

    def __init__(self, layout: BookLayout, groups: list[int]) -> None:
        self.groups = np.array(groups, dtype=np.intp)
        self.first_leg = np.array([layout.groups[g][0] for g in groups], dtype=np.intp)
        per_group = []
        for g in groups:
            legs = [layout.legs[k].leg for k in layout.groups[g]]
            edges = segment_edges(legs)
            lines = [segment_line(legs, 0.0, segment_midpoint(lo, hi)) for lo, hi in itertools.pairwise(edges)]
            per_group.append((edges, lines))
        width = max((len(lines) for _, lines in per_group), default=1)
        n = len(groups)
        self.lo = np.full((n, width), np.inf)
        self.hi = np.full((n, width), np.inf)
        self.slope = np.zeros((n, width))
        self.constant = np.zeros((n, width))
        self.real = np.zeros((n, width), dtype=bool)
        for i, (edges, lines) in enumerate(per_group):
            m = len(lines)
            self.lo[i, :m] = edges[:-1]
            self.hi[i, :m] = edges[1:]
            self.slope[i, :m] = [a for a, _ in lines]
            self.constant[i, :m] = [b for _, b in lines]
            self.real[i, :m] = True
        has_root = self.real & (self.slope != 0)
        self.jump_edge = self.real[:, 1:]
        # Precomputed so each recompute does fewer operations, to the same bits: z = b / -slope is -b / slope
        # (a division rounds the same either sign); z in [lo, hi] and z > 0 (the smallest double above 0 is
        # 5e-324) on a segment with a root, as one interval, empty elsewhere; the lines' slope times each edge.
        self.neg_slope = -self.slope
        self.root_lo = np.where(has_root, np.maximum(self.lo, 5e-324), np.inf)
        self.root_hi = np.where(has_root, self.hi, -np.inf)
        self.edge = self.lo[:, 1:]
        with np.errstate(invalid="ignore"):  # inf * 0 past the last real segment: never a jump edge
            self.left_slope_edge = self.slope[:, :-1] * self.edge
            self.right_slope_edge = self.slope[:, 1:] * self.edge

    def candidates(self, backing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidate roots in z, shape (groups, 2*width - 1): segment roots then tier-jump edges, and whether each
        is one (bool, same shape): on its segment and above 0, or at an edge the surplus changes sign across."""
        b = self.constant + backing[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            z = b / self.neg_slope
        inside = z >= self.root_lo
        inside &= z <= self.root_hi
        # A jump at the edge between segment m-1 and m: the surplus changes sign across it.
        left = self.left_slope_edge + b[:, :-1]
        right = self.right_slope_edge + b[:, 1:]
        jump = (left > 0) != (right > 0)
        jump &= right != 0
        jump &= self.jump_edge
        return np.concatenate([z, self.edge], axis=1), np.concatenate([inside, jump], axis=1)

    def nearest_prices(self, backing: np.ndarray, inverse: np.ndarray, mark: np.ndarray) -> np.ndarray:
        """Per scanned group, the root price nearest its mark (NaN when none is in PRICE_RANGE, or the mark is
        missing); backing, inverse and mark are the group's first leg's (shape (groups,))."""
        z, valid = self.candidates(backing)
        with np.errstate(divide="ignore"):
            prices = np.where(inverse[:, None], 1.0 / z, z) if inverse.any() else z
        valid &= prices >= PRICE_RANGE[0]
        valid &= prices <= PRICE_RANGE[1]
        valid &= ~np.isnan(mark)[:, None]
        gap = np.where(valid, np.abs(prices - mark[:, None]), np.inf)
        rows = np.arange(len(backing))
        best = gap.argmin(axis=1)
        return np.where(np.isinf(gap[rows, best]), np.nan, prices[rows, best])
