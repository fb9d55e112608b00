"""A keyless Binance user's what-if rounds a symbol whose tick no bundled table gives (SOL) once the window's live
feed has loaded the exchange's public market list (real ccxt against the fake Binance on 127.0.0.1), and an
offline start rounds on the increments stored then (desktop/window/tier_updates.py)."""

from __future__ import annotations

from desktop.app import WindowOptions, build_window
from desktop.dialogs.whatif_dialog import WhatIfDialog
from desktop.window.main_window import MainWindow
from engine.book.portfolio import parse_portfolio
from engine.market.feeds.exchange_config import ExchangeSettings, Transport
from engine.storage.database import BookDatabase
from engine.storage.paths import database_path
from tests.desktop.test_whatif_dialog import open_dialog, type_into
from tests.desktop.test_whatif_order import note, unit
from tests.fake_exchange.server import FakeBinance
from tests.portfolio_docs import portfolio_doc, position_doc

EX, SOL = "binanceusdm", "SOL/USDT:USDT"


def saved_sol_book(folder: str, symbol: str = SOL) -> None:
    """The saved book: 10,000 USDT holding a SOL long (Binance's SOL tiers are bundled, its tick is not)."""
    position = position_doc(SOL, "long", 20, 140, "cross", 5) if symbol == SOL else position_doc(symbol)
    with BookDatabase.open(database_path(folder)) as db:
        db.import_portfolio(parse_portfolio(portfolio_doc(position)))


def whatif_on_sol(qtbot, window: MainWindow) -> WhatIfDialog:
    """The what-if on the SOL position, opened with what the window's Trade action hands it."""
    index = next(i for i, p in enumerate(window.portfolio.book.positions) if p.symbol == SOL)
    marks = {(EX, SOL): 142.31}
    return open_dialog(qtbot, window.portfolio.book, marks, index=index, parent=window,
                       market_overrides=window.portfolio.market_overrides)  # fmt: skip


def sol_tick(window: MainWindow) -> float:
    return window.portfolio.book.markets[(EX, SOL)].tick_size


def test_a_keyless_users_whatif_rounds_sol_on_the_tick_the_market_list_gave(qtbot, tmp_path):
    folder = str(tmp_path)
    saved_sol_book(folder)
    offline = build_window(WindowOptions(data_dir=folder, offline=True))
    qtbot.addWidget(offline)
    dialog = whatif_on_sol(qtbot, offline)
    type_into(qtbot, dialog.edits["price"], "142.317")
    assert note(dialog, "price") == "tick unknown"  # before any feed ran: no table gives SOL's tick
    dialog.close()
    offline.close()

    with FakeBinance() as fake:
        settings = {EX: ExchangeSettings(fake.ccxt_config(), Transport.REST)}  # no API key anywhere
        window = build_window(WindowOptions(data_dir=folder, exchange_settings=settings))
        qtbot.addWidget(window)
        qtbot.waitUntil(lambda: sol_tick(window) == 0.01, timeout=15_000)
        assert window.portfolio.book.markets[(EX, SOL)].tiers_from == "bundled"  # the tier call needs a key
        dialog = whatif_on_sol(qtbot, window)
        type_into(qtbot, dialog.edits["price"], "142.317")
        assert note(dialog, "price") == "rounded to 0.01 tick: 142.32 USDT"
        unit(dialog, "quote")
        type_into(qtbot, dialog.edits["contracts"], "1000")
        # 1,000 USDT / 142.32 = 7.03 SOL: 7 contracts on SOLUSDT's lot of 1
        assert note(dialog, "contracts") == "= 7 contracts, rounded to lot 1"
        assert dialog.plan is not None and (dialog.plan.traded, dialog.plan.trade_price) == (7, 142.32)
        type_into(qtbot, dialog.edits["contracts"], "100")  # 0.7 SOL: under LOT_SIZE minQty 1
        assert "minimum" in dialog.messages["contracts"].text()
        dialog.close()
        window.close()
    assert all(not f._thread.is_alive() for f in window.sources.feeds)

    again = build_window(WindowOptions(data_dir=folder, offline=True))  # offline: the stored increments
    qtbot.addWidget(again)
    assert sol_tick(again) == 0.01
    dialog = whatif_on_sol(qtbot, again)
    type_into(qtbot, dialog.edits["price"], "142.317")
    assert note(dialog, "price") == "rounded to 0.01 tick: 142.32 USDT"
    dialog.close()
    again.close()


def test_a_new_trade_on_a_symbol_the_book_does_not_hold_rounds_on_the_listed_tick_too(qtbot, tmp_path):
    folder = str(tmp_path)
    saved_sol_book(folder, "BTC/USDT:USDT")  # SOL is not held: the feed reads only BTC's price
    with FakeBinance() as fake:
        settings = {EX: ExchangeSettings(fake.ccxt_config(), Transport.REST)}
        window = build_window(WindowOptions(data_dir=folder, exchange_settings=settings))
        qtbot.addWidget(window)
        qtbot.waitUntil(lambda: (EX, SOL) in window.portfolio.market_overrides.increments, timeout=15_000)
        account = window.portfolio.book.accounts[0].name
        dialog = open_dialog(qtbot, window.portfolio.book, window.book_host.real_marks(), account=account,
                             parent=window, market_overrides=window.portfolio.market_overrides)  # fmt: skip
        dialog.symbol.setCurrentText(SOL)
        type_into(qtbot, dialog.edits["price"], "142.317")
        assert note(dialog, "price") == "rounded to 0.01 tick: 142.32 USDT"
        dialog.close()
        window.close()
    assert all(not f._thread.is_alive() for f in window.sources.feeds)
