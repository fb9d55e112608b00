"""The start-up fast paths give what the paths they stand in front of give (the book load and the session's
first compile, tests/benchmarks/bench_gui --startup-only): number bounds in one pass, duplicate JSON keys found
only when a key repeats, enum values looked up in a table, bundled tier tables shared by value, break-evens with
each market's fee found once, tier arrays filled from lists."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.book import number_bounds
from engine.book.document_reader import Reader
from engine.book.portfolio import decode_json
from engine.funding.fees import book_break_evens, position_break_even
from engine.margin.layout import book_layout
from engine.margin.model import MarginMode, Position, Side
from engine.margin.tier_arrays import TierArrays
from engine.margin.tiers import _MarketsReadOnDemand
from tests.benchmarks.bench_gui import build_document

EDGES = [0.0, -0.0, 1e-12, 0.01, 1.0, 1000.0, 1e12, 1e15, 2e15, -1.0, math.inf, -math.inf, math.nan]
numbers = st.one_of(st.sampled_from(EDGES), st.floats(allow_nan=True, allow_infinity=True))


@settings(max_examples=400, deadline=None)
@given(
    contracts=numbers,
    entry=numbers,
    leverage=numbers,
    margin=numbers,
    mode=st.sampled_from(list(MarginMode)),
    stop=st.one_of(st.none(), numbers),
)
def test_the_one_pass_bound_check_passes_what_the_full_check_passes(contracts, entry, leverage, margin, mode, stop):
    p = Position("a", "BTC/USDT:USDT", Side.LONG, contracts, entry, mode, leverage, margin, stop_loss=stop)
    full = number_bounds._each_bound_violation(0, p)
    assert number_bounds._bound_violations(0, p) == full
    if number_bounds._within_bounds(p):
        assert full == []


def test_repeated_json_keys_are_still_named_and_the_last_value_kept():
    data = decode_json('{"a": 1, "b": 2, "a": 3, "c": {"x": 1, "x": 2}}')
    assert data == {"a": 3, "b": 2, "c": {"x": 2}}
    assert data.duplicates == ["a"] and data["c"].duplicates == ["x"]
    assert not hasattr(decode_json('{"a": 1, "b": 2}'), "duplicates")


def test_a_choice_is_the_enum_member_and_a_bad_one_still_refused():
    reader = Reader()
    assert reader.choice({"side": "short"}, "side", 0, Side) is Side.SHORT
    assert reader.choice({}, "margin_mode", 0, MarginMode, MarginMode.CROSS) is MarginMode.CROSS
    assert reader.choice({"side": "Long"}, "side", 0, Side) is None
    assert reader.choice({"side": ["long"]}, "side", 0, Side) is None
    assert [v.text() for v in reader.violations] == [
        "'side' must be 'long' or 'short', not \"Long\"",
        "'side' must be 'long' or 'short', not a list",
    ]


def test_markets_with_the_same_tier_rows_share_tiers_and_a_zero_keeps_its_sign():
    row = {"minNotional": 0.0, "maxNotional": 5000.0, "maintenanceMarginRate": 0.01, "maxLeverage": 50.0}
    top = {"minNotional": 5000.0, "maxNotional": None, "maintenanceMarginRate": 0.02, "info": {"cum": "50"}}
    negative_zero = {**row, "minNotional": -0.0}
    data = {
        "source": "test",
        "date": "2024-10",
        "tiers": {
            "A/USDT:USDT": [row, top],
            "B/USDT:USDT": [dict(row), dict(top)],
            "C/USDT:USDT": [negative_zero, top],
        },
    }
    markets = _MarketsReadOnDemand("binanceusdm", data)
    a, b, c = (markets[s] for s in ("A/USDT:USDT", "B/USDT:USDT", "C/USDT:USDT"))
    assert a.tiers is b.tiers and a.tiers[1].maintenance_amount == 50.0 and a.tiers[1].max_notional == math.inf
    assert c.tiers == a.tiers and c.tiers is not a.tiers
    assert math.copysign(1.0, c.tiers[0].min_notional) == -1.0


def bench_book():
    from engine.book.portfolio import parse_portfolio

    return parse_portfolio(build_document()).book


def test_break_evens_of_the_book_are_each_positions_own():
    book = bench_book()
    assert book_break_evens(book) == [position_break_even(book, p) for p in book.positions]


def test_tier_arrays_hold_each_legs_tiers_padded():
    legs = [leg.leg for leg in book_layout(bench_book()).legs]
    arrays = TierArrays(legs)
    n_tiers = max(len(leg.tiers) for leg in legs)
    lower = np.full((n_tiers, len(legs)), np.inf)
    rate = np.zeros((len(legs), n_tiers))
    amount = np.zeros((len(legs), n_tiers))
    for k, leg in enumerate(legs):  # the element-by-element fill the arrays were made with before
        for t, tier in enumerate(leg.tiers):
            lower[t, k], rate[k, t], amount[k, t] = tier.lower, tier.rate, tier.amount
    assert np.array_equal(arrays.lower_by_column, lower) and arrays.lower_by_column.flags.c_contiguous
    assert np.array_equal(arrays.rate_by_leg, rate.ravel()) and np.array_equal(arrays.amount_by_leg, amount.ravel())
    assert np.array_equal(arrays.rate, rate.T.ravel()) and np.array_equal(arrays.amount, amount.T.ravel())
    empty = TierArrays([])
    assert empty.lower_by_column.shape == (1, 0) and empty.rate_by_leg.shape == (0,)


def test_legs_on_markets_sharing_a_table_share_applied_tiers_of_the_same_values():
    from engine.margin.liquidation import applied_tiers
    from engine.margin.rules import profile_of

    book = bench_book()
    layout = book_layout(book)
    for leg in layout.legs:
        account = book.account(leg.account)
        assert leg.leg.tiers == applied_tiers(book.markets[leg.price_key], profile_of(account))
    assert len({id(leg.leg.tiers) for leg in layout.legs}) < len({leg.price_key for leg in layout.legs})


@settings(max_examples=300, deadline=None)
@given(value=st.text(alphabet=st.characters(codec=None, max_codepoint=0x10FFFF)) | st.text(" \t\n\x0b\x0c\r\x1c\x1da"))
def test_the_ascii_text_check_says_what_the_full_one_says(value):
    from engine.book.book_rules import text_problem

    for empty_ok in (False, True):
        said = text_problem(value, empty_ok=empty_ok)
        if not empty_ok and not value.strip():
            assert said == "must not be empty"
        elif value.isascii():
            assert said is None


@settings(max_examples=300, deadline=None)
@given(
    bounds=st.lists(st.floats(0, 1e12), min_size=1, max_size=12, unique=True),
    notional=st.one_of(st.floats(allow_nan=False), st.sampled_from([0.0, -0.0, 1e12])),
)
def test_the_applied_tier_index_is_the_bisection_of_the_lower_bounds(bounds, notional):
    import bisect

    from engine.margin.liquidation import AppliedTier, applied_tier_index

    lowers = sorted(bounds)
    tiers = [AppliedTier(lo, hi, 0.01, 0.0) for lo, hi in zip(lowers, [*lowers[1:], math.inf], strict=True)]
    assert applied_tier_index(tiers, notional) == max(0, bisect.bisect_right(lowers, notional) - 1)


@settings(max_examples=300, deadline=None)
@given(
    contracts=st.floats(allow_nan=False),
    entry=st.floats(allow_nan=False).filter(bool),
    size=st.floats(allow_nan=False),
    inverse=st.booleans(),
    side=st.sampled_from(list(Side)),
)
def test_the_checked_entry_notional_is_the_exposures_bit_for_bit(contracts, entry, size, inverse, side):
    from engine.margin.exposure import exposure
    from engine.margin.model import MarketSpec, Tier

    market = MarketSpec("X/USD:USD", (Tier(0.0, 1e30, 0.01, 0.0, 0.0),), contract_size=size, inverse=inverse)
    p = Position("a", "X/USD:USD", side, contracts, entry, MarginMode.CROSS, 10.0, 0.0)
    want = exposure(p, market).entry_notional
    got = number_bounds.entry_notional(p, market)
    assert got == want or (math.isnan(got) and math.isnan(want))
    assert math.copysign(1.0, got) == math.copysign(1.0, want)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(allow_nan=False) | st.just(-0.0), st.floats(allow_nan=False), st.floats()),
        min_size=1,
        max_size=3,
    )
)
def test_a_legs_sums_are_sums_bit_for_bit(values):
    from engine.margin.exposure import Exposure
    from engine.margin.layout import _sums

    members = [Exposure(slope, offset, nu, 1.0) for nu, slope, offset in values]
    want = (
        sum(e.nu for e in members),
        sum(e.pnl_slope for e in members),
        sum(e.pnl_offset for e in members),
    )
    got = _sums(members)
    assert [repr(x) for x in got] == [repr(x) for x in want]


@settings(max_examples=300, deadline=None)
@given(value=st.text(" \t\n\x1fab\u00e9\u2003") | st.none() | st.integers(), default=st.sampled_from([None, ""]))
def test_reading_text_keeps_what_text_problem_keeps(value, default):
    from engine.book.book_rules import text_problem

    reader = Reader()
    got = reader.text({} if value is None else {"note": value}, "note", 0, default=default)
    value = default if value is None else value
    if isinstance(value, str) and text_problem(value, empty_ok=default is not None) is None:
        assert got == value and not reader.violations
    else:
        assert got is None and len(reader.violations) == 1


@settings(max_examples=300, deadline=None)
@given(
    rates=st.lists(st.floats(-0.5, 1.5) | st.just(-0.0), min_size=1, max_size=4),
    fee=st.floats(0, 0.5) | st.just(-0.0),
    inverse=st.booleans(),
    exchange=st.sampled_from(["binanceusdm", "okx", "bybit", "hyperliquid", "kraken"]),
)
def test_the_market_rate_check_says_what_effective_rate_says(rates, fee, inverse, exchange):
    from engine.book.venue_rules import _profiles, market_rate_problem
    from engine.margin.model import MarketSpec, Tier

    tiers = tuple(Tier(float(k), float(k + 1), r, 0.0, 10.0 * k) for k, r in enumerate(rates))
    market = MarketSpec("X/USD:USD", tiers, taker_fee=fee, inverse=inverse)
    want = None
    for profile in _profiles(exchange):  # the check tier by tier through RuleProfile.effective_rate
        for tier in tiers:
            try:
                rate = profile.effective_rate(tier, market)
            except ValueError as e:
                want = str(e)
                break
            if not 0 <= rate < 1:
                want = f"the maintenance rate on {exchange} comes to {rate:.4g} (fee included)"
                break
        if want:
            break
    said = market_rate_problem(market, exchange)
    assert (said is None) == (want is None)
    assert want is None or said.startswith(want)
