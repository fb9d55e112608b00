"""`marginwatch watch --alerts-config FILE`: the option and the alert relay it starts (engine.alerts).

Qt-free, like the rest of `watch`: it runs on a server with no display."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # imported when used: `marginwatch risk` never loads the alert channels
    from engine.alerts.relay import AlertRelay
    from engine.book.portfolio import Portfolio


def add_alerts_options(watch: argparse.ArgumentParser) -> None:
    """Declare `watch`'s alert options."""
    watch.add_argument(
        "--alerts-config",
        metavar="FILE",
        help="JSON file naming alert channels (webhook, ntfy, Telegram), each one's minimum level, the heartbeat "
        "and the feed-stale limit; their URLs and tokens come from the keyring or MARGINWATCH_ALERT_<NAME>_URL / "
        "_TOKEN and MARGINWATCH_HEARTBEAT_URL, never from the file (README: Alerts away from the desk)",
    )
    watch.add_argument(
        "--send-test",
        action="store_true",
        help="send a test message to every channel of --alerts-config at start; each one's outcome is printed "
        "as its state (ok, or failing with the error)",
    )


def alerts_relay(args: argparse.Namespace, portfolio: Portfolio, out: TextIO) -> AlertRelay | None:
    """The relay of `watch`'s --alerts-config file (None without one), a test message queued on every channel
    with --send-test; its channels' state changes are printed to out. Raises
    engine.alerts.config.AlertsConfigError for a bad file, a missing secret, or --send-test without a file."""
    from engine.alerts.config import AlertsConfigError, load_alerts_config
    from engine.alerts.relay import relay_for, state_printer

    if not args.alerts_config:
        if args.send_test:
            raise AlertsConfigError("--send-test: name the channels with --alerts-config FILE")
        return None
    config = load_alerts_config(args.alerts_config)
    exchange_of = {a.name: a.exchange for a in portfolio.book.accounts}
    printer = state_printer(out, args.json)
    relay = relay_for(config, exchange_of, portfolio.book.price_keys(), args.stale_after, printer)
    if args.send_test:
        for channel in config.channels:
            relay.dispatcher.send_test(channel.name)
    return relay
