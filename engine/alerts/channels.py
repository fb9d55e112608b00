"""Alert channels: where a notice goes, what each accepts, and the HTTP request that delivers it.

- webhook: POST of the notice's JSON (engine.alerts.notice) to a URL the user gives.
- ntfy: POST of the notice's text to a topic URL on the server the user picks (https://ntfy.sh/<topic> or
  their own), with the headers Title, Priority (3 warning, 4 danger and feed problems, 5 liquidated) and Tags,
  and `Authorization: Bearer <token>` when an access token is set. Source: ntfy's "Publishing" page,
  https://docs.ntfy.sh/publish/ (read 2026-12-01): "POST /mytopic ... body: the message"; headers X-Title
  (Title), X-Priority (Priority, 1-5), X-Tags (Tags); access tokens sent as a Bearer authorization.
- telegram: POST https://api.telegram.org/bot<token>/sendMessage with JSON {"chat_id", "text"}. Source: the
  Telegram Bot API, https://core.telegram.org/bots/api#making-requests and #sendmessage (read 2026-12-01):
  every answer is a JSON object with "ok" and, on failure, "description", "error_code" and, when flood
  control hits, "parameters": {"retry_after": seconds}.
- heartbeat: a GET of the heartbeat URL (the dead-man's switch, engine.alerts.deadman), healthchecks-style.

Each channel has a minimum level (warning, danger or liquidated) and says whether it takes feed problems; a price
alert (engine.monitor.price_alerts) was asked for by the user and goes to every channel whatever its minimum.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum

from engine.alerts.notice import Notice
from engine.monitor.levels import Level

USER_AGENT = "marginwatch-alerts/1"


class ChannelKind(StrEnum):
    """The kinds of channel the alerts config and the settings dialog offer."""

    WEBHOOK = "webhook"
    NTFY = "ntfy"
    TELEGRAM = "telegram"
    HEARTBEAT = "heartbeat"


TELEGRAM_API = "https://api.telegram.org"
_NTFY_PRIORITY = {Level.WARNING: "3", Level.DANGER: "4", Level.LIQUIDATED: "5"}


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One HTTP request: method, URL, headers and body (bytes; None for a GET)."""

    method: str
    url: str = field(repr=False)
    headers: dict[str, str] = field(repr=False)
    body: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Channel:
    """One configured channel. url / token are secrets (engine.alerts.channel_secrets): never printed (repr hides
    them), scrubbed from every error text. min_level: the lowest level sent (Level.WARNING .. LIQUIDATED);
    feed_problems: whether stale prices and blind feeds are sent; max_per_minute: the channel's rate limit."""

    name: str
    kind: ChannelKind
    min_level: Level = Level.WARNING
    feed_problems: bool = True
    url: str = field(default="", repr=False)
    token: str = field(default="", repr=False)
    chat_id: str = ""
    """Telegram only: the chat the bot writes to (not a secret: useless without the token)."""
    api_url: str = TELEGRAM_API
    """Telegram only: the Bot API server (another for a local Bot API server, or a test)."""
    max_per_minute: int = 20

    def secrets(self) -> tuple[str, ...]:
        """The secret values, to scrub them from any text that might leave the process."""
        return tuple(v for v in (self.url, self.token) if v)

    def accepts(self, notice: Notice) -> bool:
        """Whether this channel is sent the notice: a test, a price alert and a liquidation check always; a feed
        notice when it takes feed problems; a stale price when it takes feed problems and the position's level is
        at its minimum or worse; a level at its minimum or worse."""
        if self.kind is ChannelKind.HEARTBEAT:
            return False
        if notice.kind in ("test", "price", "check"):  # asked for, or a figure to verify: whatever the minimum level
            return True
        if notice.kind in ("feed_stale", "feed_back"):
            return self.feed_problems
        severity = notice.severity
        if severity is None or severity < self.min_level:
            return False
        return self.feed_problems or notice.kind != "stale_price"

    def request(self, notice: Notice | None) -> Outgoing:
        """The HTTP request that delivers `notice` on this channel (None: the heartbeat's ping)."""
        if self.kind is ChannelKind.HEARTBEAT or notice is None:
            return Outgoing("GET", self.url, {"User-Agent": USER_AGENT})
        if self.kind is ChannelKind.WEBHOOK:
            body = json.dumps(notice.to_json(), allow_nan=False).encode()
            return Outgoing("POST", self.url, _json_headers(), body)
        if self.kind is ChannelKind.NTFY:
            return Outgoing("POST", self.url, self._ntfy_headers(notice), notice.text.encode())
        body = json.dumps({"chat_id": self.chat_id, "text": notice.text, "disable_web_page_preview": True}).encode()
        return Outgoing("POST", f"{self.api_url.rstrip('/')}/bot{self.token}/sendMessage", _json_headers(), body)

    def _ntfy_headers(self, notice: Notice) -> dict[str, str]:
        severity = notice.severity
        if notice.kind == "test":
            priority, tag = "3", "test"
        elif notice.feed_problem and notice.kind != "stale_price":
            priority, tag = "4", "feed"
        elif notice.kind in ("price", "check"):
            priority, tag = "4", notice.kind
        else:
            priority = _NTFY_PRIORITY.get(severity, "4") if severity is not None else "4"
            tag = notice.level or "alert"
        headers = {
            "User-Agent": USER_AGENT,
            "Content-Type": "text/plain; charset=utf-8",
            "Title": notice.title(),
            "Priority": priority,
            "Tags": f"marginwatch,{tag}",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers


def _json_headers() -> dict[str, str]:
    return {"User-Agent": USER_AGENT, "Content-Type": "application/json"}
