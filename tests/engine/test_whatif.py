"""What-if algebra: trades and margin moves return a new book and leave the old one untouched."""

from __future__ import annotations

import pytest

from engine.book.whatif import (
    WhatIfRefused,
    add_to_position,
    adjust_isolated_margin,
    apply_trade,
    close_position,
    flip_position,
    open_position,
    reduce_position,
)
from engine.margin.model import MarginMode, PositionMode, Side
from engine.margin.risk import evaluate_book
from tests.engine.books import book, market, pos

BTC = "BTC/USDT:USDT"
KEY = ("binanceusdm", BTC)
LONG, SHORT = Side.LONG, Side.SHORT


def _book(mode=MarginMode.CROSS, side=LONG, margin=0.0, wallet=50_000.0):
    return book("binanceusdm", wallet, [pos(BTC, side, 2.0, 60_000, mode, 10, margin)], [market(BTC, 0.005)])


def test_add_averages_entry_by_size_and_leaves_the_original_alone():
    original = _book()
    result = add_to_position(original, 0, 1.0, 66_000)
    assert result.book.positions[0].contracts == 3.0
    assert result.book.positions[0].entry_price == pytest.approx(62_000)
    assert original.positions[0].contracts == 2.0 and original.positions[0].entry_price == 60_000
    assert result.realized_pnl == 0


def test_add_to_inverse_position_averages_in_reciprocal_price():
    b = book(
        "binancecoinm",
        1.0,
        [pos("BTC/USD:BTC", LONG, 100, 40_000)],
        [market("BTC/USD:BTC", 0.004, contract_size=100, inverse=True)],
    )
    result = add_to_position(b, 0, 100, 60_000)
    # 10,000 USD at 40k is 0.25 BTC, another 10,000 USD at 60k is 1/6 BTC: 20,000 USD for 5/12 BTC.
    assert result.book.positions[0].entry_price == pytest.approx(20_000 / (0.25 + 1 / 6))


def test_reduce_realizes_pnl_into_the_wallet():
    result = reduce_position(_book(), 0, 0.5, 64_000)
    assert result.realized_pnl == pytest.approx(0.5 * 4_000)
    assert result.book.accounts[0].wallet_balance == pytest.approx(50_000 + 2_000)
    assert result.book.positions[0].contracts == 1.5
    assert result.book.positions[0].entry_price == 60_000


def test_short_reduce_realizes_the_opposite_sign():
    result = reduce_position(_book(side=SHORT), 0, 1.0, 64_000)
    assert result.realized_pnl == pytest.approx(-4_000)


def test_close_removes_the_position_and_keeps_equity():
    original = _book()
    before = evaluate_book(original, {KEY: 63_000}).accounts[0].equity
    result = close_position(original, 0, 63_000)
    assert result.book.positions == ()
    assert result.book.accounts[0].wallet_balance == pytest.approx(before)


def test_flip_through_zero_in_one_way_mode():
    result = apply_trade(_book(), 0, SHORT, 3.0, 61_000)
    flipped = result.book.positions[0]
    assert (flipped.side, flipped.contracts, flipped.entry_price) == (SHORT, 1.0, 61_000)
    assert result.realized_pnl == pytest.approx(2 * 1_000)


def test_flip_refused_in_hedge_mode():
    b = book("binanceusdm", 50_000, [pos(BTC, LONG, 2, 60_000)], [market(BTC, 0.005)], PositionMode.HEDGE)
    with pytest.raises(WhatIfRefused, match="hedge-mode"):
        flip_position(b, 0, 3.0, 61_000)


def test_reduce_more_than_held_is_refused():
    with pytest.raises(WhatIfRefused, match="holds 2"):
        reduce_position(_book(), 0, 2.5, 61_000)


def test_isolated_reduce_releases_margin_pro_rata():
    result = reduce_position(_book(MarginMode.ISOLATED, margin=12_000), 0, 1.0, 60_000)
    assert result.book.positions[0].isolated_margin == pytest.approx(6_000)


