"""Which ccxt call a feed reads an exchange's prices with, and how its answer becomes a mark.

Liquidation is judged at the mark price, so a feed reads the mark wherever the exchange publishes it,
and says so when it cannot: a last trade standing in for the mark is labelled (Tick.mark_is_last_trade),
and a mid is never taken for a mark.

The call (choose_method): the first of these that ccxt's class offers (`exchange.has`) and that is not
known to give something else than the futures mark on that exchange (AVOID):

    websocket: watch_mark_prices, watch_mark_price (one per symbol), watch_tickers, watch_ticker (one per symbol)
    rest:      fetch_mark_prices, fetch_mark_price (one per symbol), fetch_tickers, fetch_ticker (one per symbol)

Per exchange, from ccxt 4.5.90's own source (ccxt/<id>.py, ccxt/pro/<id>.py), read 2026-12-01:
- hyperliquid: watch_tickers subscribes to 'allMids' (mids only, no mark); watch_ticker subscribes to the
  coin's 'activeAssetCtx', whose ctx carries markPx; fetch_tickers reads metaAndAssetCtxs (markPx),
  with type 'swap' so that a poll does not also fetch the spot and builder-deployed lists.
  ccxt's parse_ticker leaves markPrice empty and puts the mid (midPx) into close and last.
- kucoinfutures: fetch_mark_prices is kucoin's, reading GET /api/v3/mark-price/all-symbols, the
  spot-margin mark list, not the futures marks; fetch_mark_price reads the contract's own
  GET /api/v1/mark-price/{symbol}/current; watch_mark_price streams /contract/instrument's mark.
- bitget: fetch_mark_price costs a request per symbol while fetch_tickers carries markPrice for
  every contract (parse_ticker), so fetch_tickers.
- bingx: its only stream, watch_ticker, carries no mark (ccxt/pro/bingx.py parse_ws_ticker), while
  fetch_mark_prices reads the premium index: in auto the feed polls the mark (POLL_FOR_THE_MARK).

The mark (mark_of): the ticker's unified markPrice; else the exchange's own mark field in the raw
ticker (`info`) where ccxt does not map it (INFO_MARK_FIELDS); else the last trade, labelled, except
where ccxt's last is not a trade (NO_STAND_IN): there the tick has no price and the store refuses it,
so the symbol ages and shows stale instead of showing a mid as its mark.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.market.feeds.exchange_config import Transport
from engine.market.prices import Tick

WEBSOCKET_METHODS = (
    ("watchMarkPrices", "watch_mark_prices", False),
    ("watchMarkPrice", "watch_mark_price", True),
    ("watchTickers", "watch_tickers", False),
    ("watchTicker", "watch_ticker", True),
)
"""(ccxt capability, method, one call per symbol) in the order a websocket feed prefers them."""

REST_METHODS = (
    ("fetchMarkPrices", "fetch_mark_prices", False),
    ("fetchMarkPrice", "fetch_mark_price", True),
    ("fetchTickers", "fetch_tickers", False),
    ("fetchTicker", "fetch_ticker", True),
)
"""(ccxt capability, method, one call per symbol) in the order a polling feed prefers them."""

AVOID: Mapping[str, Mapping[str, str]] = {
    "hyperliquid": {"watch_tickers": "its 'allMids' channel carries mids, not the mark"},
    "kucoinfutures": {"fetch_mark_prices": "it reads KuCoin's spot-margin mark list, not the futures marks"},
    "bitget": {"fetch_mark_price": "one request per symbol, while fetch_tickers carries every contract's mark"},
}
"""Per ccxt exchange id, methods the feed does not use there, and why (see the module docstring)."""

POLL_FOR_THE_MARK: Mapping[str, str] = {
    "bingx": "its ticker stream (watch_ticker) carries no mark, while fetch_mark_prices reads every contract's",
}
"""Exchanges whose stream carries no mark while a REST call does: in auto, the feed polls the mark there
rather than stream last trades (a forced websocket transport still streams them, labelled)."""

PARAMS: Mapping[tuple[str, str], Mapping[str, Any]] = {
    ("hyperliquid", "fetch_tickers"): {"type": "swap"},
}
"""Extra ccxt params per (exchange id, method): Hyperliquid's perpetuals only (one request, not three)."""

