"""Every live feed a book needs: a ccxt price feed and a funding-rate feed per exchange."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.market.feeds.ccxt_feed import feeds_for
from engine.market.feeds.exchange_config import ExchangeSettings
from engine.market.feeds.funding_feed import funding_feeds_for
from engine.market.prices import PriceStore


def live_feeds(
    keys: Sequence[tuple[str, str]], store: PriceStore, settings: Mapping[str, ExchangeSettings] | None = None
) -> list[Any]:
    """The price feeds (engine.market.feeds.ccxt_feed) publishing marks into store, then the funding feeds
    (engine.market.feeds.funding_feed) publishing rates into store.funding, one of each per exchange."""
    return [*feeds_for(keys, store, settings), *funding_feeds_for(keys, store.funding, settings)]
