"""A last trade standing in for the mark is labelled wherever the price is shown: the window's source cells
and `watch --json`. Liquidation is judged at the mark, so a stand-in must never read as one."""

from __future__ import annotations

import io

from engine.book.portfolio import parse_portfolio
from engine.market.prices import PriceSource, PriceStore, Tick
from engine.monitor.price_labels import price_source
from engine.monitor.watch import Monitor, WatchOptions
from tests.portfolio_docs import portfolio_doc

KEY = ("binanceusdm", "BTC/USDT:USDT")


def store_with(mark_is_last_trade: bool, now: float) -> PriceStore:
    store = PriceStore(clock=lambda: now)
    store.publish([Tick(KEY, 61000.0, mark_is_last_trade=mark_is_last_trade)], PriceSource.LIVE)
    return store


def test_a_last_trade_says_so_in_the_source_cell_and_a_mark_does_not():
    now = 1_800_000_000.0
    assert price_source(store_with(True, now - 0.4).quote(KEY), now, 15.0) == ("LIVE 0.4 s (last trade)", False)
    assert price_source(store_with(False, now - 0.4).quote(KEY), now, 15.0) == ("LIVE 0.4 s", False)
    assert price_source(store_with(True, now - 20).quote(KEY), now, 15.0) == ("STALE 20.0 s (last trade)", True)


def test_watch_json_flags_a_last_trade():
    portfolio = parse_portfolio(portfolio_doc())
    now = 1_800_000_000.0
    for flagged in (True, False):
        monitor = Monitor(portfolio, store_with(flagged, now), [], WatchOptions(), io.StringIO(), clock=lambda: now)
        [row] = monitor.report()["positions"]
        assert row["price_is_last_trade"] is flagged and row["price_source"] == "live"


def test_an_empty_book_says_how_to_add_positions_in_the_window_and_from_a_file():
    from engine.monitor.price_labels import status_line

    common = dict(working_offline=True, prices_typed=False, shock="", history_error="", stale_after=5.0, missing=())
    line = status_line({}, [], [], storage_note="", empty_book=True, **common)
    assert "Edit ▸ New account…, then New position…" in line and "marginwatch import FILE" in line
    assert "Edit ▸ New account" not in status_line({}, [], [], storage_note="", empty_book=False, **common)
    # a saved book that could not be opened says why instead (adding positions would not be saved)
    assert "Edit ▸" not in status_line({}, [], [], storage_note="saved book damaged", empty_book=True, **common)
