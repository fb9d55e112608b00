"""One set of book rules at every door (issue 13) and hostile input refused in words (issue 14).

The 100x BTC/USDT:USDT long of 6,000,000 USDT notional: Binance's tier from 3,000,000 to 12,000,000
USDT allows 50x (the bundled table, resources/tiers/binanceusdm.json), so every door refuses it.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.book.book_rules import ACCOUNT_KEYS, MAX_NOTIONAL, POSITION_KEYS, build_book, check_book
from engine.book.portfolio import PortfolioError, loads_portfolio, parse_portfolio
from engine.book.positions_csv import CsvImportError, import_positions_csv
from engine.book.whatif import WhatIfRefused, add_to_position, open_position
from engine.margin.model import Account, Book, MarginMode, Position, Side
from tests.portfolio_docs import portfolio_doc, position_doc

BTC = "BTC/USDT:USDT"
TIER_REFUSAL = "'leverage' 100× is above the maximum 50× at 6,000,000.00 USDT notional"
WHALE = position_doc(contracts=100, entry_price=60_000, leverage=100)  # 6,000,000 USDT at 100x


def refusal(doc) -> PortfolioError:
    with pytest.raises(PortfolioError) as raised:
        parse_portfolio(doc)
    return raised.value


def small_book() -> Book:
    """10,000,000 USDT in a one-way Binance account holding 0.5 BTC long, cross 10x."""
    return parse_portfolio(portfolio_doc(wallet_balance=10_000_000)).book


# --- the 6,000,000 USDT / 100x example, door by door ------------------------------------------------------


def test_the_file_refuses_100x_at_6m_notional():
    error = refusal(portfolio_doc(WHALE, wallet_balance=10_000_000))
    assert str(error) == f"position 1 ({BTC}): {TIER_REFUSAL}"
    assert [(v.field, v.where) for v in error.violations] == [("leverage", 0)]
    assert parse_portfolio(portfolio_doc(dict(WHALE, leverage=50), wallet_balance=10_000_000))


def test_csv_import_refuses_100x_at_6m_notional_on_its_line():
    portfolio = parse_portfolio(portfolio_doc(wallet_balance=10_000_000))
    header = "account,symbol,side,contracts,entry_price,margin_mode,leverage"
    with pytest.raises(CsvImportError) as raised:
        import_positions_csv(f"{header}\nmain,{BTC},long,100,60000,cross,100\n", portfolio, replace=True)
    assert [(p.line, p.field, p.message) for p in raised.value.problems] == [
        (2, "leverage", "100× is above the maximum 50× at 6,000,000.00 USDT notional")
    ]


def test_what_if_refuses_opening_or_adding_up_to_100x_at_6m_notional():
    book = small_book()
    whale = Position("main", BTC, Side.LONG, 100, 60_000, MarginMode.CROSS, 100)
    with pytest.raises(WhatIfRefused) as raised:
        open_position(Book(book.accounts, (), {}), whale)
    assert raised.value.field == "leverage"
    assert str(raised.value) == "100× is above the maximum 50× at 6,000,000.00 USDT notional"
    at_100x = Book(book.accounts, (Position("main", BTC, Side.LONG, 1, 60_000, MarginMode.CROSS, 100),), book.markets)
    with pytest.raises(WhatIfRefused, match=r"above the maximum 50× at 6,000,000\.00 USDT"):
        add_to_position(at_100x, 0, 99, 60_000)


def test_sizes_beyond_the_last_tier_are_refused():
    # Binance's last BTC tier ends at 1,800,000,000 USDT notional.
    error = refusal(portfolio_doc(position_doc(contracts=40_000, entry_price=60_000, leverage=1), wallet_balance=1e10))
    assert error.violations[0].field == "contracts"
    assert "beyond the last tier of BTC/USDT:USDT (up to 1,800,000,000.00 USDT)" in str(error)


# --- keys --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "key", "message"),
    [
        (
            "position",
            "isolated_margn",
            "position 1 (BTC/USDT:USDT): 'isolated_margn' is not a field of a position; "
            "did you mean 'isolated_margin'?",
        ),
        (
            "position",
            "hypothetcal",
            "position 1 (BTC/USDT:USDT): 'hypothetcal' is not a field of a position; did you mean 'hypothetical'?",
        ),
        (
            "account",
            "position_mod",
            "account 1 (main): 'position_mod' is not a field of an account; did you mean 'position_mode'?",
        ),
        ("top", "position", "'position' is not a field of a portfolio file; did you mean 'positions'?"),
    ],
)
def test_a_misspelled_key_is_an_error_naming_the_closest_field(where, key, message):
    doc = portfolio_doc(position_doc(margin_mode="isolated"))
    target = {"position": doc["positions"][0], "account": doc["accounts"][0], "top": doc}[where]
    target[key] = {"isolated_margn": 100, "hypothetcal": True, "position_mod": "hedge", "position": []}[key]
    error = refusal(doc)
    assert str(error) == message
    assert error.violations[0].field == key


def test_misspelled_market_and_tier_keys_are_errors():
    doc = portfolio_doc(position_doc(symbol="X/USDT:USDT", contracts=1, entry_price=10, leverage=5))
    doc["markets"] = {
        "X/USDT:USDT": {
            "contract_sise": 10,
            "tiers": [{"min_notional": 0, "max_notional": 1e9, "maintenance_margin_rate": 0.01, "max_levrage": 20}],
        }
    }
    lines = refusal(doc).lines()
    assert "'contract_sise' is not a field of a market (markets.X/USDT:USDT); did you mean 'contract_size'?" in lines
    assert (
        "'max_levrage' is not a field of a tier (markets.X/USDT:USDT.tiers[1]); did you mean 'max_leverage'?" in lines
    )


def test_a_repeated_key_is_an_error_naming_it():
    doc = json.dumps(portfolio_doc())
    text = doc.replace('"leverage": 10', '"leverage": 10, "leverage": 100')
    with pytest.raises(PortfolioError) as raised:
        loads_portfolio(text)
    assert str(raised.value) == "position 1 (BTC/USDT:USDT): 'leverage' is given twice; keep one"


def test_every_violation_is_returned_with_its_field_and_place():
    doc = portfolio_doc(
        position_doc(contracts=-1),
        position_doc(leverage=500),
        position_doc(side="short"),
        wallet_balance=-5,
    )
    error = refusal(doc)
    assert [(v.field, v.where) for v in error.violations] == [
        ("wallet_balance", "main"),
        ("contracts", 0),
        ("leverage", 1),
        ("side", 2),
    ]
    assert str(error).endswith("(and 3 more problems)")
    assert len(error.lines()) == 4


def test_the_rules_judge_a_built_book_the_same_way():
    book = small_book()
    whale = Position("main", BTC, Side.LONG, 100, 60_000, MarginMode.CROSS, 100)
    violations = check_book(Book(book.accounts, (whale,), book.markets))
    assert [(v.field, v.where) for v in violations] == [("leverage", 0)]
    assert check_book(book) == []


# --- hostile input: a one-line error naming the field, never a traceback ---------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "the JSON is nested too deeply"),
        (
            json.dumps(portfolio_doc(position_doc(contracts=1))).replace(
                '"contracts": 1', '"contracts": ' + "9" * 5000
            ),
            "position 1 (BTC/USDT:USDT): 'contracts' is an integer of 5000 digits: out of range",
        ),
        (
            json.dumps(portfolio_doc(position_doc(note="x"))).replace('"note": "x"', '"note": "\\ud800"'),
            "position 1 (BTC/USDT:USDT): 'note' holds a character that is not text (\\ud800 at character 1)",
        ),
        (
            json.dumps(portfolio_doc(name="x")).replace('"x"', '"\\ud800"'),
            "'name' holds a character that is not text (\\ud800 at character 1)",
        ),
        (
            json.dumps(portfolio_doc(position_doc(entry_price=5e-324))),
            "position 1 (BTC/USDT:USDT): 'entry_price' must be at least 1e-12 (got 4.94066e-324)",
        ),
        (
            json.dumps(portfolio_doc(position_doc(contracts=1e308))),
            "position 1 (BTC/USDT:USDT): the entry notional ('contracts' at the entry price) is not a finite number",
        ),
        (
            json.dumps(portfolio_doc(prices={BTC: 5e-324})),
            "prices: 'BTC/USDT:USDT' must be at least 1e-12",
        ),
        (json.dumps(portfolio_doc(position_doc(leverage=1e-300))), "'leverage' must be at least 0.01"),
    ],
)
def test_hostile_input_is_one_clear_error(text, message):
    with pytest.raises(PortfolioError) as raised:
        loads_portfolio(text)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_bounds_hold_for_every_book_the_rules_accept():
    """Within the bounds, no figure the file gives can overflow: the cap is far below float's range."""
    account = Account("a", "binanceusdm", 1e15, "USDT")
    near_cap = Position("a", BTC, Side.LONG, MAX_NOTIONAL / 1e12 * 0.5, 1e12, MarginMode.CROSS, 1)
    checked = build_book([account], [near_cap], markets={})
    assert [v.field for v in checked.violations] == ["contracts"]  # beyond Binance's last tier, not a crash


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(alphabet=st.characters(blacklist_categories=())),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
PLACES = st.sampled_from([("positions", 0), ("accounts", 0), ("top", None), ("markets", None), ("prices", None)])


