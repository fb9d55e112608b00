"""A failed sync in words: what went wrong, per account, from ccxt's exception and the exchange's own error code.

ccxt raises one class per kind of failure (ccxt/base/errors.py) and keeps the exchange's answer in the
message; Binance's codes are read from it where one class covers several causes (Binance USDⓈ-M "Error
Codes", https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code, read 2026-12-01:
-1003 too many requests, -1021 timestamp outside recvWindow, -1022 signature not valid, -2014 API-key format
invalid, -2015 invalid API-key, IP, or permissions for action).
"""

from __future__ import annotations

import re
from enum import StrEnum


class SyncFailure(StrEnum):
    """Why one account's sync failed; each has its own words for the user."""

    NOT_LINKED = "not linked"
    INVALID_ADDRESS = "invalid wallet address"
    NO_KEYRING = "no keyring"
    INVALID_KEY = "invalid key"
    KEY_REFUSED = "key refused"
    """The exchange refused the key without saying whether it is wrong, lacks a permission or is IP-bound."""
    PERMISSION = "missing permission"
    IP_NOT_ALLOWED = "IP not allowed"
    CLOCK_SKEW = "clock skew"
    RATE_LIMITED = "rate-limited"
    EXCHANGE_DOWN = "exchange down"
    NETWORK = "network"
    UNREADABLE = "unreadable answer"
    NOT_SUPPORTED = "not supported"
    REFUSED_BY_RULES = "refused by the book's rules"
    READ_ONLY = "read-only guard"


class SyncError(Exception):
    """One account's sync cannot go on: kind (SyncFailure) and one sentence for the user; the book is untouched.

    skew_s: for CLOCK_SKEW, the local clock minus the exchange's (seconds, positive when ahead) when measured.
    """

    def __init__(self, kind: SyncFailure, message: str, skew_s: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.skew_s = skew_s


_CODE = re.compile(r'"code"\s*:\s*"?(-?\d+)')
_IP = re.compile(r"\bip\b.*(white|allow|not (in|on)|unmatched|restrict)|(white|allow)list.*\bip\b", re.IGNORECASE)


def exchange_code(error: Exception) -> str | None:
    """The exchange's own error code quoted in a ccxt error's message ('-2015'), or None."""
    match = _CODE.search(str(error))
    return match.group(1) if match else None


def translate(exchange: str, error: Exception) -> SyncError:
    """The SyncError for a ccxt exception raised while reading an account (clock skew without its size:
    the reader measures it). Never quotes a request: ccxt's messages hold the exchange's answer only."""
    import ccxt  # here: asking whether an account is linked (engine.sync.keys) must not load ccxt

    code = exchange_code(error)
    said = _said(error)
    if code == "-1021" or isinstance(error, ccxt.InvalidNonce):
        return SyncError(SyncFailure.CLOCK_SKEW, f"{exchange} refused the request's time stamp{said}")
    if code in ("-2014", "-1022"):
        what = "the API key is not valid" if code == "-2014" else "the secret does not match the API key"
        return SyncError(SyncFailure.INVALID_KEY, f"{exchange}: {what}{said}")
    if code == "-2015":
        return SyncError(
            SyncFailure.KEY_REFUSED,
            f"{exchange} refused the key: it is wrong, lacks the read permission for futures, or this machine's "
            f"IP address is not on the key's allow-list (the exchange does not say which){said}",
        )
    if code in ("-1003",) or isinstance(error, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return SyncError(SyncFailure.RATE_LIMITED, f"{exchange} is rate-limiting this machine: backing off{said}")
    if isinstance(error, ccxt.AuthenticationError | ccxt.PermissionDenied | ccxt.AccountNotEnabled):
        if _IP.search(str(error)):
            return SyncError(SyncFailure.IP_NOT_ALLOWED, f"{exchange}: this machine's IP address is not allowed{said}")
        if isinstance(error, ccxt.PermissionDenied | ccxt.AccountNotEnabled):
            return SyncError(SyncFailure.PERMISSION, f"{exchange}: the key lacks a read permission{said}")
        return SyncError(SyncFailure.INVALID_KEY, f"{exchange}: the API key or secret is not valid{said}")
    if isinstance(error, ccxt.OnMaintenance | ccxt.ExchangeNotAvailable):
        return SyncError(SyncFailure.EXCHANGE_DOWN, f"{exchange} is down or in maintenance{said}")
    if isinstance(error, ccxt.NetworkError):  # after ExchangeNotAvailable and DDoSProtection, its subclasses
        return SyncError(SyncFailure.NETWORK, f"{exchange} cannot be reached ({type(error).__name__})")
    if isinstance(error, ccxt.NotSupported):
        return SyncError(SyncFailure.NOT_SUPPORTED, f"{exchange}: ccxt cannot read positions here{said}")
    return SyncError(SyncFailure.UNREADABLE, f"{exchange} answered in a way that cannot be read{said}")


def _said(error: Exception) -> str:
    """': "the exchange's own message"' quoted short (Binance's msg, Bybit's retMsg), or ''."""
    match = re.search(r'"(?:msg|retMsg)"\s*:\s*"([^"]{1,200})"', str(error))
    return f' ("{match.group(1)}")' if match else ""
