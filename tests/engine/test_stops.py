"""Take-profit and stop-loss: the stop against the liquidation price, the rules, the file, CSV, the saved book,
risk --json and sync."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import ccxt
import pytest

from engine.book.book_rules import build_book
from engine.book.portfolio import PortfolioError, dumps_portfolio, loads_portfolio, parse_portfolio
from engine.book.positions_csv import CsvImportError, positions_from_csv, positions_to_csv
from engine.book.whatif import add_to_position, flip_position
from engine.margin.model import Book, MarginMode, Side
from engine.margin.risk import evaluate_book
from engine.margin.stops import stop_figures
from engine.monitor.report import risk_to_dict
from engine.storage.database import BookDatabase
from engine.storage.migrations import LATEST, migrate
from engine.sync.exchange_state import ExchangeState, position_from_ccxt
from engine.sync.reconcile import reconcile
from tests.engine.books import book, market, pos
from tests.portfolio_docs import portfolio_doc, position_doc

BTC = "BTC/USDT:USDT"
MMR = 0.005


def isolated(side: Side, **stops: float | None):
    """1 BTC at 60,000 USDT, isolated 10x with 6,000 USDT, one tier at 0.5%, no fee, marked at 60,000.

    Its liquidation price solves 6,000 + side * (liq - 60,000) = 0.005 * liq: 54,000 / 0.995 = 54,271.36 for the
    long, 66,000 / 1.005 = 65,671.64 for the short."""
    p = replace(pos(BTC, side, 1, 60_000, MarginMode.ISOLATED, 10, 6_000), **stops)
    b = book("binanceusdm", 10_000, [p], [market(BTC, MMR)])
    return evaluate_book(b, {("binanceusdm", BTC): 60_000}).positions[0]


LONG_LIQ = 54_000 / (1 - MMR)
SHORT_LIQ = 66_000 / (1 + MMR)


@pytest.mark.parametrize(
    ("side", "stop", "liq", "to_liq", "beyond"),
    [
        (Side.LONG, 57_000, LONG_LIQ, (57_000 - LONG_LIQ) / 60_000, False),  # +4.55%: the stop fires first
        (Side.LONG, 50_000, LONG_LIQ, (50_000 - LONG_LIQ) / 60_000, True),  # -7.12%: liquidated first
        (Side.SHORT, 63_000, SHORT_LIQ, (SHORT_LIQ - 63_000) / 60_000, False),  # +4.45%
        (Side.SHORT, 67_000, SHORT_LIQ, (SHORT_LIQ - 67_000) / 60_000, True),  # -2.21%
    ],
)
def test_the_stop_is_measured_against_the_liquidation_price_as_a_signed_fraction_of_the_mark(
    side, stop, liq, to_liq, beyond
):
    r = isolated(side, stop_loss=stop)
    assert r.liquidation_price == pytest.approx(liq, rel=1e-12)
    figures = stop_figures(r)
    assert figures.stop_to_liquidation == pytest.approx(to_liq, rel=1e-9)
    assert figures.stop_beyond_liquidation is beyond
    assert (figures.stop_to_liquidation < 0) is beyond


def test_the_worked_numbers_of_the_docstring():
    assert stop_figures(isolated(Side.LONG, stop_loss=57_000)).stop_to_liquidation == pytest.approx(0.045477, abs=1e-6)
    assert stop_figures(isolated(Side.LONG, stop_loss=50_000)).stop_to_liquidation == pytest.approx(-0.071189, abs=1e-6)


def test_take_profit_and_stop_on_the_wrong_side_of_the_mark_are_hints():
    good = stop_figures(isolated(Side.LONG, take_profit=70_000, stop_loss=57_000))
    assert not good.take_profit_wrong_side and not good.stop_loss_wrong_side
    bad = stop_figures(isolated(Side.LONG, take_profit=59_000, stop_loss=61_000))
    assert bad.take_profit_wrong_side and bad.stop_loss_wrong_side and not bad.stop_beyond_liquidation
    short = stop_figures(isolated(Side.SHORT, take_profit=61_000, stop_loss=59_000))
    assert short.take_profit_wrong_side and short.stop_loss_wrong_side


def test_no_stop_no_figures():
    figures = stop_figures(isolated(Side.LONG, take_profit=70_000))
    assert figures.stop_loss is None and figures.stop_to_liquidation is None and not figures.stop_beyond_liquidation


def test_a_missing_mark_gives_no_distance_and_no_flag():
    p = replace(pos(BTC, Side.LONG, 1, 60_000), stop_loss=50_000.0)
    b = book("binanceusdm", 10_000, [p], [market(BTC, MMR)])
    r = evaluate_book(b, {}, missing_ok=True).positions[0]
    figures = stop_figures(r)
    assert figures.stop_to_liquidation is None and not figures.stop_beyond_liquidation


# --- the rules: every door refuses the same prices in the same words ----------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-5.0, "'stop_loss' must be a price greater than 0 (got -5)"),
        (0.0, "'stop_loss' must be a price greater than 0 (got 0)"),
        (float("inf"), "'stop_loss' must be a finite number"),
        (float("nan"), "'stop_loss' must be a finite number"),
        (1e13, "'stop_loss' is out of range: at most 1e+12 (got 1e+13)"),
    ],
)
def test_the_rules_refuse_a_stop_that_is_not_a_price_naming_the_field(value, message):
    p = replace(pos(BTC, Side.LONG, 1, 60_000), stop_loss=value)
    b = book("binanceusdm", 10_000, [p], [market(BTC, MMR)])
    check = build_book(b.accounts, b.positions, markets=b.markets)
    assert [(v.field, v.where, v.message) for v in check.violations] == [("stop_loss", 0, message)]


def test_a_stop_beyond_liquidation_is_not_refused():
    p = replace(pos(BTC, Side.LONG, 1, 60_000, MarginMode.ISOLATED, 10, 6_000), stop_loss=1_000.0, take_profit=1.0)
    b = book("binanceusdm", 10_000, [p], [market(BTC, MMR)])
    assert build_book(b.accounts, b.positions, markets=b.markets).ok


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "position 1 (BTC/USDT:USDT): 'take_profit' must be greater than 0 (got -1)"),
        ("70000", "position 1 (BTC/USDT:USDT): 'take_profit' must be a number, not \"70000\""),
        (1e13, "position 1 (BTC/USDT:USDT): 'take_profit' is out of range: at most 1e+12 (got 1e+13)"),
    ],
)
def test_the_file_refuses_a_bad_take_profit_naming_the_position_and_field(value, message):
    with pytest.raises(PortfolioError) as raised:
        parse_portfolio(portfolio_doc(position_doc(take_profit=value)))
    assert str(raised.value) == message


# --- the file, CSV, the saved book ------------------------------------------------------------------------------


def stopped():
    return parse_portfolio(portfolio_doc(position_doc(take_profit=70_000, stop_loss=55_500.5)))


def test_the_file_round_trips_the_stops_and_writes_them_only_when_set():
    portfolio = stopped()
    p = portfolio.book.positions[0]
    assert (p.take_profit, p.stop_loss) == (70_000, 55_500.5)
    text = dumps_portfolio(portfolio)
    assert '"take_profit": 70000' in text and '"stop_loss": 55500.5' in text
    assert loads_portfolio(text).book == portfolio.book
    plain = parse_portfolio(portfolio_doc(position_doc(take_profit=None)))
    assert plain.book.positions[0].take_profit is None
    assert "take_profit" not in dumps_portfolio(plain) and "stop_loss" not in dumps_portfolio(plain)


def test_csv_round_trips_the_stops_as_optional_columns():
    portfolio = stopped()
    empty = replace(portfolio, book=Book(portfolio.book.accounts, (), {}))
    text = positions_to_csv(portfolio.book)
    assert text.splitlines()[0].endswith(",note,take_profit,stop_loss")
    assert positions_from_csv(text, empty) == portfolio.book.positions
    old_header = (
        "account,symbol,side,contracts,entry_price,margin_mode,leverage\r\nmain,BTC/USDT:USDT,long,1,60000,cross,10"
    )
    (without,) = positions_from_csv(old_header, empty)
    assert without.take_profit is None and without.stop_loss is None


def test_csv_names_the_line_and_column_of_a_bad_stop():
    portfolio = stopped()
    empty = replace(portfolio, book=Book(portfolio.book.accounts, (), {}))
    text = "account,symbol,side,contracts,entry_price,margin_mode,leverage,stop_loss\r\n"
    text += "main,BTC/USDT:USDT,long,1,60000,cross,10,-3\r\n"
    with pytest.raises(CsvImportError) as raised:
        positions_from_csv(text, empty)
    assert str(raised.value) == "line 2, stop_loss: must be a price greater than 0, or empty (got '-3')"


def test_the_saved_book_keeps_the_stops(tmp_path):
    path = tmp_path / "book.sqlite3"
    with BookDatabase.open(path) as db:
        db.import_portfolio(stopped())
    with BookDatabase.open(path) as db:
        assert db.load().book == stopped().book


def test_a_book_of_the_previous_schema_migrates_with_no_stops_and_then_keeps_them(tmp_path):
    path = tmp_path / "book.sqlite3"
    connection = sqlite3.connect(path, isolation_level=None)
    migrate(connection, target=LATEST - 1)
    connection.execute(
        "INSERT INTO account (name, exchange, wallet_balance, currency, position_mode) "
        "VALUES ('main', 'binanceusdm', 10000, 'USDT', 'oneway')"
    )
    connection.execute(
        "INSERT INTO position (account_id, ordinal, symbol, side, contracts, entry_price, margin_mode, leverage, "
        "synced_at) VALUES (1, 0, 'BTC/USDT:USDT', 'long', 1, 60000, 'cross', 10, 1700000000)"
    )
    connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('book_sha256', 'pending')")
    connection.close()
    with BookDatabase.open(path) as db:
        (p,) = db.load().book.positions
        assert (p.take_profit, p.stop_loss, p.synced_at) == (None, None, 1_700_000_000)
        db.import_portfolio(
            replace(db.load(), book=replace(db.load().book, positions=(replace(p, stop_loss=50e3),))), replace=True
        )
    with BookDatabase.open(path) as db:  # the checksum covers the new column: a sound reopen, the stop kept
        assert db.notice.moved_aside is None
        assert db.load().book.positions[0].stop_loss == 50_000


# --- risk --json and sync -----------------------------------------------------------------------------------------


def test_risk_json_carries_the_stops_per_position():
    portfolio = parse_portfolio(portfolio_doc(position_doc(stop_loss=1_000, take_profit=70_000)))
    risk = evaluate_book(portfolio.book, {("binanceusdm", BTC): 61_000})
    row = risk_to_dict(risk)["positions"][0]
    r = risk.positions[0]
    assert row["take_profit"] == 70_000 and row["stop_loss"] == 1_000
    assert row["stop_to_liquidation"] == pytest.approx((1_000 - r.liquidation_price) / 61_000)
    assert row["stop_beyond_liquidation"] is True


BYBIT_MARKET = {
    "id": "BTCUSDT",
    "symbol": BTC,
    "base": "BTC",
    "quote": "USDT",
    "settle": "USDT",
    "linear": True,
    "inverse": False,
    "contractSize": 1.0,
    "type": "swap",
    "swap": True,
    "contract": True,
    "spot": False,
}


def bybit_position(take_profit: str, stop_loss: str) -> dict:
    """A Bybit v5 /v5/position/list entry (https://bybit-exchange.github.io/docs/v5/position, read 2026-12-01) as
    ccxt 4.5 parses it. ccxt gives no marginMode for Bybit (tradeMode is deprecated there): set as cross here."""
    info = {
        "positionIdx": 0,
        "symbol": "BTCUSDT",
        "side": "Buy",
        "size": "0.5",
        "avgPrice": "60000",
        "positionValue": "30000",
        "tradeMode": 0,
        "leverage": "10",
        "markPrice": "61000",
        "liqPrice": "54500",
        "positionIM": "3000",
        "positionMM": "150",
        "takeProfit": take_profit,
        "stopLoss": stop_loss,
        "unrealisedPnl": "500",
        "createdTime": "1700000000000",
        "updatedTime": "1700000000000",
    }
    return {**ccxt.bybit().parse_position(info, BYBIT_MARKET), "marginMode": "cross"}


def test_sync_carries_the_stops_an_exchange_reports_on_the_position():
    e = position_from_ccxt("bybit", bybit_position("70000", "57000"))
    assert e is not None and e.reports_stops and (e.take_profit, e.stop_loss) == (70_000, 57_000)
    cleared = position_from_ccxt("bybit", bybit_position("0.00", "0.00"))
    assert cleared is not None and cleared.reports_stops and (cleared.take_profit, cleared.stop_loss) == (None, None)


def test_a_sync_keeps_the_typed_stops_where_the_exchange_does_not_report_them():
    typed = replace(pos(BTC, Side.LONG, 0.5, 60_000), take_profit=70_000.0, stop_loss=55_000.0, synced_at=1.0)
    b = book("bybit", 10_000, [typed], [market(BTC, MMR)])
    silent = position_from_ccxt(
        "binanceusdm", {**bybit_position("70000", "57000"), "takeProfitPrice": None, "stopLossPrice": None}
    )
    assert silent is not None and not silent.reports_stops
    kept = reconcile(b, "acct", ExchangeState((silent,), 10_000, "USDT", None, 2.0)).book.positions[0]
    assert (kept.take_profit, kept.stop_loss) == (70_000, 55_000)
    reported = position_from_ccxt("bybit", bybit_position("72000", "0"))
    assert reported is not None
    taken = reconcile(b, "acct", ExchangeState((reported,), 10_000, "USDT", None, 2.0)).book.positions[0]
    assert (taken.take_profit, taken.stop_loss) == (72_000, None)


def test_a_flip_leaves_the_new_side_without_the_old_sides_stops():
    held = replace(pos(BTC, Side.LONG, 1, 60_000), take_profit=70_000.0, stop_loss=55_000.0)
    b = book("binanceusdm", 100_000, [held], [market(BTC, MMR)])
    flipped = flip_position(b, 0, 3.0, 61_000).book.positions[0]
    assert flipped.side is Side.SHORT and (flipped.take_profit, flipped.stop_loss) == (None, None)
    added = add_to_position(b, 0, 1.0, 61_000).book.positions[0]
    assert (added.take_profit, added.stop_loss) == (70_000, 55_000)  # the same position: its stops stay
