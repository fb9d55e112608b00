"""The dead-man's switch: a heartbeat only while the monitor can see, and a feed problem when it cannot.

- Live: the monitor sees prices when the book has no price to watch, or at least one of its prices is
  fresh (a feed price no older than `stale_after`, or a manual price, which never goes stale). A monitor
  whose every price is stale or missing is blind: it stops pinging the heartbeat URL, so the external checker
  (healthchecks-style: it alerts when the pings stop) tells the trader, as it does when the process dies.
- Feed problems: per exchange, when no fresh price of any of its symbols arrived for `limit` seconds (since
  the monitor started, for an exchange that never sent one), one `feed_stale` notice; when a fresh price
  comes again, one `feed_back` notice. A symbol on a manual price is not waiting for its feed and is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from engine.alerts.notice import Notice, feed_notice
from engine.margin.model import PriceKey
from engine.market.prices import MarkRecord, PriceSource


def seeing(keys: Iterable[PriceKey], quotes: Mapping[PriceKey, MarkRecord], now: float, stale_after: float) -> bool:
    """Whether the monitor sees prices now (module docstring). keys: the book's price keys; quotes: the
    quotes in use (manual over feed); now: wall-clock seconds; stale_after: seconds."""
    keys = list(keys)
    if not keys:
        return True
    return any((q := quotes.get(k)) is not None and not q.is_stale(now, stale_after) for k in keys)


class FeedWatch:
    """Per exchange, whether its feed has gone blind for longer than `limit` seconds (module docstring).

    keys: the book's price keys ((exchange, symbol)); started: wall-clock seconds when monitoring began."""

    def __init__(self, keys: Iterable[PriceKey], limit: float, started: float) -> None:
        self.limit = limit
        self.started = started
        self.keys_of: dict[str, list[PriceKey]] = {}
        for key in keys:
            self.keys_of.setdefault(key[0], []).append(key)
        self.blind: set[str] = set()
        """The exchanges in a stale spell (their feed_stale notice sent)."""

    def check(self, quotes: Mapping[PriceKey, MarkRecord], now: float, stale_after: float) -> list[Notice]:
        """The notices of this moment: feed_stale for an exchange newly blind past the limit, feed_back for
        one whose prices are fresh again (no older than stale_after seconds)."""
        notices: list[Notice] = []
        for exchange, keys in self.keys_of.items():
            waiting = [quotes.get(k) for k in keys]
            waiting = [q for q in waiting if q is None or q.source is not PriceSource.MANUAL]
            if not waiting:
                continue
            received = [q.received_at for q in waiting if q is not None]
            age = now - max(received) if received else now - self.started
            if exchange in self.blind:
                if age <= stale_after:
                    self.blind.discard(exchange)
                    notices.append(feed_notice(exchange, None, now))
            elif age > self.limit:
                self.blind.add(exchange)
                notices.append(feed_notice(exchange, age, now))
        return notices
