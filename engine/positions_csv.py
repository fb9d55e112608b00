"""CSV of a book's positions, for spreadsheets: export (optionally with risk columns) and an all-or-nothing import.

Import builds a portfolio document from the current portfolio plus the rows and validates it with
parse_portfolio, so a row is accepted exactly when the same position in a portfolio file would be (same
markets, same leverage limits, same one-way rules). Every bad row is reported, with its line in the file
(the header is line 1) and its column, in one CsvImportError; nothing is imported unless every row is good.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from engine.model import Book, MarginMode, Position, Side, quote_currency_of, settle_currency_of
from engine.portfolio import Portfolio, PortfolioError, parse_portfolio, portfolio_to_dict
from engine.risk import BookRisk, PositionRisk

POSITION_COLUMNS = (
    "account",
    "symbol",
    "side",
    "contracts",
    "entry_price",
    "margin_mode",
    "leverage",
    "isolated_margin",
    "hypothetical",
    "note",
)
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

_NUMBER_COLUMNS = ("contracts", "entry_price", "leverage", "isolated_margin")
TRUE_WORDS = frozenset({"true", "yes", "1", "on"})
FALSE_WORDS = frozenset({"false", "no", "0", "off", ""})
"""How a CSV cell or a form field (lower-cased) says true or false."""
_POSITION_INDEX = re.compile(r"position (\d+)\b")
_POSITION_PREFIX = re.compile(r"^position \d+(?: \(.*?\))?: ")
_OTHER_POSITION = re.compile(r"\band position (\d+) (?=is already|holds)")
_FIELD = re.compile(r"(?:missing field )?'([a-z_]+)'")


class CsvProblem(NamedTuple):
    """One bad cell or row: its line in the file (the header is line 1), its column ('' for a whole row)."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}" if self.field else f"line {self.line}: {self.message}"


class CsvImportError(PortfolioError):
    """The CSV cannot be imported; problems lists every bad row, and str() gives one line per problem."""

    def __init__(self, problems: Iterable[CsvProblem]) -> None:
        order = {name: k for k, name in enumerate(POSITION_COLUMNS)}
        self.problems: list[CsvProblem] = sorted(problems, key=lambda p: (p.line, order.get(p.field, -1)))
        super().__init__("\n".join(str(p) for p in self.problems))


# --- export -------------------------------------------------------------------------------------------


def format_number(value: float) -> str:
    """The shortest text that reads back as the same float ('91250' for 91250.0, '0.30000000000000004')."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _optional_number(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else format_number(value)


def _position_cells(p: Position) -> list[str]:
    return [
        p.account,
        p.symbol,
        p.side.value,
        format_number(p.contracts),
        format_number(p.entry_price),
        p.margin_mode.value,
        format_number(p.leverage),
        format_number(p.isolated_margin) if p.margin_mode is MarginMode.ISOLATED else "",
        "true" if p.hypothetical else "false",
        p.note,
    ]


def _risk_cells(r: PositionRisk | None, p: Position) -> list[str]:
    if r is None:  # not evaluated yet (its account's prices are not all in): blank, never zero
        return ["", "", quote_currency_of(p.symbol), "", "", settle_currency_of(p.symbol)]
    return [
        _optional_number(r.mark_price),
        _optional_number(r.liquidation_price),
        quote_currency_of(p.symbol),
        _optional_number(r.distance_to_liquidation),
        _optional_number(r.unrealized_pnl),
        settle_currency_of(p.symbol),
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
    """Write positions_to_csv to a text stream, or to a file as UTF-8 with a BOM (so Excel shows notes right)."""
    text = positions_to_csv(book, risk)
    if isinstance(path_or_stream, str | os.PathLike):
        Path(path_or_stream).write_text(text, encoding="utf-8-sig", newline="")
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
    (the file's markets, then the bundled tables). Columns beyond POSITION_COLUMNS are ignored, blank lines
    skipped, a UTF-8 BOM and CRLF accepted. Raises CsvImportError listing every bad row; then nothing changes.
    """
    header_line, header, rows = _read(text)
    problems: list[CsvProblem] = []
    columns = _columns(header_line, header, problems)
    if problems:
        raise CsvImportError(problems)

    base = portfolio_to_dict(portfolio)
    existing = [] if replace else base["positions"]
    accounts = {a.name for a in portfolio.book.accounts}
    # Validate each row alone first, so problems of every row are found in one pass.
    alone = {k: base[k] for k in ("version", "accounts", "markets") if k in base}
    items: list[tuple[int, dict[str, Any]]] = []
    for line, cells in rows:
        item = _row_item(line, cells, columns, len(header), accounts, problems)
        if item is None:
            continue
        try:
            parsed = parse_portfolio({**alone, "positions": [item]}).book.positions[0]
        except PortfolioError as e:
            problems.append(_problem(str(e), [line], 0, at=0))
            continue
        if parsed.margin_mode is MarginMode.ISOLATED:
            item["isolated_margin"] = parsed.isolated_margin  # the file's default made explicit: same book
        items.append((line, item))

    # Then together with the book: one-way rules and the wallet hold across positions. parse_portfolio stops
    # at the first problem, so drop the row it names and go again until the rest passes.
    while True:
        try:
            result = parse_portfolio({**base, "positions": existing + [item for _, item in items]})
        except PortfolioError as e:
            index = _culprit(str(e), items, existing, portfolio.book)
            lines = [line for line, _ in items]
            if index is None:  # not a row's doing (cannot happen with a valid portfolio): report, stop
                problems.append(CsvProblem(lines[0] if lines else 1, "", str(e)))
                break
            problems.append(_problem(str(e), lines, len(existing), at=index))
            del items[index]
            continue
        break
    if problems:
        raise CsvImportError(problems)
    return result


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
    return columns


