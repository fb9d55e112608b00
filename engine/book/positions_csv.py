"""CSV of a book's positions, for spreadsheets: export (optionally with risk columns) and an all-or-nothing import.

Import reads each row's cells as values, then asks engine.book.book_rules to judge the rows together with the book
in one pass, exactly as it judges a portfolio file (same markets, same leverage limits, same one-way rules).
Every violation comes back with its position, so it maps to the row's line in the file (the header is line 1)
and its column; every bad row is reported in one CsvImportError, and nothing is imported unless every row is
good. Text cells of an export are guarded against spreadsheet formulas (engine.book.csv_rows.guarded(), where a row's
cells are read). take_profit and stop_loss are optional columns: empty when not set.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import io
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from engine.book.book_rules import POSITION_KEYS, build_book, unknown_key
from engine.book.csv_rows import FALSE_WORDS as FALSE_WORDS  # re-exported: the forms read flags alike
from engine.book.csv_rows import TRUE_WORDS as TRUE_WORDS
from engine.book.csv_rows import CsvProblem, guarded, row_position
from engine.book.numbers import number_text
from engine.book.portfolio import Portfolio, PortfolioError
from engine.book.private_file import write_private_atomically
from engine.book.safe_text import printable
from engine.margin.model import Book, MarginMode, Position, quote_currency_of, settle_currency_of
from engine.margin.risk import BookRisk, PositionRisk

# A row has the fields of a portfolio file's position, but what a sync wrote (engine.sync) stays in the saved book.
POSITION_COLUMNS = POSITION_KEYS[: POSITION_KEYS.index("synced_at")]
REQUIRED_COLUMNS = POSITION_COLUMNS[:7]
# Same names and units as `marginwatch risk --json`; prices are in the row's quote currency, PnL in its
# settlement currency (both written per row, since they differ between rows); distance is a fraction.
RISK_COLUMNS = (
    "mark_price",
    "liquidation_price",
    "quote_currency",
    "distance_to_liquidation",
    "unrealized_pnl",
    "settle_currency",
)


class CsvImportError(PortfolioError):
    """The CSV cannot be imported; problems lists every bad row, and str() gives one line per problem."""

    def __init__(self, problems: Iterable[CsvProblem]) -> None:
        order = {name: k for k, name in enumerate(POSITION_COLUMNS)}
        self.problems: list[CsvProblem] = sorted(problems, key=lambda p: (p.line, order.get(p.field, -1)))
        super().__init__("\n".join(str(p) for p in self.problems))


# --- export -------------------------------------------------------------------------------------------


def format_number(value: float) -> str:
    """The shortest text that reads back as the same float ('91250' for 91250.0, '0.30000000000000004'):
    engine.book.numbers.number_text, the one writer of the number grammar."""
    return number_text(value)


def _optional_number(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else format_number(value)


def _position_cells(p: Position) -> list[str]:
    return [
        guarded(p.account),
        guarded(p.symbol),
        p.side.value,
        format_number(p.contracts),
        format_number(p.entry_price),
        p.margin_mode.value,
        format_number(p.leverage),
        format_number(p.isolated_margin) if p.margin_mode is MarginMode.ISOLATED else "",
        "true" if p.hypothetical else "false",
        guarded(p.note),
        _optional_number(p.take_profit),
        _optional_number(p.stop_loss),
    ]


def _risk_cells(r: PositionRisk | None, p: Position) -> list[str]:
    if r is None:  # not evaluated yet (its account's prices are not all in): blank, never zero
        return ["", "", guarded(quote_currency_of(p.symbol)), "", "", guarded(settle_currency_of(p.symbol))]
    return [
        _optional_number(r.mark_price),
        _optional_number(r.liquidation_price),
        guarded(quote_currency_of(p.symbol)),
        _optional_number(r.distance_to_liquidation),
        _optional_number(r.unrealized_pnl),
        guarded(settle_currency_of(p.symbol)),
    ]


def _risk_by_position(book: Book, risk: BookRisk) -> list[PositionRisk | None]:
    """risk.positions matched to book.positions: in book order, possibly only some (live risk of priced accounts)."""
    matched: list[PositionRisk | None] = []
    pending = iter(risk.positions)
    current = next(pending, None)
    for position in book.positions:
        if current is not None and current.position == position:
            matched.append(current)
            current = next(pending, None)
        else:
            matched.append(None)
    return matched


def positions_to_csv(book: Book, risk: BookRisk | None = None) -> str:
    """The positions as CSV text: a header, one row per position, numbers exact to the last bit.

    With risk, RISK_COLUMNS follow the position's columns (import ignores them); a position risk does not
    cover is left blank there. Lines end in CRLF, as RFC 4180 and spreadsheets have it.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(POSITION_COLUMNS + (RISK_COLUMNS if risk is not None else ()))
    risks = _risk_by_position(book, risk) if risk is not None else None
    for i, position in enumerate(book.positions):
        cells = _position_cells(position)
        if risks is not None:
            cells += _risk_cells(risks[i], position)
        writer.writerow(cells)
    return out.getvalue()


