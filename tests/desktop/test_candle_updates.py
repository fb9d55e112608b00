"""The window fetches its symbols' hourly candles in the background while its live feeds run (issue 19): the
"P(liq 24h)" figure appears from them without `marginwatch risk --candles`, they are stored with the saved
book (kept in memory for a portfolio file), and the tooltip says where the volatility came from."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from desktop.app import WindowOptions, build_window
from desktop.tables.odds_model import ODDS_COLUMN
from desktop.window.candle_updates import CandleUpdates
from engine.book.portfolio import loads_portfolio
from engine.market.feeds.exchange_config import ExchangeSettings, Transport
from engine.market.volatility import realized_volatility
from engine.storage.database import BookDatabase
from engine.storage.paths import database_path
from tests.fake_exchange.server import FakeBinance
from tests.portfolio_docs import portfolio_doc, position_doc

BTC = ("binanceusdm", "BTC/USDT:USDT")
BOOK = portfolio_doc(
    position_doc(),
    position_doc("ETH/USDT:USDT", "short", 4, 3_000, "isolated", 20),
    prices={"BTC/USDT:USDT": 50_000, "ETH/USDT:USDT": 2_500},
)


def odds_cell(window, symbol: str):
    model = window.model
    row = next(r for r in range(model.rowCount()) if model._rows[model.position_at(r)].position.symbol == symbol)
    return model.index(row, ODDS_COLUMN)


def candle_volatility(fake: FakeBinance, symbol_id: str) -> float:
    first, closes = fake.candle_closes(symbol_id)
    return realized_volatility((list(range(first, first + len(closes)))[-721:], closes[-721:]))


def settings(fake: FakeBinance) -> dict[str, ExchangeSettings]:
    return {"binanceusdm": ExchangeSettings(fake.ccxt_config(), Transport.REST)}


def wait_for_figure(qtbot, window, symbol: str) -> None:
    qtbot.waitUntil(lambda: odds_cell(window, symbol).data() not in ("—", None), timeout=20_000)


@pytest.mark.slow  # ~6 s; the saved-book window test below covers the same path by default
def test_a_portfolio_file_window_gets_its_figure_from_candles_fetched_in_the_background(qtbot, tmp_path):
    path = tmp_path / "book.json"
    path.write_text(json.dumps(BOOK))  # no volatility typed, no saved book, no candles ever fetched
    with FakeBinance() as fake:
        window = build_window(
            WindowOptions(book_file=str(path), data_dir=str(tmp_path / "data"), exchange_settings=settings(fake))
        )
        qtbot.addWidget(window)
        window.show()
        wait_for_figure(qtbot, window, "BTC/USDT:USDT")
        asked = fake.requests["/fapi/v1/klines"]
        assert asked >= 2
        cell = odds_cell(window, "BTC/USDT:USDT")
        sigma = window.model.volatility_of(window.model.position_at(cell.row()))
        assert sigma == pytest.approx(candle_volatility(fake, "BTCUSDT"), rel=0.05)
        assert abs(sigma - 0.6) < 0.1  # the fake's walk is at 60% a year
        tip = cell.data(Qt.ItemDataRole.ToolTipRole)
        assert "hourly candles (ccxt fetch_ohlcv) fetched 20" in tip and "UTC" in tip
        assert BTC in window.odds_column.fetched  # no saved book: kept in memory
        updates = window.findChild(CandleUpdates)
        updates.check()
        updates.check()
        assert fake.requests["/fapi/v1/klines"] == asked  # fetched once: not again within the hour
        window.close()
    assert updates.refresher is None


def test_the_saved_book_stores_the_fetched_candles_and_a_failing_symbol_is_said(qtbot, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    book = json.loads(json.dumps(BOOK))
    book["positions"].append(position_doc("XRP/USDT:USDT", "long", 100, 0.5, "isolated", 10))
    book["prices"]["XRP/USDT:USDT"] = 0.5
    with BookDatabase.open(database_path(str(data))) as db:
        db.import_portfolio(loads_portfolio(json.dumps(book)))
    with FakeBinance() as fake:  # the fake serves no XRP klines: that symbol fails, the others come
        window = build_window(WindowOptions(data_dir=str(data), exchange_settings=settings(fake)))
        qtbot.addWidget(window)
        window.show()
        wait_for_figure(qtbot, window, "ETH/USDT:USDT")
        assert window.odds_column.fetched == {}  # stored with the book, read back from there
        with BookDatabase.open(database_path(str(data)), read_only=True) as db:
            fetched = db.candles_fetched_at([BTC, ("binanceusdm", "ETH/USDT:USDT"), ("binanceusdm", "XRP/USDT:USDT")])
        assert set(fetched) == {BTC, ("binanceusdm", "ETH/USDT:USDT")}
        assert set(window.odds_column.candle_problems) == {("binanceusdm", "XRP/USDT:USDT")}
        xrp = odds_cell(window, "XRP/USDT:USDT")
        qtbot.waitUntil(lambda: "latest fetch failed" in (xrp.data(Qt.ItemDataRole.ToolTipRole) or ""), timeout=10_000)
        assert xrp.data() == "—"
        window.close()


def test_an_offline_window_fetches_nothing(qtbot, tmp_path):
    path = tmp_path / "book.json"
    path.write_text(json.dumps(BOOK))
    window = build_window(WindowOptions(book_file=str(path), data_dir=str(tmp_path / "data"), offline=True))
    qtbot.addWidget(window)
    updates = window.findChild(CandleUpdates)
    updates.check()
    assert updates.refresher is None
    window.close()


def test_the_demo_on_simulated_prices_fetches_nothing(qtbot, tmp_path):
    window = build_window(WindowOptions(demo=True, data_dir=str(tmp_path / "data")))
    qtbot.addWidget(window)
    assert window.findChild(CandleUpdates) is None  # a random walk is not a market to fetch candles of
    window.close()