def _shown(cell: str) -> str:
    return repr(cell if len(cell) <= 40 else cell[:37] + "...")


def _row_item(
    line: int,
    cells: list[str],
    columns: Mapping[str, int],
    width: int,
    accounts: set[str],
    problems: list[CsvProblem],
) -> dict[str, Any] | None:
    """The row as a portfolio-file position, or None after adding a problem for each bad cell."""
    before = len(problems)

    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else ""

    def bad(name: str, message: str) -> None:
        problems.append(CsvProblem(line, name, message))

    if any(c.strip() for c in cells[width:]):
        bad("", f"has {len(cells)} cells but the first line names {width} columns; quote a note that holds a comma")
    item: dict[str, Any] = {}
    account = cell("account")
    if account not in accounts and account.strip() in accounts:
        account = account.strip()
    if not account.strip():
        bad("account", "is empty")
    elif account not in accounts:
        known = ", ".join(repr(a) for a in sorted(accounts)) or "none"
        bad("account", f"unknown account {_shown(account)}; add it to the book first (accounts: {known})")
    item["account"] = account
    item["symbol"] = cell("symbol").strip()
    if not item["symbol"]:
        bad("symbol", "is empty")
    for name, enum in (("side", Side), ("margin_mode", MarginMode)):
        raw = cell(name).strip().lower()
        if raw in {e.value for e in enum}:
            item[name] = raw
        else:
            allowed = " or ".join(f"'{e.value}'" for e in enum)
            bad(name, f"must be {allowed} (got {_shown(cell(name))})")
    for name in _NUMBER_COLUMNS:
        raw = cell(name).strip()
        if name == "isolated_margin" and (not raw or item.get("margin_mode") != MarginMode.ISOLATED.value):
            # Optional: an isolated position defaults to its initial margin at entry, as in the file.
            if raw and item.get("margin_mode") == MarginMode.CROSS.value:
                bad(name, "applies to isolated positions only; leave it empty for a cross position")
            continue
        value = _positive(raw)
        if value is None:
            bad(name, f"must be a number greater than 0 (got {_shown(cell(name))})")
        else:
            item[name] = value
    flag = cell("hypothetical").strip().lower()
    if flag in TRUE_WORDS:
        item["hypothetical"] = True
    elif flag not in FALSE_WORDS:
        bad("hypothetical", f"must be true or false (got {_shown(cell('hypothetical'))})")
    if cell("note"):
        item["note"] = cell("note")
    return item if len(problems) == before else None


def _positive(text: str) -> float | None:
    try:
        value = float(text)
    except (ValueError, OverflowError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def _field_of(message: str) -> str:
    """The column a parse_portfolio message (its "position N (SYMBOL): " prefix removed) is about."""
    if "one-way mode" in message:
        return "side" if "is already" in message else "margin_mode"
    if "isolated margins (" in message:
        return "isolated_margin"
    if "unknown symbol" in message or "settles in" in message:
        return "symbol"
    named = _FIELD.match(message)
    if named and named.group(1) in POSITION_COLUMNS:
        return named.group(1)
    return "symbol"  # the market's tiers or rates: a problem of the symbol's market


def _problem(message: str, lines: list[int], offset: int, at: int) -> CsvProblem:
    """A parse_portfolio message as the problem of the row at index `at` of lines.

    Positions offset.. of the parsed document are the CSV rows of lines, in order. The message's own
    "position N (SYMBOL): " prefix gives way to the line; another position it mentions is named by its
    line, or as a position already in the book.
    """
    rest = _POSITION_PREFIX.sub("", message, count=1)

    def other(m: re.Match[str]) -> str:
        k = int(m.group(1)) - 1
        if k < offset:
            return f"and position {k + 1} of the book "
        return f"and line {lines[k - offset]} " if k - offset < len(lines) else m.group(0)

    field = _field_of(rest)
    rest = rest.removeprefix(f"'{field}' ") if field else rest
    return CsvProblem(lines[at], field, _OTHER_POSITION.sub(other, rest))


def _culprit(message: str, items: list[tuple[int, dict[str, Any]]], existing: list[Any], book: Book) -> int | None:
    """The index in items of the row a whole-book parse_portfolio message is about, or None."""
    match = _POSITION_INDEX.match(message)
    if match:
        k = int(match.group(1)) - 1 - len(existing)
        return k if 0 <= k < len(items) else None
    wallet = re.match(r"account '(.*)': isolated margins \(", message)
    account = next((a for a in book.accounts if wallet and a.name == wallet.group(1)), None)
    if account is None:
        return None
    # The row that takes the account's isolated margins past its wallet (margins were made explicit).
    locked = sum(p.get("isolated_margin", 0.0) for p in existing if p["account"] == account.name)
    last = None
    for k, (_, item) in enumerate(items):
        if item["account"] == account.name and "isolated_margin" in item:
            last = k
            locked += item["isolated_margin"]
            if locked > account.wallet_balance * (1 + 1e-12):
                return k
    return last
