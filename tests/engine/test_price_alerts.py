"""Price alerts (issue 18): the rules read from the file and the setting, the watch that fires them on the real
marks (crossing, already beyond, hysteresis, never on a stale or shocked price), through the session's frames and
the channels' payload."""

from __future__ import annotations

import json

import pytest

from engine.alerts.channels import Channel, ChannelKind
from engine.alerts.dispatcher import Dispatcher
from engine.alerts.notice import alert_notice
from engine.alerts.relay import AlertRelay
from engine.book.portfolio import PortfolioError, dumps_portfolio, loads_portfolio, parse_portfolio
from engine.book.price_alert_rules import Direction, PriceAlert, price_alert_violations, read_price_alerts
from engine.market.prices import MarkRecord, PriceSource, Shock
from engine.monitor.alerts import AlertPolicy
from engine.monitor.levels import Level
from engine.monitor.price_alerts import REARM, PriceAlertWatch
from engine.monitor.session import WatchSession
from tests.alert_receiver import AlertReceiver
from tests.portfolio_docs import portfolio_doc

BTC = ("binanceusdm", "BTC/USDT:USDT")
BELOW = PriceAlert("binanceusdm", "BTC/USDT:USDT", Direction.BELOW, 85_000.0, "add margin")
ABOVE = PriceAlert("binanceusdm", "BTC/USDT:USDT", Direction.ABOVE, 100_000.0)


def live(mark: float, at: float) -> dict:
    return {BTC: MarkRecord(mark, PriceSource.LIVE, at)}


def run(watch: PriceAlertWatch, marks, start: float = 1000.0, step: float = 1.0, policy=None):
    """Feed fresh live marks one per `step` seconds; the alerts of each step."""
    policy = policy or AlertPolicy()
    return [watch.check(live(m, start + i * step), start + i * step, 15.0, policy) for i, m in enumerate(marks)]


@pytest.mark.parametrize(
    ("rule", "marks", "fires_at"),
    [
        (BELOW, [86_000, 85_500, 84_990, 84_000], [2]),
        (BELOW, [86_000, 85_000.0], [1]),  # touching the level counts
        (ABOVE, [99_000, 99_999, 100_000.5, 101_000], [2]),
        (ABOVE, [101_000 - 2_000, 100_000.0], [1]),
    ],
)
def test_a_rule_fires_once_when_the_mark_crosses_its_level_in_either_direction(rule, marks, fires_at):
    steps = run(PriceAlertWatch([rule]), marks)
    assert [i for i, alerts in enumerate(steps) if alerts] == fires_at
    alert = steps[fires_at[0]][0]
    assert (alert.kind, alert.rule, alert.mark, alert.already) == ("price", rule, marks[fires_at[0]], False)
    moved = "fell below" if rule.direction is Direction.BELOW else "rose above"
    assert f"BTC/USDT:USDT on binanceusdm{' (add margin)' if rule.note else ''} {moved}" in alert.line()


def test_a_mark_already_beyond_the_level_at_start_fires_and_says_already():
    (first, *rest) = run(PriceAlertWatch([BELOW]), [80_000, 79_000, 84_000])
    (alert,) = first
    assert alert.already
    assert alert.line() == "BTC/USDT:USDT on binanceusdm (add margin) is already below 85,000.00 USDT, mark 80,000.00"
    assert rest == [[], []]


def test_a_mark_sitting_on_the_level_fires_once_and_rearms_only_past_the_margin():
    wobble = [85_010, 84_990, 85_020, 84_980, 85_050, 84_950, 85_000]  # within 0.1 % of the level
    policy = AlertPolicy(repeat_after=0.0)  # the rate limit out of the way: the hysteresis alone
    steps = run(PriceAlertWatch([BELOW]), wobble, policy=policy)
    assert sum(len(a) for a in steps) == 1
    watch = PriceAlertWatch([BELOW])
    back = 85_000 * (1 + REARM)
    steps = run(watch, [84_000, back, 84_000, back + 10, 84_000], policy=policy)
    assert [len(a) for a in steps] == [1, 0, 0, 0, 1]  # exactly at the margin is not past it


def test_a_second_firing_within_the_rate_limit_is_counted_into_the_first():
    steps = run(PriceAlertWatch([BELOW]), [86_000, 84_000, 86_000, 84_000], step=10.0)
    first, again = steps[1][0], steps[3][0]
    assert (first.repeat, again.repeat, again.count, again.group) == (False, True, 2, first.group)
    assert again.line().endswith("fell below 85,000.00 USDT ×2 in 20 s, mark 84,000.00")


def test_a_stale_price_neither_fires_nor_rearms_a_rule():
    watch, policy = PriceAlertWatch([BELOW]), AlertPolicy()
    old = MarkRecord(80_000, PriceSource.LIVE, 1000.0)
    assert watch.check({BTC: old}, 1000.0 + 16, 15.0, policy) == []
    assert watch.check({BTC: MarkRecord(80_000, PriceSource.MANUAL, 1000.0)}, 5000.0, 15.0, policy) != []  # typed
    assert watch.check({BTC: MarkRecord(90_000, PriceSource.LIVE, 6000.0)}, 6100.0, 15.0, policy) == []
    assert watch.fired(BELOW)  # the stale 90,000 did not re-arm it


