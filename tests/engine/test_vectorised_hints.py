"""The whole-book recompute keeps hints between calls (the tier each root was last found in, each leg's tier
and its figures at the mark): they may make it faster, never change a number. Each recompute after others must
equal a fresh book's, bit for bit."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.margin.vectorised import CompiledBook
from tests.benchmarks.bench_recompute import build_book
from tests.engine.strategies import books


def _same(a, b) -> None:
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), field.name


def test_a_recompute_after_others_equals_a_fresh_books_bit_for_bit():
    book, prices = build_book()
    warm = CompiledBook(book)
    marks = warm.prices_from(prices)
    rng = np.random.default_rng(3)
    # Small moves (most roots stay in their tier), jumps (many change tier), a missing mark, and back.
    moves = [marks * np.exp(rng.normal(0, s, size=marks.shape)) for s in (0.01, 0.01, 0.3, 0.01, 0.6)]
    gap = moves[1].copy()
    gap[::7] = np.nan
    moves.insert(2, gap)
    moves.append(marks)
    roots_moved = marks_moved = 0
    for m in moves:
        before = None if warm.newton.hint is None else warm.newton.hint.copy()
        at_mark = warm._at_mark
        _same(warm.recompute(m), CompiledBook(book).recompute(m))
        if before is not None:
            roots_moved += int((warm.newton.hint != before).sum())
        if at_mark is not None:
            marks_moved += int((warm._at_mark[0] != at_mark[0]).sum())
    # the hints were used, and some were wrong (roots' tiers and marks' tiers alike)
    assert warm.tiers_ordered and roots_moved > 0 and marks_moved > 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(max_positions=12), st.integers(0, 2**32 - 1))
def test_tiers_counted_afresh_give_the_same_bits_as_tiers_kept_from_the_last_recompute(case, seed):
    """The kept tiers (at the mark, and of the roots) are only ever a guess that is checked: a book that counts
    every tier at every recompute (as one whose tier bounds are not ascending does) gives the same bits."""
    book, prices = case
    kept, counted = CompiledBook(book), CompiledBook(book)
    counted.tiers_ordered = counted.tiers.ordered = False
    marks = kept.prices_from(prices)
    rng = np.random.default_rng(seed)
    for scale in (0.0, 0.001, 0.05, 0.5, 0.01):
        moved = marks * np.exp(rng.normal(0, scale, size=marks.shape))
        _same(kept.recompute(moved), counted.recompute(moved))
