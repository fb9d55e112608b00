"""Venue rules of a book: Bybit's account type in every door (file, saved book, JSON), BitMEX named as missing
from ccxt, and the generic profile labelled an estimate wherever figures are shown."""

from __future__ import annotations

import json
import sqlite3

import ccxt
import pytest

from engine.book.portfolio import PortfolioError, parse_portfolio, portfolio_to_dict
from engine.book.venue_rules import NOT_IN_CCXT
from engine.margin.model import AccountType
from engine.margin.risk import evaluate_book
from engine.margin.rules import profile_for
from engine.monitor.report import risk_to_dict, risk_to_text
from engine.storage import checksum
from engine.storage.database import BookDatabase
from engine.storage.migrations import migrate
from tests.portfolio_docs import portfolio_doc, position_doc

# Bybit's cross example 1 (tests/engine/test_published_examples.py): 8,950 classic, 8,944.72 unified.
MARKETS = {"BTC/USDT:USDT": {"tiers": [{"min_notional": 0, "max_notional": 1e9, "maintenance_margin_rate": 0.005}]}}


def bybit_doc(**account) -> dict:
    doc = portfolio_doc(
        position_doc(contracts=2, entry_price=10_000, leverage=100),
        exchange="bybit",
        wallet_balance=2_200,
        prices={"BTC/USDT:USDT": 10_500},
        markets=MARKETS,
    )
    doc["accounts"][0].update(account)
    return doc


def liquidation(doc: dict) -> float:
    portfolio = parse_portfolio(doc)
    return evaluate_book(portfolio.book, portfolio.price_map()).positions[0].liquidation_price


def test_account_type_in_the_file_picks_the_rules_and_round_trips():
    assert liquidation(bybit_doc()) == pytest.approx(8_944.7236, abs=1e-4)  # unified: the default
    assert liquidation(bybit_doc(account_type="unified")) == pytest.approx(8_944.7236, abs=1e-4)
    assert liquidation(bybit_doc(account_type="classic")) == pytest.approx(8_950, abs=1e-9)
    portfolio = parse_portfolio(bybit_doc(account_type="classic"))
    assert portfolio.book.accounts[0].account_type is AccountType.CLASSIC
    written = portfolio_to_dict(portfolio)
    assert written["accounts"][0]["account_type"] == "classic"
    assert parse_portfolio(written).book == portfolio.book


@pytest.mark.parametrize(
    ("account", "message"),
    [
        ({"account_type": "pro"}, "'account_type' must be 'unified' or 'classic', not \"pro\""),
        (
            {"exchange": "okx", "account_type": "classic"},
            "'classic' is a Bybit account type; okx accounts are 'unified'",
        ),
    ],
)
def test_a_wrong_account_type_is_refused_naming_the_field(account, message):
    with pytest.raises(PortfolioError) as refused:
        parse_portfolio(bybit_doc(**account))
    assert message in str(refused.value)


def test_bitmex_is_refused_in_one_line_that_says_ccxt_lacks_it():
    assert "bitmex" not in ccxt.exchanges  # when ccxt has it again, give it a profile and drop it from NOT_IN_CCXT
    assert set(NOT_IN_CCXT).isdisjoint(ccxt.exchanges)
    with pytest.raises(PortfolioError) as refused:
        parse_portfolio(bybit_doc(exchange="bitmex"))
    assert str(refused.value) == (
        "account 1 (main): BitMEX is not in the installed ccxt: Margin Watch can neither read its prices nor apply "
        "its rules"
    )


def test_the_saved_book_keeps_the_account_type(tmp_path):
    portfolio = parse_portfolio(bybit_doc(account_type="classic"))
    with BookDatabase.open(tmp_path / "book.db") as db:
        db.import_portfolio(portfolio, replace=True)
    with BookDatabase.open(tmp_path / "book.db") as db:
        assert db.load().book.accounts[0].account_type is AccountType.CLASSIC


def test_a_book_saved_before_account_types_opens_unified_and_undamaged(tmp_path):
    """Schema 4 with its checksum computed: step 5 adds the column and the checksum is computed afresh (the rows
    changed shape), so the book is neither called damaged nor moved aside."""
    path = tmp_path / "book.db"
    connection = sqlite3.connect(path, isolation_level=None)
    migrate(connection, target=4)
    connection.execute(
        "INSERT INTO account (name, exchange, wallet_balance, currency, position_mode) "
        "VALUES ('old', 'bybit', 2200, 'USDT', 'oneway')"
    )
    checksum.store_checksum(connection)
    connection.close()
    with BookDatabase.open(path) as db:
        assert db.notice.moved_aside is None and not db.notice.message
        (account,) = db.load().book.accounts
        assert account.account_type is AccountType.UNIFIED
        assert checksum.stored_checksum(db._connection) == checksum.book_checksum(db._connection)


