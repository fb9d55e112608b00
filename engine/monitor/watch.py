"""Headless monitoring of a book: a risk report every interval and every threshold crossing as it happens.

The monitor reads marks from the price store. An account is evaluated only once every mark it needs
has arrived (accounts are independent in the margin equation, so this is exact); until then its
figures are reported as missing, never as zero.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

from engine.book.portfolio import Portfolio
from engine.book.safe_text import printable  # names never drive the terminal (risk_to_text does the same)
from engine.margin.model import MarketSpec
from engine.margin.risk import BookRisk, evaluate_priced_accounts
from engine.market.prices import MarkRecord, PriceStore
from engine.monitor.alerts import Alert, check_record
from engine.monitor.fetched_tables import FetchedTables, with_fetched
from engine.monitor.frame import Frame
from engine.monitor.funding_report import funding_figures
from engine.monitor.levels import Thresholds
from engine.monitor.odds_alerts import OddsWatch, OddsWatcher
from engine.monitor.price_alerts import price_alert_record
from engine.monitor.report import finite_or_none, risk_to_dict, risk_to_text
from engine.monitor.session import WatchSession

NEVER_PRICED_EXIT = 3
"""`watch --count N` exits with this when a position it was asked to report never got a price."""


class Feed(Protocol):
    """A price feed as the monitor drives it: start() begins publishing into the store, stop(timeout) ends it
    (True when it stopped within timeout seconds), state is what the status lines print when it changes."""

    def start(self) -> None: ...
    def stop(self, timeout: float = ...) -> bool: ...
    @property
    def state(self) -> Any: ...


class StepListener(Protocol):
    """Told of every session step (the alert channels, engine.alerts.relay.AlertRelay): on_step(frame) runs on
    the loop's thread and must return at once; close() when the monitor stops."""

    def on_step(self, frame: Frame) -> None: ...
    def close(self) -> object: ...


class Syncer(Protocol):
    """Automatic sync as the monitor drives it (engine.sync.background.BackgroundSync): poll(book) returns the
    syncs finished since the last call (each with text(), record(), portfolio (None: failed) and alerts) and
    starts the next due one; stop() waits for a running one."""

    def poll(self, book: Any) -> list[Any]: ...
    def stop(self, timeout: float = ...) -> bool: ...


@dataclass(frozen=True)
class WatchOptions:
    """`marginwatch watch` options: a report every `interval` seconds, `count` reports (None: until Ctrl-C),
    JSON lines when as_json; a price older than stale_after seconds is stale; feeds and alerts are checked
    every check_every seconds between reports; odds: alerts on the probability of liquidation (None: none)."""

    interval: float = 5.0
    count: int | None = None
    as_json: bool = False
    stale_after: float = 15.0
    check_every: float = 0.25
    thresholds: Thresholds = field(default_factory=Thresholds)
    odds: OddsWatch | None = None


def price_source(quote: MarkRecord | None, now: float, stale_after: float) -> str:
    """The `price_source` of a position in the JSON report: 'missing', 'stale' (older than stale_after
    seconds at now, wall-clock), else the quote's source ('live', 'manual', 'simulated')."""
    if quote is None:
        return "missing"
    if quote.is_stale(now, stale_after):
        return "stale"
    return quote.source.value


