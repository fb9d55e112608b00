"""What a channel is sent: one notice per alert, in a fixed JSON shape and one human line.

The JSON (the generic webhook's body) has exactly these fields, in this order:

    kind            "level" (a rise to a worse level), "stale_price" (a position's price went stale while in
                    warning or worse), "price" (a price alert fired: engine.monitor.price_alerts), "feed_stale" /
                    "feed_back" (an exchange's feed went blind / came back), "test" (the "Send test" button)
    account         the account's name (null for a feed notice)
    exchange        the ccxt exchange id
    symbol, side    the position's (null for an account or a feed notice)
    level           "ok" | "warning" | "danger" | "liquidated" (the level now; null for a feed notice)
    previous_level  the level before the rise (null for a feed notice)
    distance        signed fraction of the mark to liquidation (0.042 = 4.2%; null for an account)
    mark            the mark price, in the contract's quote currency (null for an account)
    liquidation_price  in the contract's quote currency (null for an account, or none)
    quote_currency  the currency of mark and liquidation_price ("USDT"; null when there is no price)
    time            ISO 8601 UTC, seconds ("2026-12-01T01:52:48Z")
    text            the notice as one line of words (what ntfy and Telegram show)

A "price" notice has account, side, level, previous_level, distance and liquidation_price null, mark the mark
that fired it, and two more fields after `text` (only in a price notice: the others' JSON is unchanged):

    direction       "above" | "below"
    price           the alert's level, in the symbol's quote currency

A "check" notice (a sync found our liquidation price and the exchange's more than 0.5% of the mark apart:
engine.sync.check_alerts) has level, previous_level and distance null, mark the exchange's mark,
liquidation_price ours, and one more field after `text`:

    exchange_liquidation_price  the exchange's, in the contract's quote currency (null when it gives none)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from engine.book.formats import price
from engine.book.safe_text import printable
from engine.margin.model import quote_currency_of
from engine.monitor.alerts import Alert
from engine.monitor.levels import Level
from engine.monitor.report import finite_or_none


def iso_utc(at: float) -> str:
    """Wall-clock seconds as ISO 8601 UTC to the second: '2026-12-01T01:52:48Z'."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Notice:
    """One message for the channels (fields as in the module's docstring; `time` here in wall-clock seconds)."""

    kind: str
    account: str | None
    exchange: str | None
    symbol: str | None
    side: str | None
    level: str | None
    previous_level: str | None
    distance: float | None
    mark: float | None
    liquidation_price: float | None
    quote_currency: str | None
    time: float
    text: str
    direction: str | None = None
    """A price notice's direction ('above', 'below'); None for the others."""
    price: float | None = None
    """A price notice's level price (quote currency); None for the others."""
    exchange_liquidation_price: float | None = None
    """A check notice's liquidation price as the exchange gives it (quote currency); None for the others."""

    @property
    def severity(self) -> Level | None:
        """The level a channel's minimum is compared with (None for a feed or test notice)."""
        return Level[self.level.upper()] if self.level else None

    @property
    def feed_problem(self) -> bool:
        """True for the notices that are about prices, not positions: a stale price, a blind or recovered feed."""
        return self.kind in ("stale_price", "feed_stale", "feed_back")

    def to_json(self) -> dict[str, Any]:
        """The webhook's JSON object (module docstring): numbers that are not finite become null."""
        out = asdict(self)
        if self.kind != "price":
            del out["direction"], out["price"]
        if self.kind != "check":
            del out["exchange_liquidation_price"]
        for name in ("distance", "mark", "liquidation_price", "exchange_liquidation_price"):
            if name in out:
                out[name] = finite_or_none(out[name])
        out["time"] = iso_utc(self.time)
        return out

    def title(self) -> str:
        """A short ASCII title ('Margin Watch: DANGER', 'Margin Watch: feed problem') for ntfy's Title header."""
        if self.kind == "test":
            return "Margin Watch: test"
        if self.kind in ("feed_stale", "feed_back"):
            return "Margin Watch: feed " + ("back" if self.kind == "feed_back" else "problem")
        if self.kind == "price":
            return "Margin Watch: price alert"
        if self.kind == "check":
            return "Margin Watch: liquidation check"
        return f"Margin Watch: {(self.level or '').upper()}"


