"""The command line's option types: numbers in the grammar of engine.book.numbers, refused in one line."""

from __future__ import annotations

import argparse

from engine.book.numbers import NotANumber, read_count, read_positive


def positive_float(text: str) -> float:
    """An option's number > 0 in the grammar of engine.book.numbers ('inf', 'nan', '1_000' are refused)."""
    try:
        return read_positive(text, "the value")
    except NotANumber as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def refresh_rate(text: str) -> float:
    """The window's refresh rate: a number of refreshes a second between 0.5 and 60."""
    value = positive_float(text)
    if not 0.5 <= value <= 60:
        raise argparse.ArgumentTypeError(f"must be between 0.5 and 60 refreshes a second: {text}")
    return value


def positive_int(text: str) -> int:
    """An option's whole number >= 1 in the grammar of engine.book.numbers (int() took '١٢' and '1_0')."""
    try:
        return read_count(text, "the value")
    except NotANumber as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def sync_interval(text: str) -> float:
    """`watch --sync-every`: seconds between two syncs of an account, at least 15 (engine.sync.schedule); '90',
    '2 min', '1 h'."""
    from engine.sync.schedule import BadInterval, read_interval

    try:
        seconds = read_interval(text)
    except BadInterval as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if seconds is None:
        raise argparse.ArgumentTypeError("leave --sync-every out for no automatic sync")
    return seconds
