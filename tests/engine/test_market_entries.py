"""Partial `markets` entries merge with what is known, and a fee-in-maintenance market never takes a silent 0
fee (issue 16: a max_leverage-only entry was refused with "'tiers' must be a non-empty list"; an OKX book
without taker_fee got a too-favourable liquidation price with no warning)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.book.portfolio import PortfolioError, dumps_portfolio, loads_portfolio, parse_portfolio
from engine.margin.risk import evaluate_book
from engine.margin.tiers import bundled_market
from engine.monitor.report import risk_to_dict
from tests.portfolio_docs import portfolio_doc, position_doc

ETH_HL = "ETH/USDC:USDC"
BTC = "BTC/USDT:USDT"


def test_a_hyperliquid_entry_with_only_max_leverage_sets_the_maintenance_from_it():
    """Hyperliquid: maintenance = half the initial margin at max leverage: 20x -> 2.5% of the notional. Isolated
    long 10 ETH @ 3,000 with 3,000 margin: 3,000 + 10 (P - 3,000) = 0.025 x 10 P -> P = 27,000 / 9.75."""
    doc = portfolio_doc(
        position_doc(ETH_HL, "long", 10, 3_000, "isolated", 10, isolated_margin=3_000),
        exchange="hyperliquid",
        markets={ETH_HL: {"max_leverage": 20}},
    )
    portfolio = parse_portfolio(doc)
    market = portfolio.book.markets[("hyperliquid", ETH_HL)]
    assert market.max_leverage == 20
    assert market.tiers_from == "bundled"  # the tiers are the bundled table's, capped at the entry's 20x
    risk = evaluate_book(portfolio.book, {("hyperliquid", ETH_HL): 3_000})
    assert risk.positions[0].liquidation_price == pytest.approx(27_000 / 9.75)
    assert loads_portfolio(dumps_portfolio(portfolio)).market_overrides[ETH_HL].tiers is None  # kept partial


def test_an_entry_with_only_taker_fee_takes_the_bundled_tiers():
    doc = portfolio_doc(position_doc(), markets={BTC: {"taker_fee": 0.0004}})
    market = parse_portfolio(doc).book.markets[("binanceusdm", BTC)]
    assert market.taker_fee == 0.0004
    assert market.tiers == bundled_market("binanceusdm", BTC).tiers


def test_a_partial_entry_where_no_table_is_known_asks_for_its_tiers():
    doc = portfolio_doc(position_doc(), exchange="bybit", markets={BTC: {"max_leverage": 50}})
    with pytest.raises(PortfolioError, match="no tier table for it"):
        parse_portfolio(doc)


def test_an_empty_entry_is_refused_naming_the_fields():
    with pytest.raises(PortfolioError, match="give at least one of contract_size, inverse, taker_fee"):
        parse_portfolio(portfolio_doc(position_doc(), markets={BTC: {}}))


OKX_TIERS = [{"min_notional": 0, "max_notional": 1e9, "maintenance_margin_rate": 0.004, "max_leverage": 100}]


def okx_liquidation(entry: dict) -> tuple[float, Callable[[], dict]]:
    """Isolated long 1 BTC @ 50,000 with 5,000 margin on OKX: 5,000 + (P - 50,000) = (0.004 + fee) P."""
    doc = portfolio_doc(
        position_doc(BTC, "long", 1, 50_000, "isolated", 10, isolated_margin=5_000),
        exchange="okx",
        markets={BTC: entry},
    )
    portfolio = parse_portfolio(doc)
    risk = evaluate_book(portfolio.book, {("okx", BTC): 50_000})
    return risk.positions[0].liquidation_price, lambda: risk_to_dict(risk, portfolio.book)["positions"][0]


def test_an_okx_book_without_taker_fee_takes_okxs_base_fee_and_says_so():
    liquidation, row = okx_liquidation({"tiers": OKX_TIERS})
    assert liquidation == pytest.approx(45_000 / (1 - 0.004 - 0.0005))  # 45,203.42, not 45,180.72 (fee 0)
    assert "0.05%" in row()["taker_fee_note"]
    stated, row = okx_liquidation({"tiers": OKX_TIERS, "taker_fee": 0.0002})  # a fee given is the fee used
    assert stated == pytest.approx(45_000 / (1 - 0.004 - 0.0002))
    assert row()["taker_fee_note"] is None
