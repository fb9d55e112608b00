"""One HTTP request of a channel, with the standard library's urllib (no new dependency), and its outcome in
words: delivered, worth retrying (a 5xx, 429, a timeout, a refused or broken connection), or not (another
4xx: a wrong URL or token does not get better by retrying).

Telegram answers every call with {"ok": ..., "description": ...}; an "ok": false is a failure even with
HTTP 200, and a 429's {"parameters": {"retry_after": s}} says how long to wait (channels.py cites the page).
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.alerts.channels import Outgoing
from engine.book.safe_text import printable

if TYPE_CHECKING:  # urllib and http.client load ssl and email (~20 ms): imported when a request is first sent
    import urllib.error

MAX_ERROR_BODY = 200
"""Characters of a server's error answer kept in the error text."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one attempt did. error: '' when delivered, else in words (secrets not yet scrubbed: the
    dispatcher does it); retry: worth another attempt; retry_after: seconds the server asked to wait."""

    error: str = ""
    retry: bool = False
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return not self.error


def _retry_after(headers: object, body: str) -> float | None:
    """Seconds to wait from a Retry-After header (seconds form) or Telegram's parameters.retry_after."""
    value = getattr(headers, "get", lambda _name: None)("Retry-After")
    try:
        if value is not None:
            return max(0.0, float(value))
    except ValueError:
        pass
    try:
        seconds = json.loads(body).get("parameters", {}).get("retry_after")
    except (ValueError, AttributeError):
        return None
    return float(seconds) if isinstance(seconds, int | float) and not isinstance(seconds, bool) else None


def _said(body: str) -> str:
    """The server's words in an error answer: Telegram's 'description', else the start of the body."""
    try:
        description = json.loads(body).get("description")
    except (ValueError, AttributeError):
        description = None
    text = description if isinstance(description, str) else body
    return printable(" ".join(text.split())[:MAX_ERROR_BODY])  # a server's words never drive the terminal


def _http_error(e: urllib.error.HTTPError) -> Delivery:
    try:
        body = e.read().decode("utf-8", "replace")
    except OSError:
        body = ""
    said = _said(body)
    text = f"HTTP {e.code} {e.reason}" + (f": {said}" if said else "")
    if e.code == 429:
        return Delivery(f"rate-limited by the server ({text})", True, _retry_after(e.headers, body))
    return Delivery(text, retry=e.code >= 500 or e.code == 408)


def _network_error(e: BaseException, timeout: float) -> Delivery:
    import urllib.error

    reason = e.reason if isinstance(e, urllib.error.URLError) else e
    if isinstance(reason, TimeoutError | socket.timeout):
        return Delivery(f"no answer within {timeout:g} s (timed out)", retry=True)
    if isinstance(reason, ConnectionRefusedError):
        return Delivery("connection refused (nothing listens at that address)", retry=True)
    if isinstance(reason, socket.gaierror):
        return Delivery(f"host name not found ({reason.strerror or reason})", retry=True)
    words = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return Delivery(f"network error: {words}", retry=True)


def send(outgoing: Outgoing, timeout: float) -> Delivery:
    """Make the request (timeout: seconds for connecting and for each read) and say what happened. Never
    raises for a network or HTTP fault; ValueError for a URL urllib cannot use is a Delivery too."""
    import http.client
    import urllib.error
    import urllib.request

    request = urllib.request.Request(outgoing.url, outgoing.body, outgoing.headers, method=outgoing.method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(64 * 1024).decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return _http_error(e)
    except (urllib.error.URLError, OSError) as e:
        return _network_error(e, timeout)
    except http.client.HTTPException as e:  # a connection cut mid-answer (IncompleteRead, a bad status line)
        return Delivery(f"the answer was cut off ({type(e).__name__})", retry=True)
    except ValueError as e:  # 'unknown url type', a URL without a scheme
        return Delivery(f"not a usable URL ({e})")
    if body.lstrip().startswith("{"):
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if isinstance(answer, dict) and answer.get("ok") is False:  # Telegram's failure inside a 200
            return Delivery(f"refused: {_said(body)}")
    return Delivery()
