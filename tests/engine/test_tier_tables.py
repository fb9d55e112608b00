"""Tier tables from the exchange, stored with their age, and the one order that picks a market's table:
the portfolio file's `markets` entry, then fetched tables, then bundled ones (engine.margin.market_choice).

Exchange code runs real ccxt against the fake Bybit and OKX on 127.0.0.1 (tests/fake_exchange/)."""

from __future__ import annotations

import time

import pytest

from engine.book.portfolio import PortfolioError, parse_portfolio
from engine.margin.market_choice import TIERS_STALE_AFTER
from engine.margin.risk import evaluate_book
from engine.market.feeds.ccxt_feed import CcxtFeed
from engine.market.feeds.exchange_config import ExchangeSettings, Transport
from engine.market.feeds.tier_fetch import fetch_tables_now, hyperliquid_margin_tables, hyperliquid_tiers
from engine.market.prices import PriceStore
from engine.monitor.report import risk_to_dict, risk_to_text
from engine.storage.database import BookDatabase
from tests.fake_exchange.bybit import FakeBybit
from tests.fake_exchange.okx import FakeOkx
from tests.portfolio_docs import portfolio_doc, position_doc

BTC = "BTC/USDT:USDT"
DAY = 86_400.0


def fetched(fake: FakeBybit | FakeOkx, exchange: str, *symbols: str) -> dict:
    result = fetch_tables_now([(exchange, s) for s in symbols], {exchange: fake.ccxt_config()})[exchange]
    assert result.markets, result.note
    return {(exchange, s): m for s, m in result.markets.items()}


@pytest.fixture(scope="module")
def bybit_tables() -> dict:
    with FakeBybit() as fake:
        return fetched(fake, "bybit", BTC, "ETH/USDT:USDT")


@pytest.fixture(scope="module")
def okx_tables() -> dict:
    with FakeOkx() as fake:
        return fetched(fake, "okx", BTC)


def bybit_book(contracts: float = 40.0, **top) -> dict:
    """2,400,000 USDT notional at 60,000: Bybit's second risk limit (2,000,000-2,600,000: 0.55%, deduction 1,000)."""
    return portfolio_doc(
        position_doc(BTC, "long", contracts, 60_000, "cross", 20), exchange="bybit", wallet_balance=200_000, **top
    )


def test_a_bybit_book_is_refused_without_tables_and_works_once_they_are_fetched(bybit_tables):
    with pytest.raises(PortfolioError, match="no tier table"):
        parse_portfolio(bybit_book())
    portfolio = parse_portfolio(bybit_book(), bybit_tables)
    market = portfolio.book.markets[("bybit", BTC)]
    assert market.tiers_from == "fetched"
    assert [t.max_notional for t in market.tiers] == [2_000_000, 2_600_000, 3_200_000]
    risk = evaluate_book(portfolio.book, {("bybit", BTC): 60_000})
    assert risk.positions[0].maintenance_margin == pytest.approx(2_400_000 * 0.0055 - 1_000)
    assert market.taker_fee == pytest.approx(0.0006)  # ccxt's market data ('taker'), not a hand-typed fee


def test_okx_tiers_in_contracts_become_notional_at_the_price_fetched(okx_tables):
    market = okx_tables[("okx", BTC)]
    # 3,000 contracts x 0.01 BTC x 61,000.5 USDT (the fake's last price when fetched)
    assert market.tiers[0].max_notional == pytest.approx(3_000 * 0.01 * 61_000.5)
    assert market.tiers[1].min_notional == market.tiers[0].max_notional
    assert market.taker_fee == pytest.approx(0.0005)
    assert "contracts" in market.source
    doc = portfolio_doc(position_doc(BTC, "long", 100, 60_000, "cross", 20), exchange="okx", wallet_balance=50_000)
    risk = evaluate_book(parse_portfolio(doc, okx_tables).book, {("okx", BTC): 60_000})
    assert risk.positions[0].maintenance_margin == pytest.approx(100 * 0.01 * 60_000 * (0.004 + 0.0005))


