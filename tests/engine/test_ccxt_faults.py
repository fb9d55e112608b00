"""ccxt's failures as one status line (engine.market.feeds.ccxt_faults)."""

from __future__ import annotations

from engine.market.feeds.ccxt_faults import describe_error


def test_a_timeout_without_a_message_says_it_timed_out():
    assert describe_error(TimeoutError()) == "TimeoutError: timed out"  # what ccxt's awaits raise (asyncio's)
    assert describe_error(TimeoutError("read 30 s")) == "TimeoutError: read 30 s"
    assert describe_error(ValueError()) == "ValueError"
