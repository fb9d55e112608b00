"""The `marginwatch` command: the desktop app, and sub-commands for terminals and scripts.

This is the composition root. Qt is imported only when a window is opened, so `marginwatch risk`
runs on a server with no display and no Qt libraries loaded.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.cli_support import (
    EXIT_BAD_INPUT,
    EXIT_NO_DISPLAY,
    EXIT_SELF_TEST_FAILED,
    EXIT_STORAGE,
    CommandFailed,
    exchange_settings,
    open_database,
    reported,
    warn_unpriceable,
)
from desktop.odds_options import add_risk_options, add_watch_odds_options
from desktop.option_types import positive_float, positive_int, refresh_rate, sync_interval
from desktop.tier_tables import load_watched_file, stored_tables, table_saver
from desktop.watch_alerts import add_alerts_options, alerts_relay
from desktop.watch_sync import watch_syncer
from engine.book.horizon import read_horizon
from engine.book.portfolio import Portfolio, PortfolioError, dumps_portfolio, load_portfolio
from engine.book.private_file import write_private_atomically
from engine.margin.model import PriceKey
from engine.margin.risk import MissingPriceError, evaluate_book
from engine.storage.paths import database_path

if TYPE_CHECKING:  # the odds machinery (candles, volatilities, storage) is imported by `risk` and `watch` only
    from desktop.risk_odds import PriceHistory
    from engine.market.volatility import Series


def build_parser() -> argparse.ArgumentParser:
    """The command line: the window's options, then each sub-command and its options with their help; numbers
    go through positive_float (the number grammar of engine.book.numbers)."""
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument(
        "--data-dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="folder of the saved book (default: $MARGINWATCH_DATA_DIR, else the platform's application-data folder)",
    )
    parser = argparse.ArgumentParser(
        prog="marginwatch",
        parents=[data],
        description="Margin Watch: how far each leveraged position is from liquidation. "
        "Without a sub-command it opens the desktop window on the saved book.",
        epilog="The window's alert sound (off, danger and liquidated, every alert) is chosen in Settings > "
        "Notification channels; it plays with pw-play, paplay or aplay (afplay on macOS), or with the command in "
        "$MARGINWATCH_SOUND_PLAYER (split as a shell quotes it, ~ and $VAR expanded, the WAV's path appended; "
        "'none': the system beep only).",
    )
    _add_window_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    risk = sub.add_parser(
        "risk",
        parents=[data],
        help="one-shot risk report of a portfolio file at its 'prices'",
        description="Print the risk of every account and position in a portfolio file, at the mark "
        "prices written in its 'prices' section. Bad input exits with status 2 and one line naming "
        "the field and the position.",
    )
    risk.add_argument("file", help="portfolio file (JSON, format version 1; see README)")
    add_risk_options(risk)

    _add_watch(sub, data)
    export = sub.add_parser(
        "export",
        parents=[data],
        help="write the saved book (with its manual prices) to a portfolio file",
        description="Write the whole saved book, manual prices included, as a portfolio file (JSON, version 1).",
    )
    export.add_argument("file", help="where to write; '-' for standard output")
    _add_import_and_sync(sub, data)
    return parser


def _add_window_options(parser: argparse.ArgumentParser) -> None:
    """The options of the window (no sub-command): which book, online or not, how often, the theme, the self-test."""
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the bundled demo book on simulated prices (the saved book is not touched)",
    )
    parser.add_argument("--book", metavar="FILE", help="open this portfolio file (on close: save edits back?)")
    parser.add_argument(
        "--offline", action="store_true", help="do not connect: the book's saved prices are used as manual prices"
    )
    parser.add_argument("--exchange-config", metavar="CFG", help="JSON file: ccxt settings per exchange, as 'watch'")
    parser.add_argument(
        "--refresh-hz",
        type=refresh_rate,
        default=10.0,
        metavar="HZ",
        help="how often the window recomputes the book on new prices (default: 10 per second; 0.5 to 60)",
    )
    parser.add_argument(
        "--theme",
        choices=("dark", "light", "system"),
        default=None,
        help="colour theme (default: the one last chosen in the View menu, else dark)",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check that this installation (or frozen build) works, without a display or the network: the "
        "demo book through both engines, the simulated feed, ccxt's clients (never connected), Qt and the icon; "
        "one line, exit status 0 or 1",
    )


def _add_watch(sub: Any, data: argparse.ArgumentParser) -> None:
    """The watch sub-command: the feeds, the report's rhythm and shape, the alert channels, the probability."""
    watch = sub.add_parser(
        "watch",
        parents=[data],
        help="live monitoring of a portfolio file in a terminal or on a server",
        description="Subscribe to the mark prices of the file's symbols through ccxt (public data, no API "
        "keys) and print a risk report every interval, plus each threshold crossing as it happens (at an "
        "account's or position's own thresholds when the file gives it a 'thresholds' object) and each price "
        "alert of the book (its 'price_alerts', a line 'PRICE ...'). Every "
        "position is reported; a figure that needs a mark that has not arrived shows as missing (null), "
        "never as zero, with the reason. With --count, exit status 3 when a position never got a price.",
    )
    watch.add_argument("file", nargs="?", help="portfolio file (JSON, format version 1); default: the saved book")
    watch.add_argument(
        "--exchange-config",
        metavar="CFG",
        help='JSON file: ccxt exchange id -> {"ccxt": {...constructor settings, deep-merged...}, '
        '"transport": "auto" | "rest" | "websocket"}',
    )
    watch.add_argument(
        "--interval", type=positive_float, default=5.0, metavar="S", help="seconds between reports (default 5)"
    )
    watch.add_argument("--count", type=positive_int, metavar="N", help="stop after N reports (default: until Ctrl-C)")
    watch.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per line: reports in the risk --json shape plus price_source and "
        'price_age_s per position; crossings as {"crossing": {...}}; alert channels\' states as {"channel": {...}}',
    )
    watch.add_argument(
        "--offline",
        action="store_true",
        help="no network: use the file's (or the saved book's) prices as manual prices",
    )
    watch.add_argument(
        "--stale-after",
        type=positive_float,
        default=15.0,
        metavar="S",
        help="a live price older than this is reported as stale (default 15)",
    )
    watch.add_argument(
        "--sync-every",
        type=sync_interval,
        metavar="S",
        help="sync the saved book's linked accounts every S seconds (at least 15; '2 min' works), one at a time, "
        "the first at once: the report follows the exchange's positions, a failed sync is a line 'SYNC FAILED' "
        '(JSON {"sync": {...}}) retried later with backoff, never an exit, and a liquidation price the exchange '
        "gives more than 0.5%% of the mark apart from ours is a line 'CHECK' (JSON {\"check\": {...}}) once",
    )
    add_alerts_options(watch)
    add_watch_odds_options(watch)