def export_positions_csv(
    book: Book, path_or_stream: str | os.PathLike[str] | TextIO, risk: BookRisk | None = None
) -> None:
    """Write positions_to_csv to a text stream, or to a file as UTF-8 with a BOM (so Excel shows notes right),
    in one step and readable by the user only (engine.book.private_file). Raises OSError."""
    text = positions_to_csv(book, risk)
    if isinstance(path_or_stream, str | os.PathLike):
        write_private_atomically(path_or_stream, text, encoding="utf-8-sig")
    else:
        path_or_stream.write(text)


# --- import -------------------------------------------------------------------------------------------


def read_positions_csv(path: str | os.PathLike[str]) -> str:
    """The text of a CSV file (UTF-8, with or without a BOM).

    Raises PortfolioError when the file cannot be read, CsvImportError (with the line) when it is not UTF-8.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise PortfolioError(f"cannot read {path}: {e.strerror or e}") from e
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise CsvImportError(
            [CsvProblem(line, "", "is not UTF-8 text; save the file as 'CSV UTF-8' and import it again")]
        ) from e


def import_positions_csv(text: str, portfolio: Portfolio, *, replace: bool = False) -> Portfolio:
    """The portfolio with the CSV's positions added after its own (or instead of them, with replace).

    Accounts must already exist in the portfolio; a new symbol's market resolves as in a portfolio file
    (the file's markets, then the bundled tables). Columns beyond POSITION_COLUMNS are ignored (one that
    looks like a misspelled column is an error naming the column it resembles), blank lines skipped, a
    UTF-8 BOM and CRLF accepted. Every row is judged by engine.book.book_rules together with the book, in one
    pass. Raises CsvImportError listing every bad row; then nothing changes.
    """
    header_line, header, rows = _read(text)
    problems: list[CsvProblem] = []
    columns = _columns(header_line, header, problems)
    if problems:
        raise CsvImportError(problems)

    book = portfolio.book
    existing = [] if replace else list(book.positions)
    accounts = {a.name for a in book.accounts}
    lines: list[int] = []
    positions: list[Position] = []
    for line, cells in rows:
        position = row_position(line, cells, columns, len(header), accounts, problems)
        if position is not None:
            lines.append(line)
            positions.append(position)

    offset = len(existing)
    checked = build_book(book.accounts, existing + positions, portfolio.market_overrides, markets=book.markets)

    def named(k: int | None) -> str | None:
        if k is None:
            return None
        return f"position {k + 1} of the book" if k < offset else f"line {lines[k - offset]}"

    for v in checked.violations:
        if isinstance(v.where, int) and v.where >= offset:
            field = v.field if v.field in POSITION_COLUMNS else "symbol"
            problems.append(
                CsvProblem(lines[v.where - offset], field, v.bare(named(v.other)).removeprefix(f"'{field}' "))
            )
        else:  # the book itself breaks a rule (not a row's doing): say so on the header's line
            where = named(v.where) if isinstance(v.where, int) else f"account '{printable(str(v.where))}'"
            problems.append(CsvProblem(header_line, "", f"{where} of the book: {v.text(named(v.other))}"))
    if problems:
        raise CsvImportError(problems)
    assert checked.book is not None
    return dataclasses.replace(portfolio, book=checked.book)  # its funding rates and volatilities kept


def positions_from_csv(text: str, portfolio: Portfolio) -> tuple[Position, ...]:
    """The CSV's positions, validated as import_positions_csv adds them to the portfolio."""
    imported = import_positions_csv(text, portfolio)
    return imported.book.positions[len(portfolio.book.positions) :]


def _read(text: str) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """(header line, header cells, [(line, cells)] of the non-blank rows); lines count from 1."""
    # strict: a quote left open must not swallow the rest of the file into one note.
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    header_line, header = 0, None
    rows: list[tuple[int, list[str]]] = []
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise CsvImportError([CsvProblem(start, "", f"cannot be read as CSV: {_csv_hint(e)}")]) from None
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header_line, header = start, cells
        else:
            rows.append((start, cells))
    return header_line or 1, header or [], rows


def _csv_hint(error: csv.Error) -> str:
    text = str(error)
    if "unexpected end of data" in text:
        return "a quoted cell is never closed"
    if "expected after" in text:
        return 'a quote inside a quoted cell must be doubled ("")'
    return text


def _columns(line: int, header: list[str], problems: list[CsvProblem]) -> dict[str, int]:
    """Column name -> index; problems for missing or repeated columns."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = cell.strip().lower().replace(" ", "_")
        if name in columns and name in POSITION_COLUMNS:
            problems.append(CsvProblem(line, name, "the column appears twice"))
        columns.setdefault(name, index)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if len(missing) == len(REQUIRED_COLUMNS):
        hint = "; separate columns with commas" if len(header) == 1 and any(s in header[0] for s in ";\t") else ""
        problems.append(
            CsvProblem(line, "", f"the first line must name the columns ({', '.join(POSITION_COLUMNS)}){hint}")
        )
    else:
        problems.extend(CsvProblem(line, c, "missing column") for c in missing)
    for name in columns:
        close = difflib.get_close_matches(name, POSITION_COLUMNS, n=1, cutoff=0.8)
        if name not in POSITION_COLUMNS + RISK_COLUMNS and close and close[0] not in columns:
            # Other columns are ignored (notes of the user's own); one that nearly names a field is a typo
            # that would silently drop that field.
            problems.append(CsvProblem(line, name, unknown_key(name, POSITION_COLUMNS, "a position")))
    return columns
