"""The portfolio file's `thresholds` objects: an account's or a position's own risk thresholds.

An account or a position may carry `"thresholds": {"distance_warning": 0.08, ...}` with the global thresholds'
field names (engine.book.thresholds.FIELDS, fractions). A field left out takes the default of Thresholds (the
override is whole: engine.book.thresholds). Each object is checked like the global thresholds; a bad one is a
violation naming the field ('thresholds.distance_danger') at its account or position, so the file's reader
reports it in one located line. A position's override is keyed by (account, symbol, side): positions sharing
those (a hypothetical trade beside the real one) share it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from engine.book.document_reader import Reader
from engine.book.thresholds import FIELDS, PositionRef, ThresholdOverrides, Thresholds, threshold_problems

KEY = "thresholds"
"""The key of the object on an account or a position."""


def read_thresholds(reader: Reader, item: Mapping[str, Any], where: int | str) -> Thresholds | None:
    """The item's `thresholds` object as Thresholds (None when absent or bad: violations into reader).
    where: the position's index in the document, or the account's name."""
    value = item.get(KEY)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        reader.add(KEY, where, f"'{KEY}' must be an object of {', '.join(FIELDS)}")
        return None
    before = len(reader.violations)
    reader.keys(value, FIELDS, f"'{KEY}'", where)
    defaults = asdict(Thresholds())
    dotted = {f"{KEY}.{k}": v for k, v in value.items()}  # the field is named 'thresholds.distance_warning'
    values = {
        name: reader.number(dotted, f"{KEY}.{name}", where, non_negative=True, default=defaults[name])
        for name in FIELDS
    }
    if len(reader.violations) > before:
        return None
    checked: dict[str, float] = {k: v for k, v in values.items() if v is not None}
    problems = threshold_problems(checked)
    for field_name, message in problems:
        reader.add(f"{KEY}.{field_name}", where, f"'{KEY}.{field_name}': {message}")
    return None if problems else Thresholds(**checked)


def read_overrides(reader: Reader, data: Mapping[str, Any]) -> ThresholdOverrides:
    """Every account's and position's `thresholds` object of a decoded document (its other keys are read and
    checked elsewhere: an item that is not an object, or whose name is not text, is skipped here). An override
    is per (account, symbol, side): two positions sharing them (a real one and a hypothetical one) with
    different objects are a violation, not the last one silently kept."""
    accounts: dict[str, Thresholds] = {}
    positions: dict[PositionRef, Thresholds] = {}
    for item in _items(data, "accounts"):
        name = item.get("name")
        if isinstance(name, str) and KEY in item and (t := read_thresholds(reader, item, name)) is not None:
            accounts[name] = t
    for i, item in enumerate(_items(data, "positions")):
        if KEY not in item:
            continue
        t = read_thresholds(reader, item, i)
        ref = (item.get("account"), item.get("symbol"), item.get("side"))
        if t is None or not all(isinstance(part, str) for part in ref):
            continue
        if positions.get(ref, t) != t:  # type: ignore[call-overload]
            same = "the same account, symbol and side (one override each)"
            reader.add(KEY, i, f"'{KEY}' differs from an earlier position's with {same}")
            continue
        positions[ref] = t  # type: ignore[index]
    return ThresholdOverrides(Thresholds(), accounts, positions)


def _items(data: Mapping[str, Any], section: str) -> Sequence[Mapping[str, Any]]:
    value = data.get(section)
    if not isinstance(value, list):
        return []
    return [item if type(item) is dict or isinstance(item, Mapping) else {} for item in value]  # dicts: no ABC check


def write_overrides(doc: dict[str, Any], overrides: ThresholdOverrides) -> dict[str, Any]:
    """doc (a version-1 document of portfolio_to_dict) with each account's and position's override written as
    its `thresholds` object; overrides of accounts or positions doc does not have are left out (dropped)."""
    for account in doc.get("accounts", []):
        if (t := overrides.accounts.get(account["name"])) is not None:
            account[KEY] = asdict(t)
    for position in doc.get("positions", []):
        if (t := overrides.positions.get((position["account"], position["symbol"], position["side"]))) is not None:
            position[KEY] = asdict(t)
    return doc


def document_overrides(doc: Mapping[str, Any]) -> ThresholdOverrides:
    """The overrides a document written by write_overrides holds (already valid: its objects were Thresholds)."""
    accounts = {a["name"]: Thresholds(**a[KEY]) for a in doc.get("accounts", []) if KEY in a}
    positions = {
        (p["account"], p["symbol"], p["side"]): Thresholds(**p[KEY]) for p in doc.get("positions", []) if KEY in p
    }
    return ThresholdOverrides(Thresholds(), accounts, positions)