def _add_import_and_sync(sub: Any, data: argparse.ArgumentParser) -> None:
    import_ = sub.add_parser(
        "import",
        parents=[data],
        help="add a portfolio file to the saved book (or replace it)",
        description="Add the accounts, positions, prices and markets of a portfolio file to the saved book, all "
        "or nothing: bad input exits with status 2 and one line naming the field and the position, and "
        "changes nothing.",
    )
    import_.add_argument("file", help="portfolio file (JSON, format version 1)")
    import_.add_argument("--replace", action="store_true", help="replace the whole saved book with the file")
    sync = sub.add_parser(
        "sync",
        parents=[data],
        help="read the linked accounts' positions and wallets from the exchanges (read-only)",
        description="Only ccxt's fetch_positions and fetch_balance; one transaction per account. Keys: the keyring "
        "or MARGINWATCH_<ACCOUNT>_API_KEY / _SECRET (README, Sync). Exit 1 when an account failed, 2 on bad input.",
    )
    sync.add_argument("--account", metavar="NAME", action="append", help="sync this account only (repeatable)")
    sync.add_argument("--exchange-config", metavar="CFG", help="JSON file of ccxt settings per exchange (see 'watch')")
    sync.add_argument("--json", action="store_true", help="print one JSON object: what each account's sync did")


