"""The window on live prices from the fake exchange: live, then stale when the stream freezes."""

from __future__ import annotations

import json
import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from desktop.app import WindowOptions, build_window
from desktop.platform.text_colours import muted_colour
from desktop.tables.accounts_model import RATIO_COLUMN
from desktop.tables.position_columns import COLUMNS
from engine.market.feeds.exchange_config import ExchangeSettings, Transport
from tests.fake_exchange.server import FakeBinance
from tests.portfolio_docs import portfolio_doc, position_doc

BOOK = portfolio_doc(
    position_doc(),
    position_doc("ETH/USDT:USDT", "short", 4, 3_000, "isolated", 20),
    prices={"BTC/USDT:USDT": 50_000, "ETH/USDT:USDT": 2_500},
)


def column(title: str) -> int:
    return next(i for i, c in enumerate(COLUMNS) if c.title == title)


def cell(window, symbol: str, title: str, role=Qt.ItemDataRole.DisplayRole):
    model = window.model
    row = next(i for i, r in enumerate(model._rows) if r.position.symbol == symbol)
    return model.view_index(row, column(title)).data(role)


def test_live_prices_show_with_their_source_and_a_frozen_stream_turns_stale(qtbot, tmp_path):
    path = tmp_path / "book.json"
    path.write_text(json.dumps(BOOK))
    with FakeBinance() as fake:
        settings = {"binanceusdm": ExchangeSettings(fake.ccxt_config(), Transport.WEBSOCKET)}
        window = build_window(
            WindowOptions(book_file=str(path), data_dir=str(tmp_path), exchange_settings=settings, stale_after=0.6)
        )
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=10_000)
        qtbot.waitUntil(lambda: cell(window, "BTC/USDT:USDT", "Mark") == "61,000.50 USDT", timeout=10_000)
        assert cell(window, "BTC/USDT:USDT", "Source").startswith("LIVE")
        assert "binanceusdm: live" in window.status.text()
        stale_text = muted_colour(QGuiApplication.palette())
        assert cell(window, "BTC/USDT:USDT", "Mark", Qt.ItemDataRole.ForegroundRole) != stale_text

        fake.go_silent()
        qtbot.waitUntil(lambda: cell(window, "BTC/USDT:USDT", "Source").startswith("STALE"), timeout=5_000)
        assert cell(window, "BTC/USDT:USDT", "Mark", Qt.ItemDataRole.ForegroundRole) == stale_text
        assert cell(window, "BTC/USDT:USDT", "Liq. price", Qt.ItemDataRole.FontRole).italic()
        fake.go_silent(False)
        qtbot.waitUntil(lambda: cell(window, "BTC/USDT:USDT", "Source").startswith("LIVE"), timeout=30_000)
        window.close()
    assert all(not f._thread.is_alive() for f in window.sources.feeds)


def test_an_unreachable_exchange_never_blocks_the_window(qtbot, tmp_path):
    path = tmp_path / "book.json"
    path.write_text(json.dumps(BOOK))
    dead = {
        "binanceusdm": ExchangeSettings(
            {"timeout": 300, "urls": {"api": {"fapiPublic": "http://127.0.0.1:9/fapi/v1"}}}, Transport.REST
        )
    }
    started = time.monotonic()
    window = build_window(WindowOptions(book_file=str(path), data_dir=str(tmp_path), exchange_settings=dead))
    qtbot.addWidget(window)
    window.show()
    assert time.monotonic() - started < 2.0
    qtbot.waitUntil(lambda: "reconnecting" in window.status.text(), timeout=10_000)
    assert "waiting for prices: BTC/USDT:USDT" in window.status.text()
    # Every position is a row, none on a made-up price: "—" where a figure needs the missing mark, the reason
    # in the tooltip, and the account marked incomplete.
    assert window.model.rowCount() == 2
    for symbol in ("BTC/USDT:USDT", "ETH/USDT:USDT"):
        assert cell(window, symbol, "Mark") == "—" and cell(window, symbol, "Liq. price") == "—"
        assert cell(window, symbol, "To liq.") == "—" and cell(window, symbol, "uPnL") == "—"
        tip = cell(window, symbol, "To liq.", Qt.ItemDataRole.ToolTipRole).splitlines()  # then the tiers' source
        assert tip[0] == f"no mark price yet for {symbol} on binanceusdm"
    accounts = window.accounts_model
    assert accounts.rowCount() == 1
    assert accounts.index(0, 0).data(Qt.ItemDataRole.ToolTipRole).startswith("incomplete: no mark price yet")
    assert accounts.row_text(0)[RATIO_COLUMN] == "n/a (a mark is missing)"
    from desktop.window.candle_updates import CandleUpdates

    (candles,) = [child for child in window.children() if isinstance(child, CandleUpdates)]
    assert candles.refresher is None  # no candles asked of an exchange no feed reaches
    window.close()


