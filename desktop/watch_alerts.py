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


def alerts_relay(
    path: str | None, portfolio: Portfolio, stale_after: float, as_json: bool, out: TextIO
) -> AlertRelay | None:
    """The relay of the --alerts-config file (None without one); its channels' state changes are printed to out.
    Raises engine.alerts.config.AlertsConfigError for a bad file or a missing secret."""
    from engine.alerts.config import load_alerts_config
    from engine.alerts.relay import relay_for, state_printer

    if not path:
        return None
    config = load_alerts_config(path)
    exchange_of = {a.name: a.exchange for a in portfolio.book.accounts}
    return relay_for(config, exchange_of, portfolio.book.price_keys(), stale_after, state_printer(out, as_json))