def _position_of(alert: Alert) -> tuple[str | None, str | None, str | None]:
    """(account, symbol, side) from an alert's key: a position's key is (account, symbol, side, hypothetical,
    n) (engine.monitor.session.position_keys), an account's ("account", name)."""
    key = alert.key
    if isinstance(key, tuple) and len(key) == 2 and key[0] == "account":
        return str(key[1]), None, None
    if isinstance(key, tuple) and len(key) >= 3:
        return str(key[0]), str(key[1]), str(key[2])
    return None, None, None


def alert_notice(alert: Alert, exchange_of: Mapping[str, str]) -> Notice:
    """The notice of a session's alert. exchange_of: account name -> ccxt exchange id (the book's)."""
    if alert.rule is not None:
        return price_notice(alert)
    if alert.check is not None:
        return check_notice(alert, exchange_of)
    account, symbol, side = _position_of(alert)
    quote = quote_currency_of(symbol) if symbol else ""
    text = f"{alert.new.label.upper()}: {printable(alert.describe())}"
    if alert.mark is not None:
        text += f", mark {price(alert.mark)} {quote}".rstrip()
    liquidation = finite_or_none(alert.liquidation)
    if liquidation is not None:
        text += f", liquidation {price(liquidation)} {quote}".rstrip()
    return Notice(
        kind="stale_price" if alert.stale else "level",
        account=account,
        exchange=exchange_of.get(account or "") or None,
        symbol=symbol,
        side=side,
        level=alert.new.label,
        previous_level=alert.old.label,
        distance=alert.distance,
        mark=alert.mark,
        liquidation_price=liquidation,
        quote_currency=quote or None,
        time=alert.at,
        text=text,
    )


def price_notice(alert: Alert) -> Notice:
    """The notice of a price alert (alert.rule set): 'PRICE: BTC/USDT:USDT on binanceusdm fell below 85,000.00
    USDT, mark 84,990.00 USDT'."""
    rule = alert.rule
    assert rule is not None
    quote = rule.quote_currency
    text = f"PRICE: {printable(alert.describe())}"
    if alert.mark is not None:
        text += f", mark {price(alert.mark)} {quote}".rstrip()
    return Notice(
        "price", None, rule.exchange, rule.symbol, None, None, None, None, alert.mark, None, quote or None,
        alert.at, text, rule.direction.value, rule.price,
    )  # fmt: skip


def check_notice(alert: Alert, exchange_of: Mapping[str, str]) -> Notice:
    """The notice of a sync's liquidation check (alert.check set): 'CHECK: main BTC/USDT:USDT long: liquidation
    CHECK, ours 40,160.64 USDT, the exchange's 40,500.00 USDT (difference -339.36 USDT)'."""
    check = alert.check
    assert check is not None
    account, symbol, side = _position_of(alert)
    quote = quote_currency_of(symbol) if symbol else ""
    return Notice(
        "check", account, exchange_of.get(account or "") or None, symbol, side, None, None, None, alert.mark,
        check.ours, quote or None, alert.at, f"CHECK: {printable(alert.describe())}",
        exchange_liquidation_price=check.exchange,
    )  # fmt: skip


def feed_notice(exchange: str, stale_for: float | None, at: float) -> Notice:
    """A feed notice: no fresh price from `exchange` for stale_for seconds ('feed_stale'), or, with
    stale_for None, its prices are fresh again ('feed_back')."""
    if stale_for is None:
        kind, text = "feed_back", f"FEED BACK: {printable(exchange)} prices are fresh again"
    else:
        kind, text = "feed_stale", f"FEED PROBLEM: no fresh price from {printable(exchange)} for {stale_for:.0f} s"
    return Notice(kind, None, exchange, None, None, None, None, None, None, None, None, at, text)


def channel_test_notice(channel: str, at: float) -> Notice:
    """The "Send test" notice of a channel: says it is a test, so nobody acts on it."""
    text = f"TEST: Margin Watch can reach the channel '{printable(channel)}'. No position is at risk."
    return Notice("test", None, None, None, None, None, None, None, None, None, None, at, text)
