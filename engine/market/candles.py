"""Hourly candles through ccxt's public `fetch_ohlcv`: the history the volatility of each symbol comes from.

No API keys: OHLCV is public market data. A blocking call (ccxt's synchronous client), for a worker thread or
the command line, never the GUI thread. ccxt's failures are translated here, where they enter the project:
each (exchange, symbol) that could not be fetched gets one line saying why (engine.market.feeds.ccxt_faults),
the others are still returned.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from engine.margin.model import PriceKey
from engine.market.feeds.ccxt_faults import describe_error, raised_in_ccxt
from engine.market.feeds.exchange_config import ExchangeSettings, deep_merge
from engine.market.volatility import HOUR_S, Series, hourly_series

CANDLE_DAYS = 30
"""30 days of hourly candles (720 returns): enough for a stable estimate, recent enough to follow a regime."""
_PAGE = 1000
"""Candles asked per request (Binance's futures klines allow up to 1,500; most exchanges at least 1,000)."""
_CCXT_CONFIG: Mapping[str, Any] = {"enableRateLimit": True, "timeout": 10_000}


def fetch_hourly_closes(exchange: Any, symbol: str, days: int = CANDLE_DAYS, now_s: float | None = None) -> Series:
    """The hourly closes of `symbol` over the last `days` days, oldest first, from a ccxt exchange (synchronous
    client, markets loaded or not): fetch_ohlcv(symbol, '1h', since, limit), page by page.

    Raises what ccxt raises (ccxt.BaseError, or a parsing error for a payload it cannot read)."""
    now_s = time.time() if now_s is None else now_s
    first_hour = math.floor(now_s / HOUR_S) - days * 24
    since_ms = int(first_hour * HOUR_S * 1000)
    times: list[float] = []
    closes: list[float] = []
    for _ in range(math.ceil(days * 24 / _PAGE) + 2):  # a bounded number of pages, whatever the exchange sends
        batch = exchange.fetch_ohlcv(symbol, "1h", since_ms, _PAGE)
        fresh = [c for c in batch if c[0] >= since_ms and c[4] is not None]
        if not fresh:
            break
        times += [c[0] / 1000 for c in fresh]
        closes += [float(c[4]) for c in fresh]
        since_ms = int(fresh[-1][0]) + int(HOUR_S * 1000)
        if since_ms > now_s * 1000:
            break
    return hourly_series(times, closes)


def fetch_book_candles(
    keys: Collection[PriceKey],
    settings: Mapping[str, ExchangeSettings] | None = None,
    days: int = CANDLE_DAYS,
    now_s: float | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> tuple[dict[PriceKey, Series], dict[PriceKey, str]]:
    """Hourly closes for each (exchange, symbol): ({key: series}, {key: why it could not be fetched}).

    cancelled: asked before each symbol; once True, the symbols not fetched yet are left out of both.

    settings: the --exchange-config of each exchange (ccxt constructor settings, deep-merged), as for the
    feeds. One ccxt client per exchange. ccxt's errors (and its parsers' on the exchange's garbage) become the
    key's line; anything else is a bug of ours and is raised."""
    import ccxt  # heavy: only when candles are fetched

    series: dict[PriceKey, Series] = {}
    failed: dict[PriceKey, str] = {}
    by_exchange: dict[str, list[str]] = {}
    for exchange_id, symbol in keys:
        by_exchange.setdefault(exchange_id, []).append(symbol)
    for exchange_id, symbols in by_exchange.items():
        cls = getattr(ccxt, exchange_id, None) if exchange_id in ccxt.exchanges else None
        if cls is None:
            failed.update({(exchange_id, s): f"ccxt has no exchange '{exchange_id}'" for s in symbols})
            continue
        item = (settings or {}).get(exchange_id, ExchangeSettings())
        client = cls(deep_merge(_CCXT_CONFIG, item.ccxt))
        for symbol in symbols:
            if cancelled():
                return series, failed
            try:
                series[(exchange_id, symbol)] = fetch_hourly_closes(client, symbol, days, now_s)
            except Exception as e:
                if not (isinstance(e, ccxt.BaseError) or raised_in_ccxt(e)):
                    raise  # a bug of ours, not the exchange's fault
                failed[(exchange_id, symbol)] = describe_error(e)
    return series, failed
