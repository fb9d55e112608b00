"""The alerts config file of `marginwatch watch --alerts-config FILE`: which channels, at which minimum level,
and the dead-man's switch. It names channels; it never holds a secret. Each channel's URL or token is looked
up by the channel's name in the environment, then the keyring (engine.alerts.channel_secrets):

    {
      "channels": [
        {"name": "phone", "type": "ntfy", "min_level": "danger"},
        {"name": "ops", "type": "webhook", "min_level": "warning", "feed_problems": false},
        {"name": "bot", "type": "telegram", "chat_id": "-1001234567", "max_per_minute": 10}
      ],
      "heartbeat": {"every_s": 60},
      "feed_stale_after_s": 120
    }

channels[].type: "webhook" | "ntfy" | "telegram"; name: 1-40 characters, unique, not "heartbeat"; min_level:
"warning" (default) | "danger" | "liquidated"; feed_problems: true (default) sends stale prices and blind
feeds; max_per_minute: 1-600 (default 20); chat_id (telegram, required): a number or "@channelname";
api_url (telegram, optional): another Bot API server. heartbeat (optional): every_s, 1-3600 (default 60),
the URL in MARGINWATCH_HEARTBEAT_URL or the keyring. feed_stale_after_s: 10-86400 (default 120).

A "url" or "token" member is refused: a URL with a token in it would sit in a plain file. Errors are
AlertsConfigError, one line naming the field ("channels[1].min_level: ...").
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.alerts.channel_secrets import HEARTBEAT, SecretMissing, load_secret, require_secret, where
from engine.alerts.channels import TELEGRAM_API, Channel, ChannelKind
from engine.monitor.levels import Level

DEFAULT_FEED_STALE_AFTER = 120.0
DEFAULT_HEARTBEAT_EVERY = 60.0
_CHANNEL_FIELDS = {"name", "type", "min_level", "feed_problems", "max_per_minute", "chat_id", "api_url"}
_LEVELS = {level.label: level for level in Level if level is not Level.OK}


class AlertsConfigError(ValueError):
    """The alerts config cannot be used: one line naming the field and what is wrong."""


@dataclass(frozen=True)
class AlertsConfig:
    """A checked alerts config, secrets loaded. heartbeat: the channel pinged every heartbeat_every seconds
    (None: no heartbeat); feed_stale_after: seconds without a fresh price from an exchange before a feed
    problem is sent."""

    channels: tuple[Channel, ...]
    heartbeat: Channel | None = None
    heartbeat_every: float = DEFAULT_HEARTBEAT_EVERY
    feed_stale_after: float = DEFAULT_FEED_STALE_AFTER

    def all_channels(self) -> tuple[Channel, ...]:
        """The channels and the heartbeat, as the dispatcher takes them."""
        return (*self.channels, self.heartbeat) if self.heartbeat else self.channels


def _number(value: Any, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AlertsConfigError(f"{field}: must be a number of seconds from {low:g} to {high:g}")
    if not low <= value <= high:
        raise AlertsConfigError(f"{field}: must be from {low:g} to {high:g} (got {value:g})")
    return float(value)


def _secret_member(item: Mapping[str, Any], field: str, name: str) -> None:
    for member in ("url", "token", "secret", "password"):
        if member in item:
            part = "token" if member != "url" else "url"
            raise AlertsConfigError(
                f"{field}.{member}: secrets are not written in this file: set {where(name, part)} instead"
            )


def _telegram_fields(item: Mapping[str, Any], field: str) -> tuple[str, str]:
    chat = item.get("chat_id")
    if isinstance(chat, int) and not isinstance(chat, bool):
        chat = str(chat)
    if not isinstance(chat, str) or not chat.strip():
        raise AlertsConfigError(f"{field}.chat_id: required for telegram: a chat number or '@channelname'")
    api = item.get("api_url", TELEGRAM_API)
    if not isinstance(api, str) or not api.startswith(("https://", "http://")):
        raise AlertsConfigError(f"{field}.api_url: must be an http(s) URL")
    return chat.strip(), api


def channel_from_item(item: Any, field: str, environ: Mapping[str, str] | None = None) -> Channel:
    """One channels[] entry, checked, with its secrets (see the module's docstring for the fields); field names
    it in errors ('channels[0]'). Raises AlertsConfigError. The window's settings dialog checks with it too."""
    if not isinstance(item, dict):
        raise AlertsConfigError(f"{field}: must be an object with at least 'name' and 'type'")
    name = item.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 40 or name.strip() == HEARTBEAT:
        raise AlertsConfigError(f"{field}.name: must be 1 to 40 characters (and not '{HEARTBEAT}')")
    name = name.strip()
    _secret_member(item, field, name)
    unknown = sorted(set(item) - _CHANNEL_FIELDS)
    if unknown:
        raise AlertsConfigError(f"{field}.{unknown[0]}: unknown member (known: {', '.join(sorted(_CHANNEL_FIELDS))})")
    kinds = ("webhook", "ntfy", "telegram")
    if item.get("type") not in kinds:
        raise AlertsConfigError(f"{field}.type: must be {', '.join(kinds[:-1])} or {kinds[-1]}")
    kind = ChannelKind(item["type"])
    level = item.get("min_level", "warning")
    if level not in _LEVELS:
        raise AlertsConfigError(f"{field}.min_level: must be warning, danger or liquidated")
    feed = item.get("feed_problems", True)
    if not isinstance(feed, bool):
        raise AlertsConfigError(f"{field}.feed_problems: must be true or false")
    per_minute = _number(item.get("max_per_minute", 20), f"{field}.max_per_minute", 1, 600)
    if per_minute != int(per_minute):
        raise AlertsConfigError(f"{field}.max_per_minute: must be a whole number")
    chat, api = _telegram_fields(item, field) if kind is ChannelKind.TELEGRAM else ("", TELEGRAM_API)
    try:
        if kind is ChannelKind.TELEGRAM:
            url, token = "", require_secret(name, "token", environ)
        else:
            url, token = require_secret(name, "url", environ), load_secret(name, "token", environ) or ""
    except SecretMissing as e:
        raise AlertsConfigError(f"{field}: {e}") from None
    if url and not url.startswith(("https://", "http://")):
        raise AlertsConfigError(f"{field}: the URL in {where(name, 'url')} must start with https:// or http://")
    return Channel(name, kind, _LEVELS[level], feed, url, token, chat, api, int(per_minute))


def parse_alerts_config(doc: Any, environ: Mapping[str, str] | None = None) -> AlertsConfig:
    """A parsed JSON document as an AlertsConfig (environ: the environment to read secrets from; None: the
    process's). Raises AlertsConfigError naming the field."""
    if not isinstance(doc, dict):
        raise AlertsConfigError("the file must hold one JSON object with 'channels'")
    unknown = sorted(set(doc) - {"channels", "heartbeat", "feed_stale_after_s"})
    if unknown:
        raise AlertsConfigError(f"{unknown[0]}: unknown member (known: channels, heartbeat, feed_stale_after_s)")
    items = doc.get("channels", [])
    if not isinstance(items, list):
        raise AlertsConfigError("channels: must be a list of channel objects")
    channels = tuple(channel_from_item(item, f"channels[{i}]", environ) for i, item in enumerate(items))
    names = [c.name for c in channels]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise AlertsConfigError(f"channels[{i}].name: '{name}' is already the name of another channel")
    stale = _number(doc.get("feed_stale_after_s", DEFAULT_FEED_STALE_AFTER), "feed_stale_after_s", 10, 86_400)
    heartbeat, every = _heartbeat(doc.get("heartbeat"), environ)
    if not channels and heartbeat is None:
        raise AlertsConfigError("channels: name at least one channel (or a heartbeat)")
    return AlertsConfig(channels, heartbeat, every, stale)


def _heartbeat(item: Any, environ: Mapping[str, str] | None) -> tuple[Channel | None, float]:
    if item is None:
        return None, DEFAULT_HEARTBEAT_EVERY
    if not isinstance(item, dict) or set(item) - {"every_s"}:
        raise AlertsConfigError('heartbeat: must be {"every_s": seconds}; the URL is not written in this file')
    every = _number(item.get("every_s", DEFAULT_HEARTBEAT_EVERY), "heartbeat.every_s", 1, 3_600)
    try:
        url = require_secret(HEARTBEAT, "url", environ)
    except SecretMissing as e:
        raise AlertsConfigError(f"heartbeat: {e}") from None
    if not url.startswith(("https://", "http://")):
        raise AlertsConfigError(f"heartbeat: the URL in {where(HEARTBEAT, 'url')} must start with https:// or http://")
    return Channel(HEARTBEAT, ChannelKind.HEARTBEAT, url=url), every


def load_alerts_config(path: str | Path, environ: Mapping[str, str] | None = None) -> AlertsConfig:
    """Read and check the alerts config file. AlertsConfigError for an unreadable file, bad JSON or a bad field."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise AlertsConfigError(f"cannot read the file: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise AlertsConfigError("the file is not UTF-8 text") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise AlertsConfigError(f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    return parse_alerts_config(doc, environ)