INFO_MARK_FIELDS: Mapping[str, tuple[str | int, ...]] = {
    "hyperliquid": ("markPx",),  # metaAndAssetCtxs and activeAssetCtx ctx (Hyperliquid API docs, Info endpoint)
    "bitget": ("markPrice",),  # the contract ticker channel's data (Bitget API, Tickers Channel); ccxt/pro omits it
    "mexc": ("fairPrice",),  # contract ticker and push.tickers (MEXC contract API: 'fair price' is its mark)
    # USDT perpetuals: the REST 24h ticker's markPriceRp; the perp_market24h_pack_p stream's rows, whose
    # 'fields' put markRp at index 9 (Phemex Hedged Perpetual API; ccxt/pro/phemex.py handle_ticker).
    "phemex": ("markPriceRp", 9),
}
"""Per ccxt exchange id, where the raw ticker (`info`) holds the mark when ccxt's ticker has no markPrice:
a key of a mapping, or an index of a row (a number or its text)."""

NO_STAND_IN: Mapping[str, str] = {
    "hyperliquid": "ccxt's last is the order book's mid (midPx, allMids), not a trade",
}
"""Exchanges whose ticker 'last' is not a last trade: without a mark their ticks carry no price."""


@dataclass(frozen=True, slots=True)
class PriceMethod:
    """The ccxt call a feed reads prices with: its transport ('websocket' or 'rest'), its name, whether it
    takes one symbol per call (watch_ticker) or a list (watch_tickers), and the params it is given."""

    transport: str
    name: str
    per_symbol: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """'websocket: watch_ticker (per symbol)', as the feed's status shows it."""
        return f"{self.transport}: {self.name}" + (" (per symbol)" if self.per_symbol else "")


class NoPriceMethod(Exception):
    """ccxt's class for the exchange offers no usable public price call for the requested transport."""


def choose_method(exchange_id: str, has: Mapping[str, Any], transport: Transport) -> PriceMethod:
    """The call to read exchange_id's prices with, from ccxt's capabilities (`exchange.has`).

    Raises NoPriceMethod (its text says why) when there is none: a forced websocket transport without a
    stream, or an exchange without any public price call (dYdX in ccxt 4.5.90)."""
    avoid = AVOID.get(exchange_id, {})

    def first(methods: Sequence[tuple[str, str, bool]], kind: str) -> PriceMethod | None:
        for capability, name, per_symbol in methods:
            if has.get(capability) and name not in avoid:
                return PriceMethod(kind, name, per_symbol, PARAMS.get((exchange_id, name), {}))
        return None

    if transport is Transport.AUTO and exchange_id in POLL_FOR_THE_MARK:
        found = first(REST_METHODS[:2], "rest")
        if found:
            return found
    if transport in (Transport.AUTO, Transport.WEBSOCKET):
        found = first(WEBSOCKET_METHODS, "websocket")
        if found:
            return found
        if transport is Transport.WEBSOCKET:
            raise NoPriceMethod(f"{exchange_id} has no websocket price stream in ccxt")
    found = first(REST_METHODS, "rest")
    if found:
        return found
    raise NoPriceMethod(f"{exchange_id} offers no public price method in ccxt")


@functools.lru_cache(maxsize=256)  # the forms ask as the user types; ccxt's classes take ~4 ms to build
def price_method_problem(exchange_id: str) -> str | None:
    """Why a live feed could not read exchange_id's prices, in words; None when it can (or ccxt does
    not know the id: that is the caller's own check). For the forms and the CLI, when an account is
    created or a book is checked, so that the user hears it then and not only when the feed starts."""
    import ccxt.pro  # here: ccxt is heavy, and only the checks and live feeds need it

    cls = getattr(ccxt.pro, exchange_id, None)
    if cls is None:
        return None
    try:
        has = cls().has  # building the client opens no connection
    except Exception:  # a broken class is the feed's to report, with its own words
        return None
    try:
        choose_method(exchange_id, has, Transport.AUTO)
    except NoPriceMethod as e:
        return f"{e}: type its prices by hand (Prices dock, or 'prices' in the portfolio file)"
    return None