class Monitor:
    """The headless `watch` loop over one book: prints to `out` the alerts of the shared WatchSession as they
    happen, feed status changes, and a report every interval (text or JSON lines).

    listener: told of every step (the alert channels), closed when run() ends.

    Construction raises KeyError when a position names an account the book does not have (a parsed portfolio
    never does); run() returns the exit code (0, 130 after Ctrl-C, NEVER_PRICED_EXIT)."""

    def __init__(
        self,
        portfolio: Portfolio,
        store: PriceStore,
        feeds: Sequence[Feed],
        options: WatchOptions,
        out: TextIO,
        clock: Callable[[], float] = time.time,
        save_tables: Callable[[str, Mapping[str, MarketSpec]], None] | None = None,
        listener: StepListener | None = None,
        syncer: Syncer | None = None,
    ) -> None:
        self.portfolio = portfolio
        self.syncer = syncer
        """Syncs the linked accounts on an interval (watch --sync-every: engine.sync.background); None: never."""
        self.book = portfolio.book
        self.save_tables = save_tables
        """Stores the tier tables a feed fetched (exchange, symbol -> market), for the next start; None: not kept."""
        self._tables = FetchedTables()
        self.listener = listener
        self.store = store
        self.feeds = list(feeds)
        self.options = options
        self.out = out
        self.clock = clock
        self.session = WatchSession(
            portfolio, options.thresholds, options.stale_after, clock=clock, funding=store.funding
        )
        self._feed_seen: dict[int, tuple[Any, ...]] = {}
        exchange_of = {a.name: a.exchange for a in self.book.accounts}
        self._keys = [(exchange_of[p.account], p.symbol) for p in self.book.positions]
        self._ever_priced: set[tuple[str, str]] = set()
        self._odds = OddsWatcher(self.book, options.odds) if options.odds is not None else None
        self.new_feeds: Callable[[Sequence[tuple[str, str]]], Sequence[Feed]] | None = None
        """Feeds for price keys a synced book gained (started by the monitor); None: such keys stay unpriced."""

    def _evaluate(self) -> tuple[BookRisk, dict[tuple[str, str], MarkRecord | None]]:
        """Risk of the whole book at the marks that have arrived (what a missing mark hides is None, with its
        reason), and the quotes used."""
        quotes = {key: self.store.quote(key) for key in dict.fromkeys(self._keys)}
        marks = {key: q.mark for key, q in quotes.items() if q is not None}
        for key in marks:
            self._ever_priced.add(key)
        risk, _ = evaluate_priced_accounts(self.book, marks)
        return risk, quotes

    def report(self) -> dict[str, Any]:
        """The `risk --json` document at the current marks, plus each position's price_source, price_age_s and
        price_is_last_trade (true when the exchange sent no mark and its last trade stands in).

        Every account and position is in it, whatever marks have arrived (figures a missing mark hides are
        null, with the reason in `incomplete`); built in one pass, linear in the book's size."""
        risk, quotes = self._evaluate()
        now = self.clock()
        rates = self.session.funding.snapshot()
        funding = funding_figures(self.book, risk, rates, now, self.session.overrides)
        document = risk_to_dict(risk, self.book, now, funding)
        for row, key in zip(document["positions"], self._keys, strict=True):
            quote = quotes[key]
            row["price_source"] = price_source(quote, now, self.options.stale_after)
            row["price_age_s"] = round(quote.age(now), 3) if quote else None
            row["price_is_last_trade"] = bool(quote and quote.mark_is_last_trade)  # the exchange sent no mark
        return document

    def never_priced(self) -> list[tuple[str, str]]:
        """The (exchange, symbol) keys no mark has arrived for since the monitor started."""
        return [key for key in dict.fromkeys(self._keys) if key not in self._ever_priced]

    def alerts(self) -> list[Alert]:
        """Evaluate the book now through the watch session (the window's own pipeline: the real book's
        levels with hysteresis, the same rate limit and grouping, stale-price alerts, the same words) and
        return this step's new alerts; a repeat counted into an earlier alert's group is not returned."""
        quotes = {key: q for key in dict.fromkeys(self._keys) if (q := self.store.quote(key)) is not None}
        frame = self.session.step(quotes)
        if self.listener is not None:
            self.listener.on_step(frame)
        return [alert for alert in frame.alerts if not alert.repeat]

    def _print_feed_changes(self) -> None:
        """One line per feed whose status, error, transport or connection warning changed since last time.

        JSON: {"feed": {"time", "exchange", "status", "transport", "error", "connection", "unknown_symbols",
        "describe"}}; text: the time and FeedState.describe(). The first call reports every feed.
        """
        for feed in self.feeds:
            state = feed.state
            connection = getattr(state, "connection", "")
            seen = (state.status, state.last_error, state.transport, connection, state.unknown_symbols)
            if self._feed_seen.get(id(feed)) == seen:
                continue
            self._feed_seen[id(feed)] = seen
            now = self.clock()
            stamp = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
            if self.options.as_json:
                line = {
                    "time": stamp,
                    "exchange": state.exchange,
                    "status": str(state.status),
                    "transport": state.transport,
                    "error": state.last_error or None,
                    "connection": connection or None,
                    "unknown_symbols": list(state.unknown_symbols),
                    "describe": state.describe(now),
                }
                print(json.dumps({"feed": line}), file=self.out, flush=True)
            else:
                print(f"{stamp}  FEED       {state.describe(now)}", file=self.out, flush=True)

    def _take_tables(self) -> None:
        """Tier tables a feed just fetched: stored (save_tables), and the book's markets resolved again with
        them; one line says so, and one per rule the book now breaks under them."""
        fetched = self._tables.new(self.feeds)
        if not fetched:
            return
        for exchange, markets in fetched.items():
            if self.save_tables is not None:
                self.save_tables(exchange, markets)
        self.portfolio, problems = with_fetched(self.portfolio, fetched)
        self.book = self.portfolio.book
        self.session.use_portfolio(self.portfolio)
        stamp = datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="seconds")
        said = ", ".join(f"{len(m)} on {exchange}" for exchange, m in fetched.items())
        for line in [f"tier tables fetched: {said}", *problems]:
            if self.options.as_json:
                print(json.dumps({"tiers": {"time": stamp, "text": line}}), file=self.out, flush=True)
            else:
                print(f"{stamp}  TIERS      {printable(line)}", file=self.out, flush=True)

    def _take_syncs(self) -> None:
        """The syncs finished since the last call (--sync-every): one line each (JSON {"sync": record}), the
        book as saved used from now on (feeds for symbols it gained), its check alerts raised with the next step."""
        if self.syncer is None:
            return
        for event in self.syncer.poll(self.book):
            stamp = datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="seconds")
            if self.options.as_json:
                print(json.dumps({"sync": event.record()}, allow_nan=False), file=self.out, flush=True)
            else:
                label = "SYNC" if event.result.ok else "SYNC FAILED"
                print(f"{stamp}  {label:<10} {printable(event.text())}", file=self.out, flush=True)
            if event.portfolio is not None:
                self._use_synced(event.portfolio)
            self.session.add_alerts(event.alerts)

    def _use_synced(self, portfolio: Portfolio) -> None:
        keys_before = set(self._keys)
        self.session.use_portfolio(portfolio)
        self.portfolio, self.book = self.session.portfolio, portfolio.book
        exchange_of = {a.name: a.exchange for a in self.book.accounts}
        self._keys = [(exchange_of[p.account], p.symbol) for p in self.book.positions]
        gained = [key for key in dict.fromkeys(self._keys) if key not in keys_before]
        if gained and self.new_feeds is not None:
            for feed in self.new_feeds(gained):
                feed.start()
                self.feeds.append(feed)

    def _print_alerts(self) -> None:
        for alert in self.alerts():
            stamp = datetime.fromtimestamp(alert.at, UTC).isoformat(timespec="seconds")
            if alert.rule is not None:  # a price alert (engine.monitor.price_alerts)
                self._print_price_alert(alert, stamp)
            elif alert.check is not None:  # a sync's liquidation check (engine.sync.check_alerts)
                self._print_check(alert, stamp)
            elif self.options.as_json:
                record = {
                    "time": stamp,
                    "subject": alert.subject,
                    "old": alert.old.label,
                    "new": alert.new.label,
                    "distance": finite_or_none(alert.distance),
                    "mark": finite_or_none(alert.mark),
                    "stale": alert.stale,
                    "text": alert.line(),
                }
                print(json.dumps({"crossing": record}, allow_nan=False), file=self.out, flush=True)
            else:
                print(f"{stamp}  {alert.new.label.upper():<10} {printable(alert.line())}", file=self.out, flush=True)

    def _print_price_alert(self, alert: Alert, stamp: str) -> None:
        """Text 'time  PRICE      line' (the window's words); JSON {"price_alert": price_alert_record}."""
        if self.options.as_json:
            record = price_alert_record(alert, stamp)
            print(json.dumps({"price_alert": record}, allow_nan=False), file=self.out, flush=True)
        else:
            print(f"{stamp}  {'PRICE':<10} {printable(alert.line())}", file=self.out, flush=True)

    def _print_check(self, alert: Alert, stamp: str) -> None:
        """Text 'time  CHECK      line'; JSON {"check": engine.monitor.alerts.check_record}."""
        if self.options.as_json:
            print(json.dumps({"check": check_record(alert, stamp)}, allow_nan=False), file=self.out, flush=True)
        else:
            print(f"{stamp}  {'CHECK':<10} {printable(alert.line())}", file=self.out, flush=True)

    def _print_unpriced_price_alerts(self) -> None:
        """At start, one line per price alert on a symbol no position of the book needs: watch has no price for it,
        so it cannot fire. Text 'time  PRICE      … has no price …'; JSON {"price_alert_unpriced": {"exchange",
        "symbol", "direction", "price", "text"}}."""
        needed = set(self._keys)
        stamp = datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="seconds")
        for rule in self.session.price_alerts.rules:
            if rule.key in needed:
                continue
            text = f"{rule.subject()} {rule.level_text()}: no price (no position of the book is on it); it cannot fire"
            if self.options.as_json:
                record = {**{k: v for k, v in rule.to_dict().items() if k != "note"}, "text": text}
                print(json.dumps({"price_alert_unpriced": record}), file=self.out, flush=True)
            else:
                print(f"{stamp}  {'PRICE':<10} {printable(text)}", file=self.out, flush=True)

    def _print_odds_alerts(self) -> None:
        """Probability alerts (engine.monitor.odds_alerts): text 'time  PROBABILITY line'; JSON
        {"probability": {"time", "subject", "probability", "standard_error", "threshold", "horizon_hours",
        "model", "text"}}."""
        if self._odds is None:
            return
        if self._odds.due(time.monotonic()):
            risk, quotes = self._evaluate()
            self._odds.start(risk, {key: q.mark for key, q in quotes.items() if q is not None}, time.monotonic())
        for alert in self._odds.alerts(self.clock()):
            stamp = datetime.fromtimestamp(alert.at, UTC).isoformat(timespec="seconds")
            if self.options.as_json:
                record = {
                    "time": stamp,
                    "subject": alert.subject,
                    "probability": alert.odds.probability,
                    "standard_error": alert.odds.standard_error,
                    "threshold": alert.threshold,
                    "horizon_hours": alert.hours,
                    "model": alert.odds.model or None,
                    "text": alert.line(),
                }
                print(json.dumps({"probability": record}, allow_nan=False), file=self.out, flush=True)
            else:
                print(f"{stamp}  PROBABILITY {printable(alert.line())}", file=self.out, flush=True)

    def _print_report(self) -> None:
        report = self.report()
        if self.options.as_json:
            print(json.dumps(report, allow_nan=False), file=self.out, flush=True)
            return
        stamp = datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="seconds")
        feeds = "; ".join(f.state.describe() for f in self.feeds) or "offline: manual prices"
        lines = [f"== {stamp}  {feeds}"]
        risk, _ = self._evaluate()
        if risk.positions or risk.accounts:
            lines.append(risk_to_text(risk, self.book, self.clock()).rstrip())
        else:
            lines.append("The book is empty: add positions with 'marginwatch import FILE' or in the window.")
        waiting = [p["symbol"] for p in report["positions"] if p["price_source"] == "missing"]
        if waiting:
            lines.append(f"waiting for prices: {printable(', '.join(dict.fromkeys(waiting)))}")
        sources = {
            f"{p['symbol']} {p['price_source']}" + (f" {p['price_age_s']:.1f}s" if p["price_age_s"] is not None else "")
            for p in report["positions"]
        }
        lines.append("prices: " + printable(", ".join(sorted(sources))))
        print("\n".join(lines), file=self.out, flush=True)

    def run(self, sleep: Callable[[float], None] = time.sleep) -> int:
        """Report until `count` reports were printed (or Ctrl-C); feeds are started here and always stopped."""
        for feed in self.feeds:
            feed.start()
        self._print_unpriced_price_alerts()
        reports = 0
        next_report = time.monotonic() + self.options.interval
        try:
            while self.options.count is None or reports < self.options.count:
                self._print_feed_changes()
                self._take_syncs()
                self._take_tables()
                self._print_alerts()
                self._print_odds_alerts()
                now = time.monotonic()
                if now >= next_report:
                    self._print_report()
                    reports += 1
                    next_report += self.options.interval
                    continue
                sleep(min(self.options.check_every, max(0.0, next_report - now)))
        except KeyboardInterrupt:
            return 130
        finally:
            for feed in self.feeds:
                feed.stop()
            if self.listener is not None:
                self.listener.close()
            if self._odds is not None:
                self._odds.stop()
            if self.syncer is not None:
                self.syncer.stop()
        never = self.never_priced()
        if never:
            listed = ", ".join(f"{symbol} on {exchange}" for exchange, symbol in never)
            print(f"marginwatch watch: no price ever arrived for {listed}", file=sys.stderr, flush=True)
            return NEVER_PRICED_EXIT
        return 0
