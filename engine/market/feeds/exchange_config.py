"""The --exchange-config file: per ccxt exchange id, ccxt constructor settings and the transport.

    {"binanceusdm": {"ccxt": {"timeout": 5000, "urls": {"api": {"fapiPublic": "http://..."}}},
                     "transport": "websocket"}}

`ccxt` is deep-merged into the exchange's ccxt configuration (a proxy, a timeout, other URLs);
`transport` is auto (default), rest or websocket.

Refused, each with one line that names it: credentials anywhere in the file (the feeds read public data
only; given an apiKey, ccxt signed requests to the exchange's real host whatever the URL overrides said);
an exchange id ccxt does not know, or (for a book) one that no account uses; a setting ccxt's exchange
does not have; nesting deeper than MAX_DEPTH. Accepted with a warning (connection_note): a host that is
not one of the exchange's own, plain http/ws, `verify: false`, a proxy.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MAX_DEPTH = 20
"""Deepest nesting of objects and arrays accepted; ccxt's own settings nest four levels at most."""

CREDENTIAL_KEYS = frozenset(
    {
        "apikey",
        "secret",
        "secretkey",
        "password",
        "passphrase",
        "uid",
        "login",
        "twofa",
        "privatekey",
        "walletaddress",
        "token",
        "accountid",
    }
)
"""ccxt's requiredCredentials (base/exchange.py describe()), compared lower-case without '_' and '-'."""

PROXY_KEYS = (
    "proxy",
    "proxyUrl",
    "proxy_url",
    "httpProxy",
    "http_proxy",
    "httpsProxy",
    "https_proxy",
    "socksProxy",
    "socks_proxy",
    "wsProxy",
    "ws_proxy",
    "wssProxy",
    "wss_proxy",
    "wsSocksProxy",
    "ws_socks_proxy",
    "aiohttp_proxy",
    "aiohttpProxy",
)


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


def _did_you_mean(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _depth_exceeds(data: Any, limit: int) -> bool:
    """True when objects/arrays nest deeper than limit; iterative, so any depth is safe to check."""
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, Mapping) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _credential_paths(data: Any, path: str = "") -> Iterator[str]:
    if isinstance(data, Mapping):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            plain = str(key).lower().replace("_", "").replace("-", "")
            if plain in CREDENTIAL_KEYS or plain.endswith(("apikey", "secret")):
                yield where
            yield from _credential_paths(value, where)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _credential_paths(value, f"{path}[{i}]")


def _ccxt_exchange(exchange_id: str) -> Any:
    """An unconnected instance of ccxt's (pro) exchange class, or None when ccxt has no such exchange."""
    import ccxt.pro  # heavy: imported only when a configuration is checked

    cls = getattr(ccxt.pro, exchange_id, None) if exchange_id in ccxt.exchanges else None
    return cls() if cls is not None else None


def _settings_of(exchange: Any) -> set[str]:
    return {name for name in dir(exchange) if not name.startswith("_") and not callable(getattr(exchange, name, None))}