def run_risk(args: argparse.Namespace) -> int:
    with reported("--horizon"):
        hours = read_horizon(args.horizon)
    with reported(args.file):
        portfolio = load_portfolio(args.file, stored_tables(args))
        try:
            risk = evaluate_book(portfolio.book, portfolio.price_map())
        except MissingPriceError as e:
            position = next(i for i, p in enumerate(portfolio.book.positions) if p.symbol == e.key[1])
            raise PortfolioError(
                f"position {position + 1} ({e.key[1]}): no mark price; add \"{e.key[1]}\" under 'prices'"
            ) from e
    from desktop import risk_odds

    risk_odds.print_risk_report(portfolio, risk, hours, price_history(args, portfolio), args.json, args.model)
    return 0


def price_history(args: argparse.Namespace, portfolio: Portfolio) -> PriceHistory:
    """(candles, mark history) of the book: with --candles fetched through ccxt (a symbol that could not be, one
    warning line) and cached in the saved book's database; else what that database holds, if there is one (only
    read). CommandFailed for a bad --exchange-config, or a database that cannot be opened or written."""
    from desktop import risk_odds

    keys = portfolio.book.price_keys()
    fetched: dict[PriceKey, Series] = {}
    if getattr(args, "candles", False):
        fetched = risk_odds.fetch_candles(
            keys, exchange_settings(args.exchange_config, {a.exchange for a in portfolio.book.accounts})
        )
    elif not database_path(getattr(args, "data_dir", None)).exists():
        return {}, {}
    with reported("the saved book"), open_database(args, read_only=not fetched) as db:
        return risk_odds.stored_history(db, keys, fetched)


def run_export(args: argparse.Namespace) -> int:
    with reported("the saved book"), open_database(args, read_only=True) as db:
        text = dumps_portfolio(db.load())
    if args.file == "-":
        sys.stdout.write(text)
        return 0
    try:
        write_private_atomically(Path(args.file), text)
    except OSError as e:
        raise CommandFailed(f"cannot write {args.file}: {e.strerror or e}", EXIT_STORAGE) from e
    return 0


def run_import(args: argparse.Namespace) -> int:
    with reported(args.file):
        portfolio = load_portfolio(args.file)
    with reported("the saved book"), open_database(args) as db:
        db.import_portfolio(portfolio, replace=args.replace, price_alerts_too=args.replace)
        count = db.position_count()
    book = portfolio.book
    alerts = f" and {len(portfolio.price_alerts)} price alerts" if portfolio.price_alerts else ""
    print(
        f"imported {len(book.accounts)} accounts and {len(book.positions)} positions{alerts} from {args.file}; "
        f"the saved book now holds {count} positions"
    )
    warn_unpriceable(a.exchange for a in book.accounts)
    return 0