def test_the_feed_fetches_the_tables_of_its_symbols():
    with FakeBybit() as fake:
        settings = ExchangeSettings(ccxt=fake.ccxt_config(), transport=Transport.REST)
        feed = CcxtFeed("bybit", [BTC], PriceStore(), settings, poll_interval=0.2)
        feed.start()
        try:
            deadline = time.monotonic() + 20
            while not feed.tiers_version and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            assert feed.stop()
    assert feed.tiers[BTC].tiers_from == "fetched"
    assert "1 of 1" in feed.tier_note
    assert fake.requests["/v5/market/risk-limit"] >= 1


def test_offline_the_stored_tables_are_used_with_their_age(tmp_path, bybit_tables):
    three_days = {key: _aged(m, 3 * DAY) for key, m in bybit_tables.items()}
    with BookDatabase.open(tmp_path / "book.db") as db:
        db.save_fetched_markets("bybit", {s: m for (_, s), m in three_days.items()})
    with BookDatabase.open(tmp_path / "book.db", read_only=True) as db:  # a later run, offline
        stored = db.fetched_markets()
    portfolio = parse_portfolio(bybit_book(), stored)
    risk = evaluate_book(portfolio.book, {("bybit", BTC): 60_000})
    row = risk_to_dict(risk, portfolio.book)["positions"][0]
    assert row["tiers_source"] == "fetched"
    assert row["tiers_age_s"] == pytest.approx(3 * DAY, abs=60)
    assert row["tiers_stale"] is False
    assert row["tiers_date"].startswith(time.strftime("%Y-%m-%d", time.gmtime(time.time() - 3 * DAY)))
    assert risk.positions[0].maintenance_margin == pytest.approx(2_400_000 * 0.0055 - 1_000)


def test_a_table_older_than_the_limit_is_flagged(bybit_tables):
    old = {key: _aged(m, TIERS_STALE_AFTER + DAY) for key, m in bybit_tables.items()}
    portfolio = parse_portfolio(bybit_book(), old)
    risk = evaluate_book(portfolio.book, {("bybit", BTC): 60_000})
    assert risk_to_dict(risk, portfolio.book)["positions"][0]["tiers_stale"] is True
    assert f"STALE bybit {BTC}: tiers fetched" in risk_to_text(risk, portfolio.book)


def test_the_files_entry_wins_over_fetched_tables(bybit_tables):
    own = [{"min_notional": 0, "max_notional": 1e9, "maintenance_margin_rate": 0.02, "max_leverage": 25}]
    portfolio = parse_portfolio(bybit_book(markets={f"bybit:{BTC}": {"tiers": own}}), bybit_tables)
    market = portfolio.book.markets[("bybit", BTC)]
    assert (market.tiers_from, market.tiers[0].maintenance_margin_rate) == ("file", 0.02)
    risk = evaluate_book(portfolio.book, {("bybit", BTC): 60_000})
    assert risk_to_dict(risk, portfolio.book)["positions"][0]["tiers_source"] == "file"


def test_a_partial_entry_takes_the_rest_from_the_fetched_table(bybit_tables):
    portfolio = parse_portfolio(bybit_book(markets={BTC: {"taker_fee": 0.001}}), bybit_tables)
    market = portfolio.book.markets[("bybit", BTC)]
    assert market.taker_fee == 0.001
    assert market.tiers == bybit_tables[("bybit", BTC)].tiers
    assert market.tiers_from == "fetched"


