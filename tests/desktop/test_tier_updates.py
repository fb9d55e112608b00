"""The window's tier tables: each row's tooltip says where its tiers came from and how old they are, and
tables a feed fetched are applied to the book shown (desktop/window/tier_updates.py)."""

from __future__ import annotations

import dataclasses
import time

from PySide6.QtCore import Qt

from desktop.window.main_window import MainWindow
from desktop.window.tier_updates import TierUpdates
from engine.margin.model import Tier
from engine.market.feeds.state import FeedState, FeedStatus
from tests.desktop.test_window import demo_on_manual_prices

BTC = "BTC/USDT:USDT"


class FetchedFeed:
    """A feed that has fetched its exchange's tables (the fetch itself runs real ccxt in
    tests/engine/test_tier_tables.py); it publishes no price."""

    def __init__(self, exchange_id: str, tiers: dict) -> None:
        self.exchange_id = exchange_id
        self.tiers = tiers
        self.tiers_version = 1
        self.state = FeedState(exchange_id, FeedStatus.LIVE)

    def start(self) -> None:
        pass

    def stop(self, timeout: float = 10.0) -> bool:
        return True


def tooltip(window: MainWindow, symbol: str, account: str = "Binance main") -> str:
    """The tooltip of the first row of this account and symbol."""
    model = window.model
    row = next(r for r in range(model.rowCount()) if {account, symbol} <= set(_cells(model, r)))
    return model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)


def _cells(model, row: int) -> list[str]:
    return [str(model.index(row, c).data()) for c in range(model.columnCount())]


def test_a_rows_tooltip_says_where_its_tiers_came_from_and_how_old_they_are(qtbot):
    _, _, window = demo_on_manual_prices(qtbot)
    text = tooltip(window, BTC)
    assert "tiers bundled 2024-10-24" in text and "days old" in text
    assert text.startswith("STALE")  # older than a week
    hypothetical = tooltip(window, BTC, "Bybit swing")  # a preview's row says so, and where its tiers came from
    assert hypothetical.splitlines()[1] == "tiers from the portfolio file"


def test_tables_a_feed_fetched_are_applied_to_the_book_shown(qtbot):
    portfolio, store, _ = demo_on_manual_prices(qtbot)
    bundled = portfolio.book.markets[("binanceusdm", BTC)]
    fetched = dataclasses.replace(
        bundled,
        tiers=(Tier(0, 1e12, 0.01, 0, 20),),
        source="binanceusdm fetch_leverage_tiers, fetched now",
        tiers_from="fetched",
        tiers_at=time.time() - 120,
    )
    window = MainWindow(portfolio, "demo", store, [FetchedFeed("binanceusdm", {BTC: fetched})])
    qtbot.addWidget(window)
    updates = TierUpdates(window)
    updates.check()
    market = window.book.markets[("binanceusdm", BTC)]
    assert (market.tiers_from, market.tiers[0].maintenance_margin_rate) == ("fetched", 0.01)
    assert "tiers fetched" in tooltip(window, BTC) and "2 min old" in tooltip(window, BTC)
    updates.check()  # nothing new: the book is left as it is
    assert window.book.markets[("binanceusdm", BTC)] is market