def test_json_and_text_name_the_rule_profile_and_the_generic_one_is_an_estimate():
    portfolio = parse_portfolio(bybit_doc(account_type="classic"))
    risk = evaluate_book(portfolio.book, portfolio.price_map())
    (account,) = risk_to_dict(risk)["accounts"]
    assert (account["account_type"], account["rule_profile"], account["estimate"]) == (
        "classic",
        "Bybit (classic account)",
        False,
    )
    assert "Bybit (classic account)" in risk_to_text(risk)

    generic = parse_portfolio(bybit_doc(exchange="bingx"))
    risk = evaluate_book(generic.book, generic.price_map())
    doc = risk_to_dict(risk)
    (account,) = doc["accounts"]
    assert account["rule_profile"] == "bingx (generic estimate)" and account["estimate"] is True
    assert account["estimate_reason"] == "no rule profile for bingx: the generic rule was used"
    assert all(p["estimate"] is True for p in doc["positions"])
    text = risk_to_text(risk)
    assert "bingx (generic estimate)" in text and "Estimate: no rule profile for bingx" in text


@pytest.mark.parametrize("exchange", ["kucoinfutures", "bitget", "phemex", "mexc", "deribit"])
def test_the_new_venues_have_profiles_of_their_own(exchange):
    assert exchange in ccxt.exchanges
    assert not profile_for(exchange).estimate
    assert json.dumps(profile_for(exchange).title)


@pytest.mark.parametrize(
    ("exchange", "account_type", "fee"),
    [("bybit", AccountType.CLASSIC, 0.0), ("mexc", AccountType.UNIFIED, 0.0), ("mexc", AccountType.UNIFIED, 0.0002)],
)
def test_maintenance_at_entry_is_tiered_on_the_exchanges_whole_position(exchange, account_type, fee):
    """Two cross longs of one symbol are one position on the exchange: its tier follows their summed entry
    notional. 300,000 USDT, 2 x 10 BTC long @ 100,000, tiers 0.5% to 1,000,000 then 1% less 5,000:
    maintenance at entry = 2,000,000 x 1% - 5,000 = 15,000 (not 2 x 5,000), so without a fee
    300,000 + 20 (P - 100,000) = 15,000 -> P = 85,750 (85,500 when each half was tiered on its own).
    With MEXC's fee at the mark: 300,000 + 20 (P - 100,000) = 15,000 + 20 P x 0.0002."""
    from engine.margin.live_risk import LiveEvaluator
    from engine.margin.model import MarketSpec, Side, Tier
    from tests.engine.books import book, pos

    tiers = (Tier(0.0, 1_000_000.0, 0.005, 0.0, 100.0), Tier(1_000_000.0, 1e15, 0.01, 5_000.0, 50.0))
    market = MarketSpec("BTC/USDT:USDT", tiers, taker_fee=fee, max_leverage=100.0)
    halves = book(
        exchange, 300_000, [pos(market.symbol, Side.LONG, 10, 100_000)] * 2, [market], account_type=account_type
    )
    whole = book(exchange, 300_000, [pos(market.symbol, Side.LONG, 20, 100_000)], [market], account_type=account_type)
    expected = 15_000 / (20 * (1 - fee)) + 85_000 / (1 - fee) if fee else 85_750
    marks = {(exchange, market.symbol): 100_000.0}
    for shown in (halves, whole):
        scalar = evaluate_book(shown, marks).positions
        live = LiveEvaluator(shown).evaluate(marks)[0].positions
        for risk in (*scalar, *live):
            assert risk.liquidation_price == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("typed", "told"), [("binance", "'binanceusdm' for USDⓈ-M futures"), ("kucoin", "'kucoinfutures'")]
)
def test_a_spot_exchange_id_is_refused_with_the_futures_id_to_use(typed, told):
    with pytest.raises(PortfolioError) as refused:
        parse_portfolio(bybit_doc(exchange=typed))
    assert f"'{typed}' is the spot exchange in ccxt: use {told}" in str(refused.value)
