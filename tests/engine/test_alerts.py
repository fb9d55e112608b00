"""Alert policy: rises alert, repeats are grouped and rate-limited at every level (liquidated included),
escalation always gets through, a stale price alerts once."""

from __future__ import annotations

import math

import pytest

from engine.monitor.alerts import AlertPolicy
from engine.monitor.levels import Crossing, Level, LevelTracker

OK, WARN, DANGER, LIQ = Level.OK, Level.WARNING, Level.DANGER, Level.LIQUIDATED


def cross(old: Level, new: Level) -> Crossing:
    return Crossing("p", old, new)


def test_a_rise_alerts_and_a_fall_does_not():
    policy = AlertPolicy()
    assert policy.on_crossing("p", cross(OK, WARN), 0, "BTC", 0.1, 1.0).new is WARN
    assert policy.on_crossing("p", cross(WARN, OK), 1, "BTC", 0.2, 1.0) is None
    assert policy.on_crossing("p", None, 2, "BTC", 0.2, 1.0) is None


def test_repeats_are_grouped_and_rate_limited_at_every_level_and_escalation_always_gets_through():
    policy = AlertPolicy(repeat_after=300)
    assert not policy.on_crossing("p", cross(OK, WARN), 0, "BTC", 0.1, 1.0).repeat
    policy.on_crossing("p", cross(WARN, OK), 10, "BTC", 0.2, 1.0)
    again = policy.on_crossing("p", cross(OK, WARN), 20, "BTC", 0.1, 1.0)  # within 5 minutes: counted, not new
    assert again.repeat and again.count == 2 and again.group == ("p", WARN)
    assert policy.on_crossing("p", cross(WARN, DANGER), 30, "BTC", 0.03, 1.0).count == 1  # escalation: new
    assert policy.on_crossing("p", cross(DANGER, LIQ), 31, "BTC", -0.01, 1.0).count == 1
    assert policy.on_crossing("p", cross(DANGER, LIQ), 33, "BTC", -0.01, 1.0).repeat  # liquidated is limited too
    assert policy.on_crossing("p", cross(OK, WARN), 40, "BTC", 0.1, 1.0).repeat  # its own group, counted
    assert policy.on_crossing("p", cross(OK, DANGER), 50, "BTC", 0.1, 1.0).repeat
    assert not policy.on_crossing("p", cross(OK, WARN), 400, "BTC", 0.1, 1.0).repeat  # past the interval
    assert not policy.on_crossing("q", cross(OK, WARN), 20, "ETH", 0.1, 1.0).repeat  # per position


def test_a_lesser_rise_after_a_worse_alert_adds_nothing():
    policy = AlertPolicy(repeat_after=300)
    policy.on_crossing("p", cross(OK, DANGER), 0, "BTC", 0.03, 1.0)
    policy.on_crossing("p", cross(DANGER, OK), 5, "BTC", 0.3, 1.0)
    assert policy.on_crossing("p", cross(OK, WARN), 10, "BTC", 0.1, 1.0) is None


def test_four_crossings_into_liquidated_in_seven_seconds_are_one_alert_that_says_so():
    """The issue's example: four 'danger → liquidated' alerts in 7 s for one position."""
    policy = AlertPolicy()
    alerts = [policy.on_crossing("p", cross(DANGER, LIQ), t, "Binance BTC long", -0.001, 1.0) for t in (0, 2, 4.5, 7)]
    assert [a.repeat for a in alerts] == [False, True, True, True]
    assert alerts[-1].count == 4
    assert "danger → liquidated ×4 in 7 s" in alerts[-1].describe()


def _oscillation(liquidation: float, amplitude: float, period: float, seconds: float = 300.0, hz: float = 10.0):
    """A long's (time, distance to liquidation) as its mark swings around the liquidation price."""
    for i in range(int(seconds * hz)):
        t = i / hz
        mark = liquidation * (1 + amplitude * math.sin(2 * math.pi * t / period))
        yield t, (mark - liquidation) / mark


@pytest.mark.parametrize(
    ("amplitude", "crossings", "alerts"),
    [
        (0.005, 1, 1),  # inside the hysteresis band: liquidated once, and it stays liquidated
        (0.03, 44, 1),  # past the band every 7 s: 44 crossings in 5 minutes, one alert row counting them
    ],
)
def test_five_minutes_oscillating_around_a_liquidation_price_make_one_alert(amplitude, crossings, alerts):
    tracker, policy = LevelTracker(), AlertPolicy()
    raised = []
    into_liquidated = 0
    for t, distance in _oscillation(50_000.0, amplitude, period=7.0):
        crossing = tracker.position("p", distance)
        into_liquidated += crossing is not None and crossing.new is LIQ
        alert = policy.on_crossing("p", crossing, t, "BTC long", distance, None)
        if alert is not None and alert.new is LIQ:
            raised.append(alert)
    assert into_liquidated == crossings
    assert sum(not a.repeat for a in raised) == alerts
    assert raised[-1].count == crossings


def test_a_stale_price_alerts_once_per_spell_and_only_at_warning_or_worse():
    policy = AlertPolicy()
    assert policy.on_price_age("p", OK, True, 0, "BTC", 0.3, 1.0) is None
    alert = policy.on_price_age("p", WARN, True, 1, "BTC", 0.1, 1.0)
    assert alert is not None and alert.stale and "stale" in alert.describe()
    assert policy.on_price_age("p", WARN, True, 2, "BTC", 0.1, 1.0) is None
    policy.on_price_age("p", WARN, False, 3, "BTC", 0.1, 1.0)
    assert policy.on_price_age("p", WARN, True, 4, "BTC", 0.1, 1.0) is not None
