"""Alert policy: rises alert, repeats are rate-limited, escalation always gets through, stale once."""

from __future__ import annotations

from engine.alerts import AlertPolicy
from engine.levels import Crossing, Level

OK, WARN, DANGER, LIQ = Level.OK, Level.WARNING, Level.DANGER, Level.LIQUIDATED


def cross(old: Level, new: Level) -> Crossing:
    return Crossing("p", old, new)


def test_a_rise_alerts_and_a_fall_does_not():
    policy = AlertPolicy()
    assert policy.on_crossing("p", cross(OK, WARN), 0, "BTC", 0.1, 1.0).new is WARN
    assert policy.on_crossing("p", cross(WARN, OK), 1, "BTC", 0.2, 1.0) is None
    assert policy.on_crossing("p", None, 2, "BTC", 0.2, 1.0) is None


def test_repeated_warnings_are_rate_limited_but_danger_always_gets_through():
    policy = AlertPolicy(repeat_after=300)
    assert policy.on_crossing("p", cross(OK, WARN), 0, "BTC", 0.1, 1.0)
    policy.on_crossing("p", cross(WARN, OK), 10, "BTC", 0.2, 1.0)
    assert policy.on_crossing("p", cross(OK, WARN), 20, "BTC", 0.1, 1.0) is None  # within 5 minutes
    assert policy.on_crossing("p", cross(WARN, DANGER), 30, "BTC", 0.03, 1.0).new is DANGER
    assert policy.on_crossing("p", cross(DANGER, LIQ), 31, "BTC", -0.01, 1.0).new is LIQ
    assert policy.on_crossing("p", cross(OK, WARN), 400, "BTC", 0.1, 1.0) is not None  # past the interval
    assert policy.on_crossing("q", cross(OK, WARN), 20, "ETH", 0.1, 1.0) is not None  # per position


def test_a_stale_price_alerts_once_per_spell_and_only_at_warning_or_worse():
    policy = AlertPolicy()
    assert policy.on_price_age("p", OK, True, 0, "BTC", 0.3, 1.0) is None
    alert = policy.on_price_age("p", WARN, True, 1, "BTC", 0.1, 1.0)
    assert alert is not None and alert.stale and "stale" in alert.describe()
    assert policy.on_price_age("p", WARN, True, 2, "BTC", 0.1, 1.0) is None
    policy.on_price_age("p", WARN, False, 3, "BTC", 0.1, 1.0)
    assert policy.on_price_age("p", WARN, True, 4, "BTC", 0.1, 1.0) is not None