def test_adding_isolated_margin_moves_liquidation_away_and_removing_moves_it_closer():
    original = _book(MarginMode.ISOLATED, margin=12_000)
    prices = {KEY: 60_000}
    base = evaluate_book(original, prices).positions[0].liquidation_price
    more = evaluate_book(adjust_isolated_margin(original, 0, 2_000, prices), prices).positions[0].liquidation_price
    less = evaluate_book(adjust_isolated_margin(original, 0, -0.0, prices), prices).positions[0].liquidation_price
    assert more < base
    assert less == base
    # Short: adding margin moves the liquidation price up, away from the mark.
    short = _book(MarginMode.ISOLATED, side=SHORT, margin=15_000)
    s_base = evaluate_book(short, prices).positions[0].liquidation_price
    s_more = evaluate_book(adjust_isolated_margin(short, 0, 2_000, prices), prices).positions[0].liquidation_price
    assert s_more > s_base


def test_removing_isolated_margin_past_initial_margin_is_refused_with_the_reason():
    original = _book(MarginMode.ISOLATED, margin=13_000)  # initial margin at 60,000 is 12,000
    prices = {KEY: 60_000}
    closer = adjust_isolated_margin(original, 0, -1_000, prices)
    assert closer.positions[0].isolated_margin == pytest.approx(12_000)
    assert (
        evaluate_book(closer, prices).positions[0].liquidation_price
        > evaluate_book(original, prices).positions[0].liquidation_price
    )
    with pytest.raises(WhatIfRefused, match=r"at most 1,000.00 USDT can be removed"):
        adjust_isolated_margin(original, 0, -1_000.01, prices)


def test_adding_more_margin_than_available_is_refused():
    original = _book(MarginMode.ISOLATED, margin=12_000, wallet=13_000)
    with pytest.raises(WhatIfRefused, match=r"only 1,000\.00 USDT is available"):
        adjust_isolated_margin(original, 0, 1_500, {KEY: 60_000})


def test_cross_margin_cannot_be_adjusted():
    with pytest.raises(WhatIfRefused, match="only an isolated position"):
        adjust_isolated_margin(_book(), 0, 100, {KEY: 60_000})


def test_hypothetical_position_drags_the_other_cross_positions_liquidation():
    """A new losing cross position eats into the shared wallet: the existing long's liquidation moves up."""
    eth = "ETH/USDT:USDT"
    b = book("binanceusdm", 30_000, [pos(BTC, LONG, 2.0, 60_000)], [market(BTC, 0.005), market(eth, 0.01)])
    prices = {KEY: 60_000, ("binanceusdm", eth): 3_000}
    before = evaluate_book(b, prices).positions[0].liquidation_price
    hypothetical = pos(eth, SHORT, 10, 2_500)  # already 5,000 USDT under water at 3,000
    after_book = open_position(b, hypothetical)
    after = evaluate_book(after_book, prices).positions[0].liquidation_price
    assert after > before
    assert len(b.positions) == 1


def test_a_new_symbol_takes_the_portfolio_files_market_before_the_bundled_one():
    """What-if resolves a symbol not held yet as the file does: its `markets` entry wins over the bundled
    tiers (a wrong tier table is a wrong liquidation price)."""
    eth = "ETH/USDT:USDT"
    b = _book()
    own = market(eth, 0.2, max_leverage=20)  # nothing like Binance's bundled ETH tiers
    opened = open_position(b, pos(eth, LONG, 1.0, 3_000), {eth: own})
    assert opened.markets[("binanceusdm", eth)] == own
    bundled = open_position(b, pos(eth, LONG, 1.0, 3_000))
    assert bundled.markets[("binanceusdm", eth)] != own


def test_a_coin_margined_refusal_shows_the_amounts_in_the_coins_decimals():
    """A BTC-settled isolated position: 0.005 BTC free is not '0.01 BTC' (money() shows a coin to 6 decimals)."""
    inverse = "BTC/USD:BTC"
    b = book(
        "binancecoinm",
        0.025,
        [pos(inverse, LONG, 100, 60_000, MarginMode.ISOLATED, 10, 0.02)],
        [market(inverse, 0.005, contract_size=100, inverse=True)],
    )
    prices = {("binancecoinm", inverse): 60_000}
    assert b.accounts[0].currency == "BTC"
    with pytest.raises(WhatIfRefused, match=r"^only 0\.005000 BTC is available to add"):
        adjust_isolated_margin(b, 0, 0.006, prices)
    with pytest.raises(WhatIfRefused, match=r"^at most 0\.003333 BTC can be removed: .* of 0\.016667 BTC at the"):
        adjust_isolated_margin(b, 0, -0.004, prices)
