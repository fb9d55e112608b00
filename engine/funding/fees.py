"""Taker fees of a trade and the break-even price of a position (its entry moved by the fees to open and close,
and by the funding it accrued where that is known).

Fee = notional at the trade price × taker rate: linear contracts × contract size × price, inverse contracts ×
contract size / price (in the coin). The rate is the market's own taker_fee (MarketSpec, from the file or the
bundled tables) when it has one, else the venue's base rate for a regular (non-VIP) account: the trader's
own tier may be lower, and the preview says which was used. Sources (read 2026-12-01):

- Binance USDⓈ-M: regular user maker 0.0200%, taker 0.0500%; COIN-M taker 0.0500%; "Commission fee = notional
  value × fee rate", COIN-M "notional value = (number of contracts × contract size) / trade price" (Binance FAQ
  "Binance Futures Fee Structure & Fee Calculations", binance.com/en/support/faq/360033544231, as quoted by
  babianfox.com/en/kb/binance-futures-fee: 1,000 USDT position: 0.5 USDT to open, 0.5 to close at taker).
- Bybit: non-VIP derivatives taker 0.055%; USDT perpetual "Fee = Order value × Fee rate, Order value = Order
  quantity × Execution price": 10 BTC at 8,000 -> 44 USDT; inverse: 10,000 BTCUSD at 8,000 -> 0.0006875 BTC
  (Bybit "Trading Fee Structure", as quoted by refeshop.com, 2024-07-31).
- OKX: regular tier 1 taker 0.05%; USDT-margined fee = face value × contracts × price × rate (100 × 0.01 ×
  10,000 × 0.0005 = 5 USDT); coin-margined = face value × contracts / price × rate (100 × 100 / 10,000 ×
  0.0005 = 0.0005 BTC) (OKX "Futures trading fees", as quoted by pastorq.com/3606.html).
- Hyperliquid: tier 0 perps taker 0.045% (Hyperliquid docs "Fees", hyperliquid.gitbook.io/hyperliquid-docs/
  trading/fees, tier table as quoted by docs.hyperodd.com/trading/fees).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.margin.model import Book, MarketSpec, Position, Side

BASE_TAKER: dict[str, tuple[float, str]] = {
    "binanceusdm": (0.0005, "Binance regular-user taker"),
    "binancecoinm": (0.0005, "Binance regular-user taker"),
    "binance": (0.0005, "Binance regular-user taker"),
    "bybit": (0.00055, "Bybit non-VIP taker"),
    "okx": (0.0005, "OKX regular tier-1 taker"),
    "hyperliquid": (0.00045, "Hyperliquid tier-0 taker"),
}


@dataclass(frozen=True, slots=True)
class TakerFee:
    """A taker rate (fraction of the notional) and where it comes from, in words ('the market's taker fee',
    'Bybit non-VIP taker: not your own tier')."""

    rate: float
    source: str

    def describe(self) -> str:
        """'0.0550% (Bybit non-VIP taker: not your own tier)'."""
        return f"{self.rate * 100:.4f}% ({self.source})"


def taker_fee(exchange: str, market: MarketSpec) -> TakerFee | None:
    """The market's own taker fee when it has one (> 0), else the venue's base rate (BASE_TAKER); None for a
    venue we know no rate of."""
    if market.taker_fee > 0:
        return TakerFee(market.taker_fee, "the market's taker fee")
    if exchange in BASE_TAKER:
        rate, words = BASE_TAKER[exchange]
        return TakerFee(rate, f"{words}: not your own tier")
    return None


def trade_fee(contracts: float, market: MarketSpec, price: float, rate: float) -> float:
    """The fee of trading `contracts` at `price` (quote currency), in the settlement currency (NaN for a price
    that is not > 0)."""
    if not (math.isfinite(price) and price > 0):
        return math.nan
    size = contracts * market.contract_size
    return (size / price if market.inverse else size * price) * rate


def break_even_price(position: Position, market: MarketSpec, rate: float, funding_received: float = 0.0) -> float:
    """The exit price (quote currency) at which closing at the taker `rate` leaves the position's PnL equal to
    the fees to open (at entry) and to close (at that price), less the funding it received (settlement currency,
    + received, - paid; 0 when unknown). Linear long: (E(1+f) - F/size) / (1-f); short: (E(1-f) + F/size) / (1+f);
    inverse (size in USD): 1/P = ((1-f)/E + F/size)/(1+f) long, ((1+f)/E - F/size)/(1-f) short."""
    e, f = position.entry_price, rate
    size = position.contracts * market.contract_size
    carried = funding_received / size
    long = position.side is Side.LONG
    if not market.inverse:
        return (e * (1 + f) - carried) / (1 - f) if long else (e * (1 - f) + carried) / (1 + f)
    inverse = ((1 - f) / e + carried) / (1 + f) if long else ((1 + f) / e - carried) / (1 - f)
    return 1 / inverse if inverse > 0 else math.inf


def position_break_even(book: Book, position: Position) -> float | None:
    """The position's break-even price on the fees alone (no funding: what the exchanges' synced data gives
    us holds none), None for a venue without a known taker rate or a market the book lacks."""
    try:
        market = book.market_of(position)
        fee = taker_fee(book.account(position.account).exchange, market)
    except KeyError:
        return None
    return None if fee is None else break_even_price(position, market, fee.rate)


def book_break_evens(book: Book) -> list[float | None]:
    """position_break_even of every position of the book, in book order, each market's taker fee found once
    (a book holds a few hundred markets for a thousand positions)."""
    fees: dict[tuple[str, str], tuple[MarketSpec, TakerFee | None] | None] = {}
    out: list[float | None] = []
    for position in book.positions:
        try:
            exchange = book.account(position.account).exchange
        except KeyError:
            out.append(None)
            continue
        key = (exchange, position.symbol)
        if key not in fees:
            market = book.markets.get(key)
            fees[key] = None if market is None else (market, taker_fee(exchange, market))
        found = fees[key]
        if found is None or found[1] is None:
            out.append(None)
        else:
            out.append(break_even_price(position, found[0], found[1].rate))
    return out
