"""Thresholds per account and per position (engine.book.thresholds): resolution, levels, alerts, the file and the
saved book."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.book.portfolio import PortfolioError, parse_portfolio, portfolio_to_dict
from engine.book.thresholds import ThresholdOverrides, Thresholds, overrides_from_setting
from engine.market.prices import MarkRecord, PriceSource
from engine.monitor.levels import Level, LevelTracker, distance_level, distance_levels, row_thresholds
from engine.monitor.session import WatchSession
from engine.storage.database import BookDatabase
from tests.portfolio_docs import portfolio_doc, position_doc

BTC = ("binanceusdm", "BTC/USDT:USDT")
ETH = ("binanceusdm", "ETH/USDT:USDT")
TIGHT = Thresholds(distance_warning=0.30, distance_danger=0.10)
LOOSE = Thresholds(distance_warning=0.10, distance_danger=0.02, ratio_warning=0.90, ratio_danger=0.95)


def test_a_position_override_beats_its_accounts_which_beats_the_global_ones():
    o = ThresholdOverrides(Thresholds(), {"swing": LOOSE}, {("swing", "ALT/USDT:USDT", "long"): TIGHT})
    assert o.for_position("swing", "ALT/USDT:USDT", "long") == TIGHT
    assert o.position_source("swing", "ALT/USDT:USDT", "long") == "position"
    assert o.for_position("swing", "ALT/USDT:USDT", "short") == LOOSE  # the other side: the account's
    assert o.position_source("swing", "BTC/USDT:USDT", "long") == "account"
    assert o.for_position("main", "ALT/USDT:USDT", "long") == Thresholds()
    assert o.position_source("main", "ALT/USDT:USDT", "long") == "global"
    assert o.for_account("swing") == LOOSE and o.for_account("main") == Thresholds()
    assert not o.with_account("swing", None).with_position(("swing", "ALT/USDT:USDT", "long"), None)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"distance_warning": 0.04}, "distance_danger"),
        ({"ratio_warning": 0.9}, "ratio_warning"),
        ({"ratio_danger": 1.2}, "ratio_danger"),
        ({"hysteresis": 0.06}, "hysteresis"),
        ({"distance_warning": 8}, "distance_warning"),
    ],
)
def test_a_bad_override_is_refused_naming_its_field(fields, named):
    with pytest.raises(ValueError, match=named):
        Thresholds(**fields)


def _session(doc) -> tuple[WatchSession, list[float]]:
    now = [1000.0]
    return WatchSession(parse_portfolio(doc), clock=lambda: now[0]), now


BOOK = portfolio_doc(
    position_doc(),  # BTC long 0.5 @ 60,000 cross 10x in an 8,000 USDT account
    position_doc("ETH/USDT:USDT", "short", 4, 3_000, "isolated", 20),
    wallet_balance=8_000,
)


def test_a_position_whose_override_warns_where_the_global_would_not_raises_one_alert_that_says_so():
    doc = {
        **BOOK,
        "positions": [BOOK["positions"][0], {**BOOK["positions"][1], "thresholds": {"distance_warning": 0.3}}],
    }
    session, now = _session(doc)
    plain, _ = _session(BOOK)
    marks = {BTC: 60_000.0, ETH: 2_500.0}  # ETH short 20x isolated from 3,000: ~25% from liquidation
    frames = []
    for s in (session, plain):
        frames.append(s.step({k: MarkRecord(m, PriceSource.MANUAL, now[0]) for k, m in marks.items()}))
    with_override, without = frames
    distance = with_override.real.positions[1].distance_to_liquidation
    assert 0.15 < distance < 0.30  # ok at the global 15%, warning at the position's 30%
    assert [r.level for r in with_override.rows] == [Level.OK, Level.WARNING]
    assert [r.level for r in without.rows] == [Level.OK, Level.OK] and without.alerts == []
    [alert] = with_override.alerts
    assert "ETH/USDT:USDT short: ok → warning (position threshold 30%)" in alert.line()
    now[0] += 5  # the same marks again: no new alert
    assert session.step({k: MarkRecord(m, PriceSource.MANUAL, now[0]) for k, m in marks.items()}).alerts == []


def test_an_account_override_sets_its_margin_ratio_level_and_its_words():
    doc = {**BOOK, "accounts": [{**BOOK["accounts"][0], "thresholds": {"ratio_warning": 0.01, "ratio_danger": 0.5}}]}
    session, now = _session(doc)
    frame = session.step(
        {BTC: MarkRecord(60_000.0, PriceSource.MANUAL, now[0]), ETH: MarkRecord(3_000.0, PriceSource.MANUAL, now[0])}
    )
    assert frame.account_levels == [Level.WARNING]
    assert any("→ warning (account threshold 1%)" in a.line() for a in frame.alerts)


def test_what_if_levels_follow_the_overrides():
    doc = {
        **BOOK,
        "positions": [BOOK["positions"][0], {**BOOK["positions"][1], "thresholds": {"distance_warning": 0.3}}],
    }
    session, now = _session(doc)
    from engine.market.prices import Shock

    session.set_shock(Shock(0.001))  # a tiny shock: every row is a what-if row at nearly the same distance
    frame = session.step(
        {BTC: MarkRecord(60_000.0, PriceSource.MANUAL, now[0]), ETH: MarkRecord(2_500.0, PriceSource.MANUAL, now[0])}
    )
    assert [r.level for r in frame.rows] == [Level.OK, Level.WARNING]
    assert all(r.what_if.startswith("what-if") for r in frame.rows)


finite = st.floats(-0.5, 1.5, allow_nan=False)
thresholds = st.builds(
    lambda w, d, h: Thresholds(distance_warning=w, distance_danger=w * d, hysteresis=w * d * h),
    st.floats(0.02, 0.9),
    st.floats(0.05, 0.95),
    st.floats(0.0, 0.9),
)


@given(st.lists(st.tuples(st.one_of(finite, st.just(float("nan"))), thresholds), min_size=1, max_size=40))
def test_vectorised_levels_with_mixed_overrides_equal_the_scalar_ones(rows):
    distances = np.array([d for d, _ in rows])
    per_row = row_thresholds([t for _, t in rows])
    scalar = [distance_level(None if np.isnan(d) else d, t) for d, t in rows]
    relaxed = [distance_level(None if np.isnan(d) else d, t, t.hysteresis) for d, t in rows]
    assert distance_levels(distances, per_row).tolist() == scalar
    assert distance_levels(distances, per_row, per_row.hysteresis).tolist() == relaxed


@given(st.lists(thresholds, min_size=1, max_size=12), st.lists(st.lists(finite, min_size=12, max_size=12), max_size=6))
def test_the_tracker_with_per_row_thresholds_moves_as_one_scalar_tracker_per_row(per_row, steps):
    keys = list(range(len(per_row)))
    vector, scalar = LevelTracker(), LevelTracker()
    for step in steps:
        distances = np.array(step[: len(keys)])
        levels, _ = vector.positions(keys, distances, per_row=row_thresholds(per_row))
        for k, d, t in zip(keys, distances.tolist(), per_row, strict=True):
            scalar.position(k, d, t)
        assert levels == [scalar.levels[k] for k in keys]


def _with_overrides():
    doc = portfolio_doc(position_doc(), position_doc("ETH/USDT:USDT", "short", 4, 3_000, "isolated", 20))
    doc["accounts"][0]["thresholds"] = {"ratio_warning": 0.6, "ratio_danger": 0.8}
    doc["positions"][1]["thresholds"] = {"distance_warning": 0.08, "distance_danger": 0.03}
    return parse_portfolio(doc)


def test_the_portfolio_file_round_trips_the_overrides_and_drops_those_of_gone_positions():
    portfolio = _with_overrides()
    o = portfolio.threshold_overrides
    assert o.for_account("main") == Thresholds(ratio_warning=0.6, ratio_danger=0.8)
    assert o.for_position("main", "ETH/USDT:USDT", "short") == Thresholds(distance_warning=0.08, distance_danger=0.03)
    again = parse_portfolio(portfolio_to_dict(portfolio))
    assert again.threshold_overrides == o
    from dataclasses import replace

    without_eth = replace(portfolio, book=portfolio.book.__class__(*_drop_last(portfolio.book)))
    doc = portfolio_to_dict(without_eth)
    assert "thresholds" in doc["accounts"][0] and all("thresholds" not in p for p in doc["positions"])


def _drop_last(book):
    return book.accounts, book.positions[:-1], book.markets


@pytest.mark.parametrize(
    ("thresholds", "where", "said"),
    [
        (
            {"distance_warning": 0.04},
            "position 1 (BTC/USDT:USDT)",
            "'thresholds.distance_danger': distance_danger 0.05",
        ),
        ({"distance_warning": "8%"}, "position 1 (BTC/USDT:USDT)", "'thresholds.distance_warning' must be a number"),
        ({"warning": 0.1}, "position 1 (BTC/USDT:USDT)", "warning"),
        ([0.1], "position 1 (BTC/USDT:USDT)", "'thresholds' must be an object"),
    ],
)
def test_a_bad_override_in_the_file_is_one_located_line_naming_the_field(thresholds, where, said):
    doc = portfolio_doc(position_doc(thresholds=thresholds))
    with pytest.raises(PortfolioError) as e:
        parse_portfolio(doc)
    message = str(e.value)
    assert "\n" not in message and message.startswith(f"{where}: ") and said in message


def test_two_positions_of_one_account_symbol_and_side_with_different_overrides_are_refused():
    real = position_doc("SOL/USDT:USDT", "short", 10, 150, thresholds={"distance_warning": 0.5, "distance_danger": 0.4})
    hypothetical = {**real, "hypothetical": True, "thresholds": {"distance_warning": 0.3, "distance_danger": 0.12}}
    with pytest.raises(PortfolioError) as e:  # one override per (account, symbol, side): one would be lost
        parse_portfolio(portfolio_doc(real, hypothetical))
    assert str(e.value).startswith("position 2 (SOL/USDT:USDT): 'thresholds' differs from an earlier position's")
    same = parse_portfolio(portfolio_doc(real, {**hypothetical, "thresholds": real["thresholds"]}))
    assert same.threshold_overrides.for_position("main", "SOL/USDT:USDT", "short").distance_warning == 0.5


def test_an_accounts_bad_override_names_the_account():
    doc = portfolio_doc()
    doc["accounts"][0]["thresholds"] = {"ratio_warning": 0.9, "ratio_danger": 0.8}
    with pytest.raises(PortfolioError, match=r"^account 1 \(main\): 'thresholds.ratio_warning'"):
        parse_portfolio(doc)


def test_the_saved_book_keeps_the_overrides_in_its_checksummed_settings_and_drops_gone_ones(tmp_path):
    path = tmp_path / "book.sqlite3"
    portfolio = _with_overrides()
    with BookDatabase.open(path) as db:
        db.import_portfolio(portfolio)
    with BookDatabase.open(path) as db:  # opening checks the checksum, settings included
        loaded = db.load()
        assert loaded.threshold_overrides == portfolio.threshold_overrides
        assert overrides_from_setting(db.setting("threshold_overrides")) == portfolio.threshold_overrides
        from dataclasses import replace

        db.import_portfolio(replace(loaded, book=loaded.book.__class__(*_drop_last(loaded.book))), replace=True)
    with BookDatabase.open(path) as db:
        kept = db.load().threshold_overrides
    assert dict(kept.accounts) == dict(portfolio.threshold_overrides.accounts) and not kept.positions


def test_funding_days_to_warning_use_the_accounts_own_warning_ratio():
    from engine.margin.risk import evaluate_book
    from engine.monitor.funding_report import funding_figures

    portfolio = _with_overrides()
    risk = evaluate_book(portfolio.book, {BTC: 50_000.0, ETH: 3_000.0})
    from engine.funding.rates import FundingRate, RateSource

    rate = FundingRate(*BTC, 0.001, 8.0, None, 0.0, RateSource.FILE)
    own = funding_figures(portfolio.book, risk, {BTC: rate}, 0.0, portfolio.threshold_overrides)
    plain = funding_figures(portfolio.book, risk, {BTC: rate}, 0.0)
    assert own.warning["main"].days is not None and plain.warning["main"].days is not None
    assert own.warning["main"].days < plain.warning["main"].days  # warning at 60%, not 70%: sooner
