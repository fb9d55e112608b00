"""Funding payments and schedules against each venue's published rule and worked example
(sources and dates in engine/funding/rates.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.funding.payments import funding_notional, funding_payment
from engine.funding.rates import FundingBook, FundingRate, RateSource, next_funding_after, venue_funding
from engine.margin.model import MarginMode, Side
from tests.engine.books import market, pos

LONG, SHORT = Side.LONG, Side.SHORT


def utc(*args: int) -> float:
    return dt.datetime(*args, tzinfo=dt.UTC).timestamp()


def rate(value: float, hours: float = 8.0, exchange: str = "binanceusdm", symbol: str = "BTC/USDT:USDT", **kw):
    fields = {"next_funding_time": None, "fetched_at": utc(2026, 12, 1, 1), "source": RateSource.EXCHANGE} | kw
    return FundingRate(exchange, symbol, value, hours, **fields)


def test_hyperliquid_docs_example_paid_hourly_at_an_eighth_of_the_8h_rate():
    """Hyperliquid docs "Funding": interest 0.01%, impact bid 10,100, oracle 10,000 -> premium 1%, 8-hour rate
    1% + clamp(0.01% - 1%, -0.05%, 0.05%) = 0.95%; paid every hour at one eighth; payment = size × oracle × rate.
    A 10 BTC long pays 10 × 10,000 × 0.95% / 8 = 118.75 USDC an hour."""
    premium = (10_100 - 10_000) / 10_000
    eight_hour = premium + min(max(0.0001 - premium, -0.0005), 0.0005)
    assert eight_hour == pytest.approx(0.0095)
    hourly = rate(eight_hour / 8, venue_funding("hyperliquid").interval_hours, "hyperliquid", "BTC/USDC:USDC")
    position = pos("BTC/USDC:USDC", LONG, 10, 10_000, mode=MarginMode.CROSS)
    paid = funding_payment(position, market("BTC/USDC:USDC", 0.01), 10_000, hourly, utc(2026, 12, 1, 1, 30))
    assert paid.next_payment == pytest.approx(-118.75)
    assert paid.per_day == pytest.approx(-118.75 * 24)
    assert paid.next_time == utc(2026, 12, 1, 2)  # on the hour


def test_binance_faq_interest_component_is_0_01_percent_per_8h_interval_0_03_percent_a_day():
    """Binance FAQ: "the interest rate is fixed at 0.03% daily (0.01% per funding interval)", fundings at 00:00,
    08:00 and 16:00 UTC; Funding Amount = Nominal Value (mark × size) × Funding Rate."""
    r = rate(0.0001)
    assert r.per_day == pytest.approx(0.0003)
    long = pos("BTC/USDT:USDT", LONG, 2, 60_000)
    paid = funding_payment(long, market("BTC/USDT:USDT", 0.004), 61_000.0, r, utc(2026, 12, 1, 7, 59))
    assert paid.next_payment == pytest.approx(-2 * 61_000 * 0.0001)  # the long pays 12.20 USDT
    assert paid.per_day == pytest.approx(-36.60)
    assert paid.next_time == utc(2026, 12, 1, 8)


def test_binance_coinm_nominal_value_is_multiplier_times_size_over_mark():
    """Binance FAQ (COIN-M): nominal value = contract multiplier × size / mark price, in the coin. A short of
    100 BTCUSD contracts (100 USD each) at mark 50,000 is 0.2 BTC; a positive rate pays the short."""
    spec = market("BTC/USD:BTC", 0.004, contract_size=100, inverse=True)
    short = pos("BTC/USD:BTC", SHORT, 100, 50_000)
    assert funding_notional(short, spec, 50_000) == pytest.approx(0.2)
    paid = funding_payment(short, spec, 50_000, rate(0.0001, exchange="binancecoinm"), utc(2026, 12, 1))
    assert paid.next_payment == pytest.approx(0.00002)  # received, in BTC


@pytest.mark.parametrize("exchange", ["bybit", "okx", "binanceusdm"])
def test_bybit_and_okx_8h_schedule_is_00_08_16_utc_and_negative_rates_pay_longs(exchange):
    """Bybit "Funding Fee Calculation" and OKX "Introduction to perpetual swap funding fee": every 8 hours at
    00:00, 08:00 and 16:00 UTC by default; funding fee = position value × rate; negative: shorts pay longs."""
    hours = venue_funding(exchange).interval_hours
    assert hours == 8
    assert next_funding_after(utc(2026, 12, 1, 16, 0, 1), hours) == utc(2026, 12, 2, 0)
    assert next_funding_after(utc(2026, 12, 1, 8), hours) == utc(2026, 12, 1, 16)  # strictly after
    long = pos("ETH/USDT:USDT", LONG, 3, 3_000)
    paid = funding_payment(long, market("ETH/USDT:USDT", 0.005), 3_000, rate(-0.0002, exchange=exchange), 0.0)
    assert paid.next_payment == pytest.approx(3 * 3_000 * 0.0002)  # the long receives 1.80 USDT


def test_okx_shorter_intervals_and_unknown_venues():
    """OKX: "unless specified otherwise (i.e. every 2 or 4 hours)": the rate's own interval wins; a venue we
    have no source for is 8 h, said as assumed."""
    assert next_funding_after(utc(2026, 12, 1, 5, 10), 4) == utc(2026, 12, 1, 8)
    assert rate(0.0001, 4).per_day == pytest.approx(0.0006)
    assert venue_funding("somedex").assumed and venue_funding("somedex").interval_hours == 8
    assert not venue_funding("okx").assumed
    with pytest.raises(ValueError):
        next_funding_after(0.0, 0)


def test_named_next_time_wins_while_ahead_then_the_grid():
    r = rate(0.0001, next_funding_time=utc(2026, 12, 1, 8))
    assert r.next_time(utc(2026, 12, 1, 3)) == utc(2026, 12, 1, 8)
    assert r.next_time(utc(2026, 12, 1, 9)) == utc(2026, 12, 1, 16)


def test_unknown_mark_gives_unknown_payment_not_zero():
    spec = market("BTC/USDT:USDT", 0.004)
    paid = funding_payment(pos("BTC/USDT:USDT", LONG, 1, 1), spec, float("nan"), rate(1e-4), 0)
    assert paid.next_payment != paid.next_payment


def test_exchange_rates_go_stale_after_two_intervals_file_rates_do_not_age():
    r = rate(0.0001, fetched_at=utc(2026, 12, 1, 0))
    assert not r.stale(utc(2026, 12, 1, 16))
    assert r.stale(utc(2026, 12, 1, 16, 0, 1))
    assert r.age(utc(2026, 12, 1, 0, 1)) == 60
    typed = rate(0.0001, fetched_at=0.0, source=RateSource.FILE)
    assert typed.age(utc(2026, 12, 1)) == 0 and not typed.stale(utc(2026, 12, 1))


def test_funding_book_keeps_a_fresh_exchange_rate_over_a_file_rate():
    live = rate(0.0002, fetched_at=100.0)
    book = FundingBook([rate(0.0001, source=RateSource.FILE, fetched_at=0.0)])
    version = book.version
    assert book.publish([live]) == 1 and book.version == version + 1
    assert book.publish([rate(0.0005, source=RateSource.FILE, fetched_at=200.0)]) == 0
    assert book.get(live.key) == live
    # Once the exchange's rate is stale, a rate the user gives wins.
    late = 100.0 + 2 * 8 * 3600 + 1
    assert book.publish([rate(0.0005, source=RateSource.TYPED, fetched_at=late)], now=late) == 1
    assert book.snapshot()[live.key].rate == 0.0005


def test_a_tiny_interval_cannot_overflow_the_next_funding_time():
    # 5e-324 hours once overflowed floor(now / step) to infinity (a traceback in risk, watch and the window)
    now = utc(2026, 12, 1, 8, 0, 30)
    assert next_funding_after(now, 5e-324) == utc(2026, 12, 1, 8, 1)  # taken as a minute
