"""Price alerts fired: each rule (engine.book.price_alert_rules.PriceAlert) fires once when the real mark of its
price key reaches its level, and re-arms only once the mark is back past the level by REARM.

- "below 85,000" fires when a fresh mark is at or below 85,000; "above" at or above. The first fresh mark the
  watch sees for a rule (at start-up, or when the rule is added) already beyond the level fires too, said
  "is already below".
- After firing, the rule fires again only when the mark first went back past the level by REARM (0.1 %: above
  85,085 for "below 85,000") and then reaches it again: a mark sitting on the line, ticking a few cents either
  side, fires once. 0.1 % is about the spread of a quiet minute of BTC's mark; wider would swallow a real
  second touch, narrower lets the tick noise of a mark on the line through.
- Only the real marks the session evaluates the real book at (live, or manual/typed) are looked at, never a
  shock preview; a stale price (older than the session's stale_after) neither fires nor re-arms a rule: the
  feed-problem alert covers staleness.
- A rule that fires again within the alert policy's repeat window (engine.monitor.alerts.AlertPolicy) is
  counted into its earlier alert ("×3 in 40 s"), as a level alert is: the window's row is updated, the
  channels and `watch` are not told again.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import replace

from engine.book.price_alert_rules import Direction, PriceAlert
from engine.margin.model import PriceKey
from engine.market.prices import MarkRecord
from engine.monitor.alerts import Alert, AlertPolicy
from engine.monitor.levels import Crossing, Level

REARM = 0.001
"""The fraction of the level the mark must go back past before a fired rule can fire again (0.1 %)."""


def alert_key(rule: PriceAlert) -> Hashable:
    """The rule's key in the alert policy and for snoozes: ('price', exchange, symbol, direction, price, note).

    The note is part of it: two rules at the same level with different notes ('buy more', 'call Bob') are two
    rules the user wrote, and each fires with its own note (keyed without it, the second was counted into the
    first as a repeat and its note never shown). The same rule given twice, note included, is one rule
    (PriceAlertWatch.set_rules)."""
    return ("price", rule.exchange, rule.symbol, rule.direction.value, rule.price, rule.note)


def beyond(rule: PriceAlert, mark: float) -> bool:
    """Whether the mark is at or past the rule's level (at or below for 'below', at or above for 'above')."""
    return mark <= rule.price if rule.direction is Direction.BELOW else mark >= rule.price


def rearmed(rule: PriceAlert, mark: float) -> bool:
    """Whether the mark went back past the level by REARM (a fired rule can fire again)."""
    if rule.direction is Direction.BELOW:
        return mark > rule.price * (1 + REARM)
    return mark < rule.price * (1 - REARM)


class PriceAlertWatch:
    """The rules in force and whether each has fired (module docstring). check() is O(rules) per step."""

    def __init__(self, rules: Iterable[PriceAlert] = ()) -> None:
        self.rules: tuple[PriceAlert, ...] = ()
        self._fired: set[PriceAlert] = set()
        self._seen: set[PriceAlert] = set()
        self.set_rules(rules)

    def set_rules(self, rules: Iterable[PriceAlert]) -> None:
        """New rules (a rule twice is kept once); a rule kept from before keeps whether it fired, a new one starts
        unseen (its first fresh mark beyond the level fires it, 'already')."""
        self.rules = tuple(dict.fromkeys(rules))
        kept = set(self.rules)
        self._fired &= kept
        self._seen &= kept

    def fired(self, rule: PriceAlert) -> bool:
        """True while the rule has fired and not re-armed."""
        return rule in self._fired

    def check(
        self, quotes: Mapping[PriceKey, MarkRecord], now: float, stale_after: float, policy: AlertPolicy
    ) -> list[Alert]:
        """This step's price alerts (repeats within the policy's window included, as Alert.repeat). quotes: the
        real quotes (never shocked); now: wall-clock seconds; stale_after: seconds after which a feed price is
        stale and ignored."""
        alerts: list[Alert] = []
        for rule in self.rules:
            quote = quotes.get(rule.key)
            if quote is None or quote.is_stale(now, stale_after):
                continue
            mark = quote.mark
            first = rule not in self._seen
            self._seen.add(rule)
            if rule in self._fired:
                if rearmed(rule, mark):
                    self._fired.discard(rule)
                continue
            if not beyond(rule, mark):
                continue
            self._fired.add(rule)
            key = alert_key(rule)
            alert = policy.on_crossing(key, Crossing(key, Level.OK, Level.WARNING), now, rule.subject(), None, mark)
            if alert is not None:
                alerts.append(replace(alert, rule=rule, already=first))
        return alerts


def price_alert_record(alert: Alert, time: str) -> dict[str, object]:
    """`watch --json`'s record of a price alert (alert.rule set), the channels' payload fields: kind 'price',
    exchange, symbol, direction, price (the level), mark, quote_currency, already, note, time (as given: ISO
    8601 UTC), text (the words the window shows)."""
    rule = alert.rule
    assert rule is not None
    return {
        "kind": "price",
        "exchange": rule.exchange,
        "symbol": rule.symbol,
        "direction": rule.direction.value,
        "price": rule.price,
        "mark": alert.mark,
        "quote_currency": rule.quote_currency or None,
        "already": alert.already,
        "note": rule.note or None,
        "time": time,
        "text": alert.line(),
    }