def test_a_price_typed_over_a_live_one_is_named_in_the_status_bar_and_its_row(qtbot, tmp_path):
    from engine.market.prices import Shock

    path = tmp_path / "book.json"
    path.write_text(json.dumps(BOOK))
    with FakeBinance() as fake:
        settings = {"binanceusdm": ExchangeSettings(fake.ccxt_config(), Transport.WEBSOCKET)}
        window = build_window(
            WindowOptions(book_file=str(path), data_dir=str(tmp_path), exchange_settings=settings, stale_after=5.0)
        )
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=10_000)
        qtbot.waitUntil(lambda: cell(window, "ETH/USDT:USDT", "Source").startswith("LIVE"), timeout=10_000)
        assert "MANUAL" not in window.status.text() and "OFFLINE" not in window.status.text()
        btc = next(i for i, r in enumerate(window.model._rows) if r.position.symbol == "BTC/USDT:USDT")
        window.model.setData(window.model.view_index(btc, column("Mark")), "60000")
        status = window.status.text()
        assert "binanceusdm: live" in status and "MANUAL prices, not live: BTC/USDT:USDT" in status
        assert "from the book" not in status and "simulated" not in status
        assert cell(window, "BTC/USDT:USDT", "Source") == "MANUAL"
        assert cell(window, "ETH/USDT:USDT", "Source").startswith("LIVE")
        window.modes.set_shock(Shock(per_key={("binanceusdm", "ETH/USDT:USDT"): -0.05}))
        assert "SHOCK PREVIEW (ETH/USDT:USDT on binanceusdm −5%)" in window.status.text()
        assert cell(window, "ETH/USDT:USDT", "Source").startswith("SHOCKED (LIVE")
        assert cell(window, "ETH/USDT:USDT", "What-if").startswith("what-if · real: ")
        # BTC (cross) is not shocked and shares no margin with the isolated ETH short: its row is real.
        assert cell(window, "BTC/USDT:USDT", "Source") == "MANUAL" and cell(window, "BTC/USDT:USDT", "What-if") == ""
        assert "(what-if · real: " in window.accounts_model.index(0, 0).data()  # the account's totals move
        window.close()


def test_live_funding_columns_from_the_fake_exchange(qtbot, tmp_path):
    """The funding feed's rate reaches the table: the rate per interval, the countdown to Binance's next 8 h
    funding, and what the short ETH position (4 ETH at the fake's 3,050.25 mark) receives a day at +0.03%/8h."""
    path = tmp_path / "book.json"
    path.write_text(json.dumps(BOOK))
    with FakeBinance() as fake:
        fake.funding_rates["ETHUSDT"] = "0.00030000"
        settings = {"binanceusdm": ExchangeSettings(fake.ccxt_config(), Transport.REST)}
        window = build_window(WindowOptions(book_file=str(path), data_dir=str(tmp_path), exchange_settings=settings))
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: cell(window, "ETH/USDT:USDT", "Funding") == "0.0300%/8h", timeout=10_000)
        qtbot.waitUntil(lambda: cell(window, "ETH/USDT:USDT", "Mark") == "3,050.25 USDT", timeout=10_000)
        qtbot.waitUntil(lambda: cell(window, "ETH/USDT:USDT", "Funding/day") == "10.98 USDT", timeout=5_000)
        assert cell(window, "BTC/USDT:USDT", "Funding") == "0.0100%/8h"
        countdown = cell(window, "BTC/USDT:USDT", "Next funding")
        assert countdown.endswith("m") or countdown.endswith("s")
        assert "binanceusdm funding: live" in window.status.text()
        window.close()
    assert all(not f._thread.is_alive() for f in window.sources.feeds)