def test_rules_kept_across_a_change_keep_whether_they_fired():
    watch = PriceAlertWatch([BELOW])
    run(watch, [84_000])
    watch.set_rules([BELOW, ABOVE, BELOW])
    assert watch.rules == (BELOW, ABOVE)
    assert watch.fired(BELOW) and not watch.fired(ABOVE)


def session_with(rule: PriceAlert, now: list[float]) -> WatchSession:
    doc = portfolio_doc(prices={"BTC/USDT:USDT": 90_000}, price_alerts=[rule.to_dict()])
    return WatchSession(parse_portfolio(doc), clock=lambda: now[0])


def test_the_session_raises_price_alerts_on_the_real_marks_never_on_a_shock_preview():
    now = [1000.0]
    session = session_with(BELOW, now)
    assert session.step(live(90_000, now[0])).alerts == []
    session.set_shock(Shock(all_symbols=-0.2))  # the preview shows 72,000: no alert
    frame = session.step(live(90_000, now[0]))
    assert frame.marks[BTC] == pytest.approx(72_000) and frame.alerts == []
    session.set_shock(None)
    now[0] += 1
    (alert,) = session.step(live(84_500, now[0])).alerts
    assert (alert.kind, alert.new, alert.mark) == ("price", Level.WARNING, 84_500)


def test_the_webhook_receives_one_post_with_the_price_alerts_json():
    now = [1_796_090_000.0]  # 2026-12-01T01:53:20Z
    session = session_with(BELOW, now)
    with AlertReceiver() as rx:
        dispatcher = Dispatcher([Channel("ops", ChannelKind.WEBHOOK, url=rx.url("/hook"), min_level=Level.DANGER)])
        relay = AlertRelay(dispatcher, {"main": "binanceusdm"}, [BTC], 15.0, 120.0)
        for mark in (90_000, 84_900, 84_800):  # fires once; the next step is still below: nothing more
            now[0] += 1
            relay.on_step(session.step(live(mark, now[0])))
        assert relay.close(timeout=10)
        (request,) = rx.requests
    assert request.json() == {
        "kind": "price",
        "account": None,
        "exchange": "binanceusdm",
        "symbol": "BTC/USDT:USDT",
        "side": None,
        "level": None,
        "previous_level": None,
        "distance": None,
        "mark": 84_900,
        "liquidation_price": None,
        "quote_currency": "USDT",
        "time": "2026-12-01T01:53:22Z",
        "text": "PRICE: BTC/USDT:USDT on binanceusdm (add margin) fell below 85,000.00 USDT, mark 84,900.00 USDT",
        "direction": "below",
        "price": 85_000.0,
    }


def test_a_level_alerts_payload_keeps_its_fields():
    now = [1000.0]
    session = session_with(BELOW, now)
    (alert,) = session.step(live(40_000, now[0])).alerts[-1:]  # far below: the position's level and the rule
    level = next(a for a in session.frame.alerts if a.kind == "level")
    assert "direction" not in alert_notice(level, {"main": "binanceusdm"}).to_json()
    assert alert_notice(alert, {}).to_json()["direction"] == "below"


def test_the_portfolio_file_round_trips_its_price_alerts():
    doc = portfolio_doc(price_alerts=[BELOW.to_dict(), ABOVE.to_dict()])
    portfolio = parse_portfolio(doc)
    assert portfolio.price_alerts == (BELOW, ABOVE)
    again = loads_portfolio(dumps_portfolio(portfolio))
    assert again.price_alerts == (BELOW, ABOVE)
    assert "price_alerts" not in json.loads(dumps_portfolio(parse_portfolio(portfolio_doc())))


@pytest.mark.parametrize(
    ("entry", "line"),
    [
        ({"price": -5}, "price alert 2: 'price' must be a price greater than 0 (got -5)"),
        ({"price": "85k"}, "price alert 2: 'price' must be a number, not \"85k\""),
        ({"direction": "under"}, "price alert 2: 'direction' must be 'above' or 'below', not \"under\""),
        ({"symbol": ""}, "price alert 2: 'symbol' must not be empty"),
        ({"colour": "red"}, "price alert 2: 'colour' is not a field of a price alert"),
    ],
)
def test_a_bad_entry_is_one_line_naming_the_field_and_nothing_is_kept(entry, line):
    doc = portfolio_doc(price_alerts=[BELOW.to_dict(), {**ABOVE.to_dict(), **entry}])
    with pytest.raises(PortfolioError) as raised:
        parse_portfolio(doc)
    assert str(raised.value).startswith(line)
    assert read_price_alerts(doc["price_alerts"])[0] == []


