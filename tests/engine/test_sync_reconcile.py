"""The pure reconciliation of an exchange's account state into the book (engine.sync.reconcile), and the
liquidation cross-check (engine.margin.crosscheck)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.margin.crosscheck import check_liquidation
from engine.margin.model import Account, Book, MarginMode, Position, PositionMode, Side
from engine.sync.exchange_state import ExchangePosition, ExchangeState
from engine.sync.reconcile import CONFLICT_NOTE, reconcile

T0, T1 = 1_796_000_000.0, 1_796_000_060.0
MAIN = Account("main", "binanceusdm", 5_000.0, "USDT")
OTHER = Account("other", "binanceusdm", 1_000.0, "USDT")


def held(symbol="BTC/USDT:USDT", side=Side.LONG, contracts=0.5, entry=60_000.0, liq=49_000.1, **kw) -> ExchangePosition:
    fields = dict(margin_mode=MarginMode.CROSS, leverage=10.0, isolated_margin=0.0, mark_price=61_000.5)
    fields.update(kw)
    return ExchangePosition(
        symbol,
        side,
        contracts,
        entry,
        fields["margin_mode"],
        fields["leverage"],
        fields["isolated_margin"],
        liq,
        fields["mark_price"],
        0.0,
    )


def state(*positions: ExchangePosition, wallet=10_000.0, at=T1, mode=PositionMode.ONEWAY) -> ExchangeState:
    return ExchangeState(positions, wallet, "USDT", mode, at)


def test_first_sync_into_an_empty_account_opens_every_position_flagged_synced():
    book = Book((MAIN,), ())
    eth = held(
        "ETH/USDT:USDT", Side.SHORT, 2.0, 3_100.0, 3_650.0, margin_mode=MarginMode.ISOLATED, isolated_margin=1_240.0
    )
    out = reconcile(book, "main", state(held(), eth))
    assert [(c.symbol, c.side) for c in out.opened] == [("BTC/USDT:USDT", Side.LONG), ("ETH/USDT:USDT", Side.SHORT)]
    btc, eth_pos = out.book.positions
    assert (btc.contracts, btc.entry_price, btc.leverage, btc.margin_mode) == (0.5, 60_000.0, 10.0, MarginMode.CROSS)
    assert btc.synced and btc.synced_at == T1 and btc.exchange_liquidation_price == 49_000.1
    assert (eth_pos.margin_mode, eth_pos.isolated_margin, eth_pos.leverage) == (MarginMode.ISOLATED, 1_240.0, 10.0)
    assert out.book.account("main").wallet_balance == 10_000.0
    assert (out.wallet_before, out.wallet_after) == (5_000.0, 10_000.0)
    assert not out.changed and not out.closed and not out.conflicts


def test_a_fill_changes_size_and_entry_and_keeps_the_users_note():
    before = Position(
        "main",
        "BTC/USDT:USDT",
        Side.LONG,
        0.5,
        60_000.0,
        MarginMode.CROSS,
        10.0,
        note="core",
        synced_at=T0,
        exchange_liquidation_price=49_000.1,
    )
    out = reconcile(Book((MAIN,), (before,)), "main", state(held(contracts=0.8, entry=60_375.0, liq=52_000.0)))
    (change,) = out.changed
    assert change.fields == ("contracts", "entry_price")
    (after,) = out.book.positions
    assert (after.contracts, after.entry_price, after.note) == (0.8, 60_375.0, "core")
    assert after.synced_at == T1 and after.exchange_liquidation_price == 52_000.0
    assert not out.opened and not out.closed


def test_a_position_closed_on_the_exchange_leaves_the_book_and_is_reported():
    synced = Position("main", "BTC/USDT:USDT", Side.LONG, 0.5, 60_000.0, MarginMode.CROSS, 10.0, synced_at=T0)
    out = reconcile(Book((MAIN,), (synced,)), "main", state())
    assert out.book.positions == ()
    assert [c.before for c in out.closed] == [synced]


def test_a_hand_entered_position_on_the_same_symbol_and_side_is_kept_set_aside_not_merged():
    typed = Position("main", "BTC/USDT:USDT", Side.LONG, 1.0, 58_000.0, MarginMode.CROSS, 5.0, note="my guess")
    out = reconcile(Book((MAIN,), (typed,)), "main", state(held()))
    kept, synced = out.book.positions
    # Its figures are the user's, untouched; it no longer counts in the real book (it would count twice).
    assert (kept.contracts, kept.entry_price, kept.leverage, kept.synced) == (1.0, 58_000.0, 5.0, False)
    assert kept.hypothetical and kept.note.startswith(CONFLICT_NOTE) and kept.note.endswith("my guess")
    assert (synced.contracts, synced.entry_price, synced.synced) == (0.5, 60_000.0, True)
    assert [c.before for c in out.conflicts] == [typed]


def test_hand_entered_positions_elsewhere_hypothetical_ones_and_other_accounts_are_untouched():
    typed = Position("main", "SOL/USDT:USDT", Side.LONG, 10.0, 140.0, MarginMode.CROSS, 5.0)
    imagined = Position("main", "BTC/USDT:USDT", Side.LONG, 3.0, 59_000.0, MarginMode.CROSS, 5.0, hypothetical=True)
    theirs = Position("other", "BTC/USDT:USDT", Side.LONG, 0.1, 50_000.0, MarginMode.CROSS, 5.0, synced_at=T0)
    book = Book((MAIN, OTHER), (typed, imagined, theirs))
    out = reconcile(book, "main", state(held()))
    assert out.book.positions[:3] == (typed, imagined, theirs)
    assert out.book.account("other") == OTHER
    assert not out.conflicts and not out.closed


def test_hedge_mode_comes_from_the_exchange():
    long_, short = held(), held(side=Side.SHORT, contracts=0.2, liq=None)
    out = reconcile(Book((MAIN,), ()), "main", state(long_, short, mode=PositionMode.HEDGE))
    assert out.book.account("main").position_mode is PositionMode.HEDGE
    assert len(out.book.positions) == 2


def test_an_unchanged_sync_reports_nothing_but_moves_the_sync_time():
    synced = replace(reconcile(Book((MAIN,), ()), "main", state(held(), at=T0)).book.positions[0])
    book = Book((replace(MAIN, wallet_balance=10_000.0),), (synced,))
    out = reconcile(book, "main", state(held(), at=T1))
    assert out.unchanged and out.book.positions[0].synced_at == T1


@pytest.mark.parametrize(
    ("ours", "exchange", "mark", "difference", "check"),
    [
        (42_650.60, 42_750.60, 61_000.5, -100.0, False),  # 0.16% of the mark: within 0.5%
        (42_650.60, 42_350.60, 61_000.5, 300.0, False),  # 0.49%
        (42_650.60, 42_300.60, 61_000.5, 350.0, True),  # 0.57%: check
        (3_705.18, 3_650.00, 3_050.25, 55.18, True),  # 1.8% of an ETH mark
    ],
)
def test_the_cross_check_marks_a_gap_beyond_half_a_percent_of_the_mark(ours, exchange, mark, difference, check):
    result = check_liquidation(ours, exchange, mark)
    assert result is not None
    assert result.difference == pytest.approx(difference)
    assert result.check is check


def test_one_side_without_a_liquidation_price_is_a_check_and_neither_is_nothing():
    assert check_liquidation(None, 42_000.0, 61_000.0).check
    assert check_liquidation(42_000.0, None, 61_000.0).check
    assert check_liquidation(None, None, 61_000.0) is None
    assert (
        check_liquidation(42_000.0, 41_000.0, 61_000.0).words("USDT")
    ) == "ours 42,000.00 USDT, the exchange's 41,000.00 USDT (difference +1,000.00 USDT)"