def run_watch(args: argparse.Namespace) -> int:
    import time

    from desktop import risk_odds
    from engine.book.typed_funding import typed_rates
    from engine.market.feeds.live import live_feeds
    from engine.market.prices import PriceStore
    from engine.monitor.watch import Monitor, WatchOptions

    typed: dict[tuple[str, str], float] = {}
    typed_funding: dict[tuple[str, str], Any] = {}
    with reported(args.file or "the saved book"):
        if args.file:
            portfolio = load_watched_file(args)
        else:
            with open_database(args, read_only=True) as db:
                portfolio = db.load()
                typed = db.manual_prices()  # typed in the window per exchange and symbol: they win, as there
                typed_funding = db.typed_funding()  # funding rates typed in the window, as there
    settings = exchange_settings(args.exchange_config, {a.exchange for a in portfolio.book.accounts})
    store = PriceStore()
    store.funding.publish(typed_rates(typed_funding, time.time()))
    path = database_path(getattr(args, "data_dir", None))
    feeds = []
    keys = portfolio.book.price_keys()
    if args.offline:
        for key in keys:
            mark = typed.get(key, portfolio.prices.get(key[1]))
            if mark is not None:
                store.set_manual(key, mark)
    else:
        warn_unpriceable(a.exchange for a in portfolio.book.accounts)
        feeds = live_feeds(keys, store, settings)
    with reported(args.alerts_config):  # a bad file or a missing secret: one line, exit 2, before any feed starts
        relay = alerts_relay(args, portfolio, sys.stdout)
    with reported(""):
        online = None if args.offline else settings
        odds = risk_odds.watch_odds(args, portfolio, lambda: price_history(args, portfolio), online)
    if odds is not None and odds.candles is not None:
        feeds.append(odds.candles)  # started, reported and stopped with the price feeds
    options = WatchOptions(args.interval, args.count, args.json, args.stale_after, odds=odds)
    syncer, new_feeds = watch_syncer(args, str(path), settings, store) or (None, None)
    monitor = Monitor(portfolio, store, feeds, options, sys.stdout, save_tables=table_saver(path), listener=relay)
    monitor.syncer, monitor.new_feeds = syncer, new_feeds
    return monitor.run()


def run_sync(args: argparse.Namespace) -> int:
    from engine.sync.command import BadSelection, accounts_to_sync, run_sync

    with reported("the saved book"), open_database(args) as db:
        try:
            accounts = accounts_to_sync(db.load().book, args.account)
        except BadSelection as e:
            raise CommandFailed(str(e), EXIT_BAD_INPUT) from e
        settings = exchange_settings(args.exchange_config, {a.exchange for a in accounts})
        return run_sync(db, [a.name for a in accounts], {e: s.ccxt for e, s in settings.items()}, sys.stdout, args.json)


def run_window(args: argparse.Namespace) -> int:
    from desktop.platform.display_check import display_problem
    from desktop.platform.startup_heap import pause_collection, resume_collection

    if problem := display_problem():  # asked before Qt, whose own answer is an abort (exit 134)
        raise CommandFailed(problem, EXIT_NO_DISPLAY)

    pause_collection()  # until the window is shown (run_app): see desktop.platform.startup_heap
    try:
        from desktop.app import WindowOptions, run_app

        # The book is opened later and can gain accounts: only ccxt's own ids are checked here.
        settings = exchange_settings(args.exchange_config)
        options = WindowOptions(
            demo=args.demo,
            book_file=args.book,
            data_dir=getattr(args, "data_dir", None),
            offline=args.offline,
            exchange_settings=settings,
            refresh_hz=args.refresh_hz,
            theme=args.theme,
        )
        with reported(args.book or ""):
            return run_app(options)
    finally:
        resume_collection()


def run_self_test(args: argparse.Namespace) -> int:
    from desktop.platform.self_test import SelfTestFailed, run

    try:
        summary = run()
    except SelfTestFailed as e:
        raise CommandFailed(f"self-test FAILED: {e}", EXIT_SELF_TEST_FAILED) from e
    print(summary)
    return 0


COMMANDS = {"risk": run_risk, "watch": run_watch, "export": run_export, "import": run_import, "sync": run_sync}


BROKEN_PIPE_EXIT = 141
"""128 + SIGPIPE: what a shell reports for a command whose reader closed the pipe."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.self_test and args.command:
        parser.error(f"--self-test takes no sub-command (got '{args.command}')")
    try:
        return (run_self_test if args.self_test else COMMANDS.get(args.command, run_window))(args)
    except CommandFailed as e:
        print(f"marginwatch: {e}", file=sys.stderr)
        return e.status
    except BrokenPipeError:  # `marginwatch watch | head`: the reader left; leave quietly, as cat does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not fail again
        return BROKEN_PIPE_EXIT


if __name__ == "__main__":
    sys.exit(main())
