"""The plan of a what-if trade: for each kind of trade and each choice, the book to save or the refusal and why.

One account (one-way, 50,000 USDT) holding a BTC long 2 @ 60,000 and an ETH long 10 @ 3,100, marks 60,000 and
3,000; the BTC position is real cross, real isolated or hypothetical cross as the case says.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.book.trade_checks import TradeMargin
from engine.book.trade_plan import HYPOTHETICAL_STAYS, ISOLATED_ADD, plan_open, plan_trade, refusals
from engine.book.whatif import WhatIfRefused, add_to_position, close_position, flip_position, reduce_position
from engine.margin.model import Book, MarginMode, Position, Side
from engine.margin.risk import evaluate_book
from tests.engine.books import book, market, pos

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
MARKS = {("binanceusdm", BTC): 60_000.0, ("binanceusdm", ETH): 3_000.0}
WALLET = 50_000.0


def account_with(kind: str) -> Book:
    mode, margin = (MarginMode.ISOLATED, 12_000.0) if kind == "isolated" else (MarginMode.CROSS, 0.0)
    btc = pos(BTC, Side.LONG, 2.0, 60_000, mode, 10, margin)
    if kind == "hypothetical":
        btc = replace(btc, hypothetical=True)
    return book("binanceusdm", WALLET, [btc, pos(ETH, Side.LONG, 10, 3_100)], [market(BTC, 0.005), market(ETH, 0.01)])


TRADES = {
    "add": lambda b: add_to_position(b, 0, 0.5, 64_000),
    "reduce": lambda b: reduce_position(b, 0, 0.5, 64_000),
    "close": lambda b: close_position(b, 0, 64_000),
    "flip": lambda b: flip_position(b, 0, 3.0, 64_000),
}
CONTRACTS = {"add": 0.5, "reduce": 0.5, "close": 2.0, "flip": 3.0}

# (BTC position, trade, choice) -> what the choice gives: "trade" (the engine's book after the trade), "added
# hypothetical" (the real book plus the added contracts as a hypothetical position), "hypothetical trade" (the
# trade on the hypothetical position, wallet untouched), or the start of the refusal.
CASES = [
    ("cross", "add", "real", "trade"),
    ("cross", "add", "hypothetical", "added hypothetical"),
    ("isolated", "add", "real", "trade"),
    ("isolated", "add", "hypothetical", ISOLATED_ADD),
    ("cross", "reduce", "real", "trade"),
    ("cross", "reduce", "hypothetical", "Apply as hypothetical is not offered: a hypothetical position can only add"),
    ("isolated", "reduce", "hypothetical", "Apply as hypothetical is not offered: a hypothetical position can only"),
    ("cross", "close", "real", "trade"),
    ("cross", "close", "hypothetical", "Apply as hypothetical is not offered: a hypothetical position can only add"),
    ("cross", "flip", "real", "trade"),
    ("cross", "flip", "hypothetical", "Apply as hypothetical is not offered: a hypothetical position can only add"),
    ("hypothetical", "add", "hypothetical", "hypothetical trade"),
    ("hypothetical", "reduce", "hypothetical", "hypothetical trade"),
    ("hypothetical", "close", "hypothetical", "hypothetical trade"),
    ("hypothetical", "flip", "hypothetical", "hypothetical trade"),
    ("hypothetical", "add", "real", HYPOTHETICAL_STAYS),
    ("hypothetical", "close", "real", HYPOTHETICAL_STAYS),
]


@pytest.mark.parametrize(("kind", "action", "choice", "expected"), CASES)
def test_each_trade_and_choice_gives_its_book_or_says_why_not(kind, action, choice, expected):
    b = account_with(kind)
    plan = plan_trade(b, 0, action, CONTRACTS[action], 64_000)
    decision = plan.decide(choice)
    traded = TRADES[action](b)
    assert plan.after.positions == traded.book.positions
    assert plan.realized_pnl == pytest.approx(traded.realized_pnl)
    assert (decision.book is None) == (decision.refusal != "")
    assert refusals(b.positions[0], action)[choice == "real"] == plan.refused[choice]
    if expected == "trade":
        assert decision.book == traded.book
        assert decision.book.accounts[0].wallet_balance == pytest.approx(WALLET + traded.realized_pnl)
    elif expected == "added hypothetical":
        assert decision.book.without_hypothetical() == b  # the real book is untouched
        added = decision.book.positions[-1]
        assert added.hypothetical and added.contracts == 0.5 and added.entry_price == 64_000
        assert added.margin_mode is MarginMode.CROSS and added.leverage == b.positions[0].leverage
        # real + hypothetical leg is exactly the previewed account
        shown = evaluate_book(decision.book, MARKS).accounts[0]
        previewed = evaluate_book(plan.after, MARKS).accounts[0]
        assert shown.maintenance_margin == pytest.approx(previewed.maintenance_margin)
        assert shown.equity == pytest.approx(previewed.equity)
    elif expected == "hypothetical trade":
        assert decision.book.accounts == b.accounts  # an imagined trade realizes nothing
        assert decision.book.positions == traded.book.positions
        assert decision.book.without_hypothetical() == b.without_hypothetical()
        assert not plan.credited
    else:
        assert decision.book is None and decision.refusal.startswith(expected)


def test_the_refusal_names_what_the_trade_takes():
    b = account_with("cross")
    for action, verb in (("reduce", "reducing"), ("close", "closing"), ("flip", "flipping")):
        assert (
            f"{verb} takes contracts from a real position"
            in plan_trade(b, 0, action, CONTRACTS[action], 60_000).refused["hypothetical"]
        )


def test_opening_offers_both_and_flags_only_the_hypothetical_one():
    b = account_with("cross")
    new = Position("acct", "SOL/USDT:USDT", Side.SHORT, 5.0, 150, MarginMode.CROSS, 5.0)
    plan = plan_open(b, new)
    real, hypothetical = plan.decide("real").book, plan.decide("hypothetical").book
    assert real.positions[-1] == new and real.accounts == b.accounts
    assert hypothetical.positions[-1] == replace(new, hypothetical=True, note="what-if open")
    assert hypothetical.without_hypothetical().positions == b.positions  # the new market is added, nothing else
    assert (
        plan.target == len(real.positions) - 1
        and plan.description == "open SOL/USDT:USDT short: 5 contracts at 150.00 USDT"
    )


def test_a_real_trade_the_account_cannot_fund_is_refused_and_stays_possible_as_hypothetical():
    b = account_with("cross")
    plan = plan_trade(b, 0, "add", 0.5, 64_000)
    unfunded = TradeMargin(before=1_000.0, after=-2_000.0)
    refused = plan.decide("real", unfunded, "USDT")
    assert refused.book is None
    assert refused.refusal == (
        "Apply as real is refused. The exchange would refuse this trade: it needs 3,000.00 USDT of initial margin "
        "and the account has 1,000.00 USDT available (2,000.00 USDT short)."
    )
    assert plan.decide("hypothetical", unfunded, "USDT").book is not None
    freeing = TradeMargin(before=-500.0, after=-100.0)  # a trade that frees margin is always taken
    assert plan.decide("real", freeing, "USDT").book == plan.decide("real").book


def test_the_engines_refusal_reaches_the_caller_naming_the_field():
    with pytest.raises(WhatIfRefused) as raised:
        plan_trade(account_with("cross"), 0, "reduce", 3.0, 60_000)
    assert raised.value.field == "contracts"
    with pytest.raises(ValueError, match="not a trade on a position"):
        plan_trade(account_with("cross"), 0, "open", 1.0, 60_000)


def test_an_entry_price_out_of_bounds_is_refused_naming_the_entry_price_and_one_contract_is_singular():
    b = account_with("cross")
    new = Position("acct", "SOL/USDT:USDT", Side.SHORT, 1e-3, 1e13, MarginMode.CROSS, 5.0)
    with pytest.raises(WhatIfRefused) as refused:
        plan_open(b, new)
    assert refused.value.field == "price"
    assert str(refused.value) == "the entry price after the trade is out of range: at most 1e+12 (got 1e+13)"
    plan = plan_open(b, replace(new, contracts=1.0, entry_price=150.0))
    assert plan.description == "open SOL/USDT:USDT short: 1 contract at 150.00 USDT"
    with pytest.raises(WhatIfRefused, match=r"^cannot reduce by 3 contracts: the position holds 2$"):
        reduce_position(b, 0, 3.0, 64_000)