def parse_exchange_config(data: Any, used_exchanges: Collection[str] | None = None) -> dict[str, ExchangeSettings]:
    """Check and convert a parsed --exchange-config document; ExchangeConfigError names what is wrong.

    used_exchanges: the exchange ids the book's accounts use, when known (a setting for another one
    would silently do nothing); None skips that check (the window's book can still gain accounts).
    """
    import ccxt

    if not isinstance(data, Mapping):
        raise ExchangeConfigError("must be a JSON object of ccxt exchange id -> settings")
    if _depth_exceeds(data, MAX_DEPTH):
        raise ExchangeConfigError(f"nested more than {MAX_DEPTH} levels deep")
    secrets = list(_credential_paths(data))
    if secrets:
        raise ExchangeConfigError(
            f"{secrets[0]}: credentials do not belong here; Margin Watch reads public prices only and never "
            "needs an API key (remove it)"
        )
    settings = {}
    for exchange, item in data.items():
        if exchange not in ccxt.exchanges:
            raise ExchangeConfigError(f"{exchange}: not a ccxt exchange id{_did_you_mean(exchange, ccxt.exchanges)}")
        if used_exchanges is not None and exchange not in used_exchanges:
            used = ", ".join(sorted(used_exchanges)) or "none"
            raise ExchangeConfigError(
                f"{exchange}: no account in the book uses this exchange{_did_you_mean(exchange, used_exchanges)}; "
                f"the accounts use: {used}"
            )
        if not isinstance(item, Mapping):
            raise ExchangeConfigError(f"{exchange}: must be an object with 'ccxt' and/or 'transport'")
        unknown = sorted(set(item) - {"ccxt", "transport"})
        if unknown:
            hint = _did_you_mean(unknown[0], ("ccxt", "transport"))
            raise ExchangeConfigError(f"{exchange}: unknown setting {unknown[0]!r}{hint}")
        ccxt_config = item.get("ccxt", {})
        if not isinstance(ccxt_config, Mapping):
            raise ExchangeConfigError(f"{exchange}: 'ccxt' must be an object")
        known = _settings_of(_ccxt_exchange(exchange))
        for key in ccxt_config:
            if key not in known:
                hint = _did_you_mean(key, known)
                raise ExchangeConfigError(f"{exchange}.ccxt: {key!r} is not a ccxt setting of {exchange}{hint}")
        raw = item.get("transport", "auto")
        try:
            transport = Transport(raw)
        except (ValueError, TypeError):
            raise ExchangeConfigError(f"{exchange}: 'transport' must be auto, rest or websocket, not {raw!r}") from None
        settings[exchange] = ExchangeSettings(dict(ccxt_config), transport)
    return settings


def load_exchange_config(
    path: str | Path, used_exchanges: Collection[str] | None = None
) -> dict[str, ExchangeSettings]:
    """Read and check an --exchange-config file; ExchangeConfigError (one line) for anything wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ExchangeConfigError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ExchangeConfigError(f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from e
    except RecursionError as e:
        raise ExchangeConfigError(f"nested more than {MAX_DEPTH} levels deep") from e
    except ValueError as e:  # e.g. an integer literal past Python's digit limit
        raise ExchangeConfigError(f"malformed JSON: {str(e).splitlines()[0]}") from e
    return parse_exchange_config(data, used_exchanges)


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, Mapping):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


def _host(url: str) -> str:
    """host[:port] of a URL, never its user name or password (the note is shown and logged)."""
    parts = urlsplit(url if "://" in url else f"//{url}")
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.hostname or '?'}:{port}" if port else parts.hostname or "?"


def connection_note(exchange_id: str, ccxt_config: Mapping[str, Any]) -> str:
    """'' when the settings talk to the exchange's own hosts over TLS; else what differs, in words.

    E.g. "via 127.0.0.1:8080, not binanceusdm's own host; plain http". The exchange's own hosts are those
    of the URLs in ccxt's description of it (describe()['urls'], testnet and demo hosts included).
    """
    exchange = _ccxt_exchange(exchange_id)
    if exchange is None:
        return ""
    described = exchange.describe()
    hostname = described.get("hostname") or ""
    own = {
        urlsplit(url.replace("{hostname}", hostname)).hostname
        for url in _strings(described.get("urls", {}))
        if "://" in url
    }
    urls = [url for url in _strings(ccxt_config.get("urls", {})) if "://" in url]
    foreign = []
    for url in urls:
        if urlsplit(url).hostname not in own and _host(url) not in foreign:
            foreign.append(_host(url))
    if isinstance(ccxt_config.get("hostname"), str) and ccxt_config["hostname"] != hostname:
        foreign.append(ccxt_config["hostname"])
    notes = []
    if foreign:
        notes.append(f"via {', '.join(foreign)}, not {exchange_id}'s own host")
    if any(url.lower().startswith(("http://", "ws://")) for url in urls):
        notes.append("plain http")
    if ccxt_config.get("verify") is False:
        notes.append("TLS certificates not verified")
    proxies = [str(ccxt_config[k]) for k in PROXY_KEYS if ccxt_config.get(k)]
    if proxies:
        notes.append(f"through proxy {_host(proxies[0])}")
    return "; ".join(notes)