@settings(max_examples=300, deadline=None)
@given(PLACES, st.sampled_from([*POSITION_KEYS, *ACCOUNT_KEYS, "tiers", "x"]), JSON_VALUES)
def test_any_value_anywhere_gives_a_book_or_portfolio_error(place, key, value):
    doc = portfolio_doc(prices={BTC: 61_000})
    section, index = place
    if section == "top":
        doc[key] = value
    elif section == "markets":
        doc["markets"] = {BTC: {key: value}}
    elif section == "prices":
        doc["prices"][key] = value
    else:
        doc[section][index][key] = value
    try:
        parse_portfolio(doc)
    except PortfolioError as e:
        assert all(line and "\n" not in line for line in e.lines())


# --- what the exchange checks before it takes an order ----------------------------------------------------------


def test_a_trade_needs_its_initial_margin_free_and_a_reduction_is_always_taken():
    from engine.book.trade_checks import trade_margin
    from engine.book.whatif import reduce_position

    before = parse_portfolio(portfolio_doc(wallet_balance=10_000, prices={BTC: 60_000}))  # 0.5 BTC, 10x: 3,000 IM
    prices = before.price_map()
    big = open_position(before.book, Position("main", BTC, Side.LONG, 10, 60_000, MarginMode.CROSS, 10))
    margin = trade_margin(before.book, big, "main", prices)
    assert (margin.before, margin.after, margin.needed) == pytest.approx((7_000, -53_000, 60_000))
    assert margin.refused
    small = open_position(before.book, Position("main", BTC, Side.LONG, 1, 60_000, MarginMode.CROSS, 10))
    assert not trade_margin(before.book, small, "main", prices).refused
    # Under water (mark 40,000: -10,000 uPnL), reducing frees margin and is taken though nothing is free.
    low = {k: 40_000.0 for k in prices}
    reduced = reduce_position(before.book, 0, 0.25, 40_000).book
    assert not trade_margin(before.book, reduced, "main", low).refused


@pytest.mark.parametrize(
    ("trade", "mark", "away"), [(66_000, 60_000, None), (66_001, 60_000, 0.1000167), (50_000, 60_000, -1 / 6)]
)
def test_a_price_more_than_ten_percent_from_the_mark_is_far(trade, mark, away):
    from engine.book.trade_checks import far_from_mark

    result = far_from_mark(trade, mark)
    assert result == (None if away is None else pytest.approx(away, rel=1e-6))
    assert far_from_mark(trade, None) is None


def test_a_trade_is_not_refused_for_what_other_positions_already_break():
    book = small_book()
    old = Position("main", BTC, Side.LONG, 100, 60_000, MarginMode.CROSS, 100)  # saved under older rules
    held = Book(book.accounts, (old,), book.markets)
    eth = Position("main", "ETH/USDT:USDT", Side.LONG, 1, 3_000, MarginMode.CROSS, 10)
    after = open_position(held, eth)
    assert after.positions == (old, eth)
    with pytest.raises(WhatIfRefused, match="above the market's maximum"):
        open_position(held, Position("main", "ETH/USDT:USDT", Side.LONG, 1, 3_000, MarginMode.CROSS, 500))