def test_a_missing_or_infinite_price_is_refused():
    item = ABOVE.to_dict()
    del item["price"]
    assert price_alert_violations(item)[1][0].message == "price alert 1: 'price' is missing"
    item["price"] = float("inf")
    assert price_alert_violations(item)[1][0].message == "price alert 1: 'price' must be a finite number"
    assert read_price_alerts({"a": 1})[1][0].message == "'price_alerts' must be a list, not an object"


def test_the_saved_book_keeps_its_price_alerts_in_a_setting_and_export_writes_them(tmp_path):
    from engine.book.price_alert_rules import PRICE_ALERTS_SETTING
    from engine.storage.database import BookDatabase

    path = tmp_path / "book.sqlite3"
    with BookDatabase.open(path) as db:
        db.import_portfolio(parse_portfolio(portfolio_doc()))
        assert db.load().price_alerts == ()
        db.set_price_alerts([BELOW, ABOVE])
    with BookDatabase.open(path, read_only=True) as db:
        assert db.load().price_alerts == (BELOW, ABOVE)
        assert db.document()["price_alerts"] == [BELOW.to_dict(), ABOVE.to_dict()]
    with BookDatabase.open(path) as db:
        db.set_setting(PRICE_ALERTS_SETTING, [BELOW.to_dict(), {"price": 0}])  # edited by hand: none, not half
        assert db.load().price_alerts == ()


def test_importing_a_file_keeps_its_price_alerts_and_a_book_without_any_leaves_them(tmp_path):
    from engine.storage.database import BookDatabase

    with BookDatabase.open(tmp_path / "book.sqlite3") as db:
        db.import_portfolio(parse_portfolio(portfolio_doc(price_alerts=[BELOW.to_dict()])))
        assert db.price_alerts() == (BELOW,)
        db.import_portfolio(parse_portfolio(portfolio_doc(name="other", price_alerts=[ABOVE.to_dict()])))
        assert db.price_alerts() == (BELOW, ABOVE)  # added to
        db.import_portfolio(parse_portfolio(portfolio_doc()), replace=True)  # as a sync or an edit writes the book
        assert db.price_alerts() == (BELOW, ABOVE)
        db.import_portfolio(parse_portfolio(portfolio_doc(price_alerts=[ABOVE.to_dict()])), replace=True)
        assert db.price_alerts() == (ABOVE,)
        # `import --replace` of a file without any: the whole book is the file's, so no price alert outlives it
        db.import_portfolio(parse_portfolio(portfolio_doc()), replace=True, price_alerts_too=True)
        assert db.price_alerts() == ()


def test_an_exchange_id_is_read_in_lower_case_and_a_list_over_a_thousand_is_refused():
    shouted = {**BELOW.to_dict(), "exchange": " BINANCEUSDM "}
    (rule,) = parse_portfolio(portfolio_doc(price_alerts=[shouted])).price_alerts
    assert rule.key == BELOW.key  # the book's prices are keyed by ccxt's lower-case id: it can fire
    many = [{**BELOW.to_dict(), "price": 1_000 + i} for i in range(1_001)]
    with pytest.raises(PortfolioError, match=r"^'price_alerts' holds 1,001 rules; at most 1,000"):
        parse_portfolio(portfolio_doc(price_alerts=many))


def test_the_sessions_rules_survive_a_new_book_and_its_portfolio_carries_them():
    now = [1000.0]
    session = session_with(BELOW, now)
    session.step(live(84_000, now[0]))
    session.use_portfolio(parse_portfolio(portfolio_doc(wallet_balance=20_000)))  # an edit, a sync: no rules in it
    assert session.price_alerts.rules == (BELOW,) and session.portfolio.price_alerts == (BELOW,)
    assert session.price_alerts.fired(BELOW)  # not fired again by the edit
    now[0] += 1
    assert [a for a in session.step(live(84_000, now[0])).alerts if a.kind == "price"] == []
    session.set_price_alerts([])
    assert session.portfolio.price_alerts == () and "price_alerts" not in json.loads(dumps_portfolio(session.portfolio))


def test_a_null_or_missing_note_is_no_note_and_a_note_of_another_kind_is_refused():
    item = ABOVE.to_dict()
    assert "note" not in item
    assert price_alert_violations(item) == (ABOVE, [])
    assert price_alert_violations({**item, "note": None}) == (ABOVE, [])
    (problem,) = price_alert_violations({**item, "note": 5})[1]
    assert problem.message == "price alert 1: 'note' must be a string, not 5"


def test_two_rules_at_one_level_with_different_notes_each_fire_with_their_own_note():
    call_bob = PriceAlert(*BELOW.key, Direction.BELOW, 85_000.0, "call Bob")
    (alerts,) = run(PriceAlertWatch([BELOW, call_bob]), [84_000])
    assert [a.rule for a in alerts] == [BELOW, call_bob]
    assert not any(a.repeat for a in alerts)
    lines = [a.line() for a in alerts]
    assert "(add margin)" in lines[0] and "(call Bob)" in lines[1]
