"""Levels from distance and margin ratio; hysteresis keeps a hovering price from flickering."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.monitor.levels import Crossing, Level, LevelTracker, Thresholds, distance_level, ratio_level

T = Thresholds()


@pytest.mark.parametrize(
    ("distance", "level"),
    [
        (0.30, Level.OK),
        (0.15, Level.OK),
        (0.149, Level.WARNING),
        (0.05, Level.WARNING),
        (0.049, Level.DANGER),
        (0.0, Level.LIQUIDATED),
        (-0.02, Level.LIQUIDATED),
        (None, Level.OK),
    ],
)
def test_distance_levels_at_the_default_thresholds(distance, level):
    assert distance_level(distance, T) is level


@pytest.mark.parametrize(
    ("ratio", "level"),
    [(0.5, Level.OK), (0.70, Level.WARNING), (0.85, Level.DANGER), (1.0, Level.LIQUIDATED), (None, Level.OK)],
)
def test_margin_ratio_levels_at_the_default_thresholds(ratio, level):
    assert ratio_level(ratio, T) is level


def test_rising_is_immediate_and_hovering_does_not_flicker():
    tracker = LevelTracker()
    crossings = [tracker.position("p", d) for d in (0.20, 0.149, 0.151, 0.149, 0.155, 0.159)]
    assert [c.new if c else None for c in crossings] == [None, Level.WARNING, None, None, None, None]
    back = tracker.position("p", 0.161)  # recovered past 15% + 1%
    assert back is not None and (back.old, back.new) == (Level.WARNING, Level.OK)


def test_escalation_to_liquidated_skips_levels():
    tracker = LevelTracker()
    crossing = tracker.position("p", -0.01)
    assert (crossing.old, crossing.new) == (Level.OK, Level.LIQUIDATED)


def test_leaving_liquidated_needs_the_hysteresis_band_like_every_other_level():
    tracker = LevelTracker()
    assert tracker.position("p", -0.001).new is Level.LIQUIDATED
    assert [tracker.position("p", d) for d in (0.002, 0.009, -0.004, 0.0099)] == [None] * 4  # inside the band
    back = tracker.position("p", 0.011)
    assert (back.old, back.new) == (Level.LIQUIDATED, Level.DANGER)
    many = LevelTracker()  # the vectorised path the window uses, the same band
    steps = [many.positions(["q"], np.array([d]))[0][0] for d in (-0.001, 0.005, 0.0099, 0.011)]
    assert steps == [Level.LIQUIDATED, Level.LIQUIDATED, Level.LIQUIDATED, Level.DANGER]


def test_an_account_leaves_liquidated_only_past_the_band_too():
    tracker = LevelTracker()
    assert tracker.account("a", 1.0).new is Level.LIQUIDATED
    assert tracker.account("a", 0.995) is None
    assert tracker.account("a", 0.98).new is Level.DANGER


def test_accounts_use_the_margin_ratio_with_hysteresis_too():
    tracker = LevelTracker()
    assert tracker.account("a", 0.86).new is Level.DANGER
    assert tracker.account("a", 0.845) is None  # within the band
    assert tracker.account("a", 0.83).new is Level.WARNING
    assert tracker.account("a", 0.5, equity_gone=True).new is Level.LIQUIDATED


def test_thresholds_are_checked():
    with pytest.raises(ValueError, match="danger < warning"):
        Thresholds(distance_warning=0.05, distance_danger=0.10)


_distance = st.one_of(st.none(), st.floats(min_value=-0.2, max_value=0.4, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(st.lists(_distance, min_size=6, max_size=6), min_size=1, max_size=12))
def test_many_positions_at_once_follow_the_same_levels_and_crossings_as_one_by_one(steps):
    """positions() is the window's per-refresh path: it must agree with position() step by step,
    hysteresis included, for every key (keys that hover at a boundary are the point)."""
    keys = [("acct", f"S{i}", "long") for i in range(6)]
    one_by_one, at_once = LevelTracker(), LevelTracker()
    for distances in steps:
        expected = [one_by_one.position(k, d) for k, d in zip(keys, distances, strict=True)]
        array = np.array([np.nan if d is None else d for d in distances])
        levels, crossings = at_once.positions(keys, array)
        assert crossings == [c for c in expected if c is not None]
        assert levels == [one_by_one.levels[k] for k in keys]
        assert all(type(level) is Level for level in levels)


def test_a_position_whose_figures_are_unknown_keeps_its_level():
    """NaN is both 'no liquidation price' (OK) and 'unknown' (a missing mark): only the first may relax."""
    import numpy as np

    from engine.monitor.levels import Level, LevelTracker

    tracker = LevelTracker()
    tracker.positions(["a", "b"], np.array([0.03, 0.03]))
    levels, crossings = tracker.positions(["a", "b"], np.array([np.nan, np.nan]), known=np.array([False, True]))
    assert levels == [Level.DANGER, Level.OK]
    assert [c.key for c in crossings] == ["b"]


def test_the_same_keys_again_see_a_level_changed_in_between_by_update():
    """positions() keeps the last call's levels for the same keys object (not read from the dict again): a
    level that update() changed meanwhile must still be the one the next call starts from."""
    tracker = LevelTracker()
    keys = ["a", "b"]
    levels, _ = tracker.positions(keys, np.array([0.5, 0.5]))
    assert levels == [Level.OK, Level.OK]
    levels.append(Level.DANGER)  # the caller's list is its own
    assert tracker.position("a", 0.001) == Crossing("a", Level.OK, Level.DANGER)  # 0.1% from liquidation
    levels, crossings = tracker.positions(keys, np.array([0.04, 0.5]))  # 4%: still danger (below 5%)
    assert levels == [Level.DANGER, Level.OK] and crossings == []
    levels, crossings = tracker.positions(keys, np.array([0.5, 0.5]))
    assert levels == [Level.OK, Level.OK] and crossings == [Crossing("a", Level.DANGER, Level.OK)]