def test_hyperliquid_margin_tables_from_the_meta_payload():
    """Hyperliquid's info endpoint, perpetuals "meta": each coin names a margin table; a table is notional
    lower bounds with the max leverage above each (Hyperliquid docs "Margin tiers", read 2026-12-01)."""
    meta = {
        "universe": [{"name": "BTC", "szDecimals": 5, "maxLeverage": 40, "marginTableId": 56}],
        "marginTables": [
            [
                56,
                {
                    "description": "tiered 40x",
                    "marginTiers": [
                        {"lowerBound": "0.0", "maxLeverage": 40},
                        {"lowerBound": "150000000.0", "maxLeverage": 20},
                    ],
                },
            ],
            [3, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": 3}]}],
        ],
    }
    tables = hyperliquid_margin_tables(meta)
    assert tables[56] == ((0.0, 40.0), (150_000_000.0, 20.0))
    tiers = hyperliquid_tiers(tables[56], "hyperliquid BTC")
    assert [(t.min_notional, t.maintenance_margin_rate, t.max_leverage) for t in tiers] == [
        (0.0, 0.5 / 40, 40.0),
        (150_000_000.0, 0.5 / 20, 20.0),
    ]


def _aged(market, seconds: float):
    from dataclasses import replace

    return replace(market, tiers_at=time.time() - seconds)


@pytest.mark.parametrize(
    ("coin", "notional", "maintenance"),
    [
        # Hyperliquid docs "Margin tiers" (mainnet), read 2026-12-01: BTC 40x to 150M then 20x; ETH 25x to 100M;
        # SOL 20x to 70M; DOGE 10x to 20M. Maintenance rate = 1 / (2 x max leverage), deduction continuous.
        ("BTC", 1_000_000, 1_000_000 * 0.0125),
        ("BTC", 200_000_000, 200_000_000 * 0.025 - 150_000_000 * (0.025 - 0.0125)),
        ("ETH", 1_000_000, 1_000_000 * 0.02),  # the 2024-10 table's 50x gave half of it: 1%
        ("SOL", 1_000_000, 1_000_000 * 0.025),
        ("DOGE", 1_000_000, 1_000_000 * 0.05),  # 20x before: 2.5%
    ],
)
def test_the_bundled_hyperliquid_tables_follow_the_margin_tiers_page(coin, notional, maintenance):
    symbol = f"{coin}/USDC:USDC"
    doc = portfolio_doc(
        position_doc(symbol, "long", notional / 100, 100, "cross", 2),
        exchange="hyperliquid",
        wallet_balance=notional,
    )
    portfolio = parse_portfolio(doc)
    risk = evaluate_book(portfolio.book, {("hyperliquid", symbol): 100})
    assert risk.positions[0].maintenance_margin == pytest.approx(maintenance)
    row = risk_to_dict(risk, portfolio.book)["positions"][0]
    assert (row["tiers_source"], row["tiers_date"][:10]) == ("bundled", "2026-12-01")


def test_hyperliquid_tables_come_from_its_meta_margin_tables():
    """Real ccxt against the fake Hyperliquid (tests/fake_exchange/hyperliquid.py): ccxt has no tier call there;
    the `meta` info request's margin tables give the tiers, marginTableId names each coin's."""
    from tests.fake_exchange.hyperliquid import FakeHyperliquid

    symbol = "ETH/USDC:USDC"
    with FakeHyperliquid() as fake:
        tables = fetched(fake, "hyperliquid", symbol)
    market = tables[("hyperliquid", symbol)]
    assert [(t.min_notional, t.max_leverage) for t in market.tiers] == [(0.0, 25.0), (100_000_000.0, 15.0)]
    assert "meta margin tables" in market.source
    doc = portfolio_doc(position_doc(symbol, "long", 1_000, 3_000, "cross", 5), exchange="hyperliquid")
    doc["accounts"][0]["wallet_balance"] = 3_000_000
    portfolio = parse_portfolio(doc, tables)
    risk = evaluate_book(portfolio.book, {("hyperliquid", symbol): 3_000})
    assert risk.positions[0].maintenance_margin == pytest.approx(3_000_000 * 0.5 / 25)
    assert risk_to_dict(risk, portfolio.book)["positions"][0]["tiers_source"] == "fetched"
