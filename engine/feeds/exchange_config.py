"""The --exchange-config file: per ccxt exchange id, ccxt constructor settings and the transport.

    {"binanceusdm": {"ccxt": {"timeout": 5000, "urls": {"api": {"fapiPublic": "http://..."}}},
                     "transport": "websocket"}}

`ccxt` is deep-merged into the exchange's ccxt configuration (a proxy, a timeout, other URLs);
`transport` is auto (default), rest or websocket.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Transport(StrEnum):
    AUTO = "auto"
    REST = "rest"
    WEBSOCKET = "websocket"


class ExchangeConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ExchangeSettings:
    ccxt: Mapping[str, Any] = field(default_factory=dict)
    transport: Transport = Transport.AUTO


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: override's values win, nested objects merge key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_exchange_config(data: Any) -> dict[str, ExchangeSettings]:
    if not isinstance(data, Mapping):
        raise ExchangeConfigError("must be a JSON object of ccxt exchange id -> settings")
    settings = {}
    for exchange, item in data.items():
        if not isinstance(item, Mapping):
            raise ExchangeConfigError(f"{exchange}: must be an object with 'ccxt' and/or 'transport'")
        ccxt_config = item.get("ccxt", {})
        if not isinstance(ccxt_config, Mapping):
            raise ExchangeConfigError(f"{exchange}: 'ccxt' must be an object")
        raw = item.get("transport", "auto")
        try:
            transport = Transport(raw)
        except ValueError:
            raise ExchangeConfigError(f"{exchange}: 'transport' must be auto, rest or websocket, not {raw!r}") from None
        unknown = set(item) - {"ccxt", "transport"}
        if unknown:
            raise ExchangeConfigError(f"{exchange}: unknown setting {sorted(unknown)[0]!r}")
        settings[exchange] = ExchangeSettings(dict(ccxt_config), transport)
    return settings


def load_exchange_config(path: str | Path) -> dict[str, ExchangeSettings]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ExchangeConfigError(f"cannot read {path}: {e.strerror or e}") from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ExchangeConfigError(f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from e
    return parse_exchange_config(data)
