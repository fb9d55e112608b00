"""Where ccxt's failures enter the project: one line for an error, and whether ccxt or we are at fault.

ccxt raises its own classes (ccxt.BaseError) for what it recognises; for a response or a frame it cannot
parse it raises whatever Python raised inside its parser (TypeError, AttributeError, KeyError). Those
are the exchange's garbage, not our bugs: they are status and one line, never a traceback.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from typing import Any


def describe_error(error: BaseException) -> str:
    """One line for a status bar: the ccxt class name and the first line of its message."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    name = type(error).__name__
    if isinstance(error, TimeoutError) and not text:  # asyncio.TimeoutError is TimeoutError since 3.11
        text = "timed out"
    return f"{name}: {text[:160]}" if text else name


def raised_in_ccxt(error: BaseException) -> bool:
    """True when the innermost frame of error's traceback is ccxt's own code: ccxt choked on what the
    exchange sent (a TypeError from parsing `[]`, say), as opposed to a bug of ours."""
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and f"{os.sep}ccxt{os.sep}" in frames[-1].filename


def skip_unreadable_frames(exchange: Any, skipped: Callable[[Exception], None]) -> None:
    """Make a websocket frame that ccxt's parser raises on a call to skipped(error) instead of a stall.

    ccxt parses each frame in a done-callback of its receive task and schedules the next receive only
    after the parse returns (ccxt/async_support/base/ws/client.py, receive_loop, ccxt 4.5): an exception
    there (`[]` gives TypeError on `None + '@arr'`, an event without "s" one on `str + None`) ends the
    reading while the socket stays open, and every symbol stalled until the silence watchdog. A client
    takes the exchange's handle_message when it is created (async_support/base/exchange.py, client), so
    wrapping it on the instance before any connection covers every client. Call once per instance.
    """
    handle = exchange.handle_message

    def guarded(client: Any, message: Any) -> Any:
        try:
            return handle(client, message)
        except Exception as e:
            skipped(e)
            return None

    exchange.handle_message = guarded
