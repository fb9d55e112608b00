"""A CSV row's cells as a position's values: the cell grammar shared by export and import (engine.book.positions_csv).

Text cells are guarded against spreadsheet formulas on export and unguarded on import; flags are read in the
words of TRUE_WORDS / FALSE_WORDS; numbers in engine.book.numbers' grammar. Whether the values make a valid book
is engine.book.book_rules' question: a row here only has to hold values at all, each bad cell a CsvProblem.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from engine.book.numbers import NotANumber, read_positive
from engine.margin.model import MarginMode, Position, Side

TRUE_WORDS = frozenset({"true", "yes", "1", "on"})
FALSE_WORDS = frozenset({"false", "no", "0", "off", ""})
"""How a CSV cell or a form field (lower-cased) says true or false."""
# OWASP "CSV Injection": a cell starting with one of these is run as a formula by spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER_COLUMNS = ("contracts", "entry_price", "leverage", "isolated_margin")
STOP_COLUMNS = ("take_profit", "stop_loss")
"""Optional prices (quote currency): an empty cell is 'not set'."""


class CsvProblem(NamedTuple):
    """One bad cell or row: its line in the file (the header is line 1), its column ('' for a whole row)."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}" if self.field else f"line {self.line}: {self.message}"


def guarded(text: str) -> str:
    """A text cell safe to open in a spreadsheet: one that would start a formula (=, +, -, @, tab, CR, after
    any quotes of its own) gets a leading single quote, as OWASP's "CSV Injection" page advises; spreadsheets
    show the text without it. Numbers are written by format_number and never guarded (-12.5 stays a number).
    unguarded() undoes it, so the round trip is exact."""
    return "'" + text if text.lstrip("'").startswith(FORMULA_STARTS) else text


def unguarded(cell: str) -> str:
    """The text of a cell guarded() wrote (a cell that was not guarded is returned as it is)."""
    return cell[1:] if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_STARTS) else cell


def _shown(cell: str) -> str:
    return repr(cell if len(cell) <= 40 else cell[:37] + "...")


def row_position(
    line: int,
    cells: list[str],
    columns: Mapping[str, int],
    width: int,
    accounts: set[str],
    problems: list[CsvProblem],
) -> Position | None:
    """The row as a position, or None after adding a problem for each cell that is not a value at all (the
    book rules judge the values). One pass over the columns in their order, so that every bad cell of the row
    is reported in one go; numbers are read in engine.book.numbers' grammar."""
    before = len(problems)

    def cell(name: str) -> str:
        index = columns.get(name)
        return unguarded(cells[index]) if index is not None and index < len(cells) else ""

    def bad(name: str, message: str) -> None:
        problems.append(CsvProblem(line, name, message))

    if any(c.strip() for c in cells[width:]):
        bad("", f"has {len(cells)} cells but the first line names {width} columns; quote a note that holds a comma")
    item: dict[str, Any] = {"account": _row_account(cell("account"), accounts, bad), "symbol": cell("symbol").strip()}
    if not item["symbol"]:
        bad("symbol", "is empty")
    for name, enum in (("side", Side), ("margin_mode", MarginMode)):
        raw = cell(name).strip().lower()
        if raw in {e.value for e in enum}:
            item[name] = raw
        else:
            allowed = " or ".join(f"'{e.value}'" for e in enum)
            bad(name, f"must be {allowed} (got {_shown(cell(name))})")
    item.update(_row_numbers(cell, item.get("margin_mode"), bad))
    item.update(_row_stops(cell, bad))
    flag = cell("hypothetical").strip().lower()
    if flag in TRUE_WORDS:
        item["hypothetical"] = True
    elif flag not in FALSE_WORDS:
        bad("hypothetical", f"must be true or false (got {_shown(cell('hypothetical'))})")
    if len(problems) > before:
        return None
    return Position(
        item["account"],
        item["symbol"],
        Side(item["side"]),
        item["contracts"],
        item["entry_price"],
        MarginMode(item["margin_mode"]),
        item["leverage"],
        item.get("isolated_margin", 0.0),
        bool(item.get("hypothetical", False)),
        cell("note"),
        take_profit=item.get("take_profit"),
        stop_loss=item.get("stop_loss"),
    )


def _row_account(account: str, accounts: set[str], bad: Callable[[str, str], None]) -> str:
    """The row's account name (stripped only when that names a known account); a problem when it is empty or
    unknown."""
    if account not in accounts and account.strip() in accounts:
        account = account.strip()
    if not account.strip():
        bad("account", "is empty")
    elif account not in accounts:
        known = ", ".join(repr(a) for a in sorted(accounts)) or "none"
        bad("account", f"unknown account {_shown(account)}; add it to the book first (accounts: {known})")
    return account


def _row_numbers(
    cell: Callable[[str], str], margin_mode: str | None, bad: Callable[[str, str], None]
) -> dict[str, float]:
    """The row's numbers that are numbers greater than 0 (a problem for each that is not); isolated_margin is
    optional (an isolated position defaults to its initial margin at entry, as in the file) and refused on a
    cross position."""
    numbers: dict[str, float] = {}
    for name in NUMBER_COLUMNS:
        raw = cell(name).strip()
        if name == "isolated_margin" and (not raw or margin_mode != MarginMode.ISOLATED.value):
            if raw and margin_mode == MarginMode.CROSS.value:
                bad(name, "applies to isolated positions only; leave it empty for a cross position")
            continue
        value = _positive(raw)
        if value is None:
            bad(name, f"must be a number greater than 0 (got {_shown(cell(name))})")
        else:
            numbers[name] = value
    return numbers


def _row_stops(cell: Callable[[str], str], bad: Callable[[str, str], None]) -> dict[str, float]:
    """The row's take-profit and stop-loss where set: an empty cell (or no such column) is 'not set'."""
    stops: dict[str, float] = {}
    for name in STOP_COLUMNS:
        raw = cell(name).strip()
        if not raw:
            continue
        value = _positive(raw)
        if value is None:
            bad(name, f"must be a price greater than 0, or empty (got {_shown(cell(name))})")
        else:
            stops[name] = value
    return stops


def _positive(text: str) -> float | None:
    """A cell's number > 0 in the grammar of engine.book.numbers (the forms' and the CLI's), else None."""
    try:
        return read_positive(text, "the value")
    except NotANumber:
        return None
