"""`watch --sync-every`: the background sync of the saved book's linked accounts (engine.sync.background) and the
feeds for symbols a sync brings in, built for the Monitor."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from desktop.cli_support import EXIT_BAD_INPUT, CommandFailed


def watch_syncer(
    args: argparse.Namespace, path: str, settings: Mapping[str, Any], store: Any
) -> tuple[Any, Callable[[Sequence[tuple[str, str]]], list[Any]]] | None:
    """(BackgroundSync, new_feeds) for --sync-every, None without it. settings: the checked --exchange-config
    (exchange id -> ExchangeSettings); store: the watch's price store, which the new symbols' feeds publish into.
    CommandFailed (exit 2) with a portfolio file or --offline: a sync writes the saved book and reads the network."""
    if args.sync_every is None:
        return None
    if args.file:
        raise CommandFailed("--sync-every syncs the saved book: leave out the portfolio file", EXIT_BAD_INPUT)
    if args.offline:
        raise CommandFailed("--sync-every reads the exchanges: it cannot be used with --offline", EXIT_BAD_INPUT)
    from engine.market.feeds.live import live_feeds
    from engine.sync.background import BackgroundSync

    ccxt = {exchange: item.ccxt for exchange, item in settings.items()}
    return BackgroundSync(path, args.sync_every, ccxt), lambda keys: live_feeds(keys, store, settings)