def price_call(exchange: Any, method: PriceMethod) -> Callable[[list[str]], Awaitable[Mapping[str, Any]]]:
    """An async callable symbols -> {symbol: ticker} over the chosen ccxt method.

    A list method is called once with every symbol. A per-symbol REST method is called for each symbol
    together. A per-symbol stream keeps one pending watch per symbol and resolves with those that
    answered first (others keep waiting for the next call); call `.cancel()` on it (PerSymbolStream)
    when the session ends."""
    bound = getattr(exchange, method.name)
    params = dict(method.params)
    if not method.per_symbol:
        return lambda symbols: bound(symbols, params) if params else bound(symbols)
    if method.transport == "websocket":
        return PerSymbolStream(lambda symbol: bound(symbol, params) if params else bound(symbol))

    async def each(symbols: list[str]) -> Mapping[str, Any]:
        answers = await asyncio.gather(*(bound(symbol, params) if params else bound(symbol) for symbol in symbols))
        return dict(zip(symbols, answers, strict=True))

    return each


class PerSymbolStream:
    """One pending ccxt watch per symbol (watch_ticker, watch_mark_price); each call returns the tickers
    of the watches that resolved, and re-arms them on the next call."""

    def __init__(self, watch: Callable[[str], Awaitable[Any]]) -> None:
        self._watch = watch
        self._pending: dict[str, asyncio.Future[Any]] = {}

    async def __call__(self, symbols: list[str]) -> Mapping[str, Any]:
        for symbol in symbols:
            if symbol not in self._pending:
                self._pending[symbol] = asyncio.ensure_future(self._watch(symbol))
        done, _ = await asyncio.wait(self._pending.values(), return_when=asyncio.FIRST_COMPLETED)
        answered = {}
        for symbol, task in list(self._pending.items()):
            if task in done:
                del self._pending[symbol]
                answered[symbol] = task.result()  # a failed watch raises here: the session reconnects
        return answered

    def cancel(self) -> None:
        """Cancel every pending watch (the session is over)."""
        for task in self._pending.values():
            task.cancel()
            if task.done():  # a result or an error nobody will read: retrieve it so asyncio does not warn
                with contextlib.suppress(BaseException):
                    task.result()
        self._pending.clear()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def mark_of(exchange_id: str, ticker: Mapping[str, Any]) -> tuple[float | None, bool]:
    """(the mark, whether it is the last trade standing in for it) of one ccxt ticker.

    The unified markPrice; else the raw ticker's INFO_MARK_FIELDS entry; else the last trade, flagged
    True, unless the exchange's last is no trade (NO_STAND_IN): then (None, False)."""
    mark = _number(ticker.get("markPrice"))
    if mark is not None:
        return mark, False
    info = ticker.get("info")
    for where in INFO_MARK_FIELDS.get(exchange_id, ()):
        mark = None
        if isinstance(where, str) and isinstance(info, Mapping):
            mark = _number(info.get(where))
        elif isinstance(where, int) and isinstance(info, list) and len(info) > where:
            mark = _number(info[where])
        if mark is not None:
            return mark, False
    if exchange_id in NO_STAND_IN:
        return None, False
    last = ticker.get("last")
    return (last, True) if last is not None else (None, True)


def ticks_from_tickers(exchange_id: str, tickers: Mapping[str, Any]) -> list[Tick]:
    """One Tick per ccxt ticker ({symbol: ticker}, as ccxt's watch and fetch calls return them); a value
    that is not a ticker gives a Tick without a price, which the store refuses and counts."""
    ticks = []
    for symbol, ticker in tickers.items():
        if not isinstance(ticker, Mapping):
            ticks.append(Tick((exchange_id, symbol), None))
            continue
        mark, from_last = mark_of(exchange_id, ticker)
        stamp = ticker.get("timestamp")
        ticks.append(
            Tick(
                key=(exchange_id, ticker.get("symbol") or symbol),
                mark=mark,
                exchange_time=stamp / 1000 if isinstance(stamp, int | float) else None,
                last=ticker.get("last") if exchange_id not in NO_STAND_IN else None,
                mark_is_last_trade=from_last,
            )
        )
    return ticks
