"""The position form's check, free of widgets: the form's strings into a Position and the book that holds it, or
one message per field that explains what is wrong; and the engine's preview of that book.

validate_position_input() reads the text (engine.book.numbers' grammar for numbers) and lets engine.book.book_rules
judge the position with the book, as it judges a portfolio file, a CSV row and a what-if trade. preview_position()
(desktop.dialogs.position_preview) evaluates that book with the engine, so the preview shows exactly the numbers the
main window will show once the position is saved. desktop.dialogs.position_form is the dialog over it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from desktop.dialogs.typed_numbers import parse_number, shown
from engine.book.book_rules import MAX_LEVERAGE, build_book, resolve_market
from engine.book.formats import money, money_at_least
from engine.book.positions_csv import FALSE_WORDS, POSITION_COLUMNS, TRUE_WORDS
from engine.book.whatif import WhatIfRefused
from engine.margin.exposure import exposure
from engine.margin.model import Account, Book, MarginMode, MarketSpec, Position, Side, quote_currency_of
from engine.margin.rules import profile_for
from engine.margin.tiers import bundled_table, max_leverage_at

POSITION_FIELDS = POSITION_COLUMNS  # the form has the fields of a CSV row / a portfolio-file position


def parse_positive(text: str, what: str, why: str = "") -> tuple[float | None, str | None]:
    value, problem = parse_number(text, what)
    if value is not None and value <= 0:
        return None, f"{what} must be greater than 0{why}"
    return value, problem


def rules_label(exchange: str) -> str:
    """Whose margin rules the engine applies on this exchange, in words."""
    profile = profile_for(exchange)
    if profile.estimate:
        return f"generic estimate: {exchange}'s own rules are not modelled"
    return f"{profile.title} rules"


def known_symbols_for(
    book: Book,
    exchange: str,
    known_symbols: Mapping[str, Sequence[str]] | None = None,
    market_overrides: Mapping[str, MarketSpec] | None = None,
) -> list[str]:
    """Symbols to complete on an exchange: the book's markets, the file's, the bundled table's and the listing."""
    symbols = {symbol for (ex, symbol) in book.markets if ex == exchange}
    for key, spec in (market_overrides or {}).items():
        if key == spec.symbol or key.startswith(f"{exchange}:"):
            symbols.add(spec.symbol)
    table = bundled_table(exchange)
    if table is not None:
        symbols.update(table.markets)
    symbols.update((known_symbols or {}).get(exchange, ()))
    return sorted(symbols)


def refusal_field(refusal: WhatIfRefused) -> str:
    """The form field a refusal of open_position() is about (its one-way side conflict, unless it says)."""
    named = getattr(refusal, "field", None)
    named = {"price": "entry_price"}.get(named, named) if isinstance(named, str) else None
    return named if named in POSITION_FIELDS else "side"


@dataclass(frozen=True)
class PositionCheck:
    """The outcome of checking the form: a position and its book, or a message per field in trouble."""

    messages: Mapping[str, str]
    """Field name -> what is wrong with it; empty when the form is valid."""
    hints: Mapping[str, str] = field(default_factory=dict)
    """Field name -> what the user should know while typing (bounds, units, defaults)."""
    position: Position | None = None
    book: Book | None = None
    """The book with the position added (at the end) or replaced (at its index)."""
    index: int | None = None
    """Index of the position in book.positions."""
    market: MarketSpec | None = None
    notional: float | None = None
    """Entry notional in the settlement currency."""
    max_leverage: float | None = None
    """The bound at that notional (the tier's, capped by the market's and by MAX_LEVERAGE)."""
    initial_margin: float | None = None
    """Entry notional / leverage, in the settlement currency."""

    @property
    def ok(self) -> bool:
        return not self.messages and self.book is not None


@dataclass
class _Typed:
    """The form's text read field by field (None where a field could not be read; its message says why)."""

    name: str
    account: Account | None = None
    symbol: str = ""
    market: MarketSpec | None = None
    side: Side | None = None
    mode: MarginMode | None = None
    contracts: float | None = None
    entry: float | None = None
    leverage: float | None = None
    isolated_margin: float = 0.0
    raw_margin: str = ""
    stops: dict[str, float] = field(default_factory=dict)
    """The take-profit and stop-loss typed (quote currency); a field left empty is not set."""
    hypothetical: str = ""
    note: str = ""
    messages: dict[str, str] = field(default_factory=dict)
    hints: dict[str, str] = field(default_factory=dict)


def validate_position_input(
    book: Book,
    fields: Mapping[str, object],
    *,
    index: int | None = None,
    known_symbols: Mapping[str, Sequence[str]] | None = None,
    online: bool = False,
    market_overrides: Mapping[str, MarketSpec] | None = None,
) -> PositionCheck:
    """Check the form's fields (strings, as typed) against the book; never raises on any text (IndexError for
    an index the book does not have).

    The form reads the text (a number, a choice) and engine.book.book_rules judges the position with the book,
    as it judges a portfolio file, a CSV row and a what-if trade; its violations of the position are shown
    beside their fields. index: the position being edited (the result replaces it there); None for a new
    position, which goes at the end of the book. known_symbols: exchange -> the symbols it lists. While
    online, a symbol missing from a loaded listing is refused; before the listing has loaded nothing is
    refused for it. market_overrides: the portfolio file's `markets` (Portfolio.market_overrides), used as
    the loader uses them for a symbol the book does not hold yet.
    """
    if index is not None and not 0 <= index < len(book.positions):
        raise IndexError(f"the book has no position {index}")

    def text(name: str) -> str:
        value = fields.get(name, "")
        return value if isinstance(value, str) else str(value)

    typed = _Typed(text("account"))
    _read_account_and_symbol(typed, book, text("symbol"), known_symbols, online, market_overrides)
    _read_values(typed, text)
    t, messages, hints = typed, typed.messages, typed.hints
    currency = (t.account.currency if t.account else "") or (t.market.settle_currency if t.market else "") or "USDT"
    notional, bound, initial_margin = _size_hints(typed, currency)
    new_book: Book | None = None
    position: Position | None = None
    where = len(book.positions) if index is None else index
    if t.account is not None and t.symbol and "symbol" not in messages and t.side is not None and t.mode is not None:
        new_book, position = _judged(typed, book, index, market_overrides, currency, initial_margin)
    market = None if "symbol" in messages else t.market
    check = PositionCheck(
        messages, hints, market=market, notional=notional, max_leverage=bound, initial_margin=initial_margin
    )
    if messages or new_book is None or position is None:
        return check
    return replace(check, position=position, book=new_book, index=where)


def _read_account_and_symbol(
    t: _Typed,
    book: Book,
    symbol: str,
    known_symbols: Mapping[str, Sequence[str]] | None,
    online: bool,
    market_overrides: Mapping[str, MarketSpec] | None,
) -> None:
    t.account = next((a for a in book.accounts if a.name == t.name), None)
    if t.account is None:
        if not book.accounts:
            t.messages["account"] = "the book has no accounts: add one first"
        elif not t.name:
            t.messages["account"] = "choose an account"
        else:
            t.messages["account"] = f"no account named '{shown(t.name)}' in the book"
    t.symbol = symbol.strip()
    if not t.symbol:
        t.messages["symbol"] = "enter a symbol, e.g. BTC/USDT:USDT"
    elif t.account is not None:
        exchange = t.account.exchange
        listed = (known_symbols or {}).get(exchange)
        if online and listed is not None and t.symbol not in listed:
            t.messages["symbol"] = f"{shown(t.symbol)} is not listed on {exchange}"
        else:
            # For the hints only: whether the market can be used is the book rules' to say.
            t.market = book.markets.get((exchange, t.symbol)) or resolve_market(exchange, t.symbol, market_overrides)
            t.hints["symbol"] = rules_label(exchange)
            if online and listed is None:
                t.hints["symbol"] += f"; not checked against {exchange}'s listing, which has not loaded yet"


def _read_values(t: _Typed, text: Callable[[str], str]) -> None:
    messages = t.messages
    try:
        t.side = Side(text("side").strip().lower())
    except ValueError:
        messages["side"] = "choose long or short"
    try:
        t.mode = MarginMode(text("margin_mode").strip().lower())
    except ValueError:
        messages["margin_mode"] = "choose cross or isolated"
    t.contracts, problem = parse_positive(text("contracts"), "contracts", " (the side gives the direction)")
    if problem:
        messages["contracts"] = problem
    t.entry, problem = parse_positive(text("entry_price"), "the entry price")
    if problem:
        messages["entry_price"] = problem
    t.leverage, problem = parse_positive(text("leverage"), "the leverage")
    if problem:
        messages["leverage"] = problem
    t.raw_margin = text("isolated_margin").strip()
    if t.mode is MarginMode.ISOLATED and t.raw_margin:
        value, problem = parse_positive(t.raw_margin, "the isolated margin")
        if problem:
            messages["isolated_margin"] = problem
        elif value is not None:
            t.isolated_margin = value
    for name, what in (("take_profit", "the take-profit"), ("stop_loss", "the stop-loss")):
        raw = text(name).strip()
        value, problem = parse_positive(raw, what, ", or leave it empty") if raw else (None, None)
        if problem:
            messages[name] = problem
        elif value is not None:
            t.stops[name] = value
    t.hypothetical = text("hypothetical").strip().lower()
    if t.hypothetical not in TRUE_WORDS | FALSE_WORDS:
        messages["hypothetical"] = "must be true or false"
    t.note = text("note")


def _size_hints(t: _Typed, currency: str) -> tuple[float | None, float | None, float | None]:
    """Hints on the contract unit, the leverage bound and the isolated margin: (entry notional, max leverage at
    it, initial margin at entry), each None until the fields it needs are valid."""
    hints, market = t.hints, t.market
    notional: float | None = None
    bound: float | None = None
    initial_margin: float | None = None
    if market is not None:
        base = t.symbol.split("/", 1)[0]
        unit = f"{market.contract_size:g} {'USD' if market.inverse else base}"
        hints["contracts"] = f"1 contract = {unit}" + (" (inverse contract)" if market.inverse else "")
        if t.side is not None and t.contracts is not None and t.entry is not None:
            probe = Position(t.name, t.symbol, t.side, t.contracts, t.entry, MarginMode.CROSS, 1.0)
            notional = exposure(probe, market).entry_notional
            if math.isfinite(notional) and notional > 0:
                bound = min(max_leverage_at(market, notional) or MAX_LEVERAGE, MAX_LEVERAGE)
                hints["leverage"] = f"max {bound:g}× at {money(notional, currency)} notional"
                if t.leverage is not None:
                    initial_margin = notional / t.leverage
            else:
                notional = None
        else:
            top = min(market.max_leverage or MAX_LEVERAGE, MAX_LEVERAGE)
            hints["leverage"] = (
                f"max {top:g}× on {t.symbol}; the bound at this notional shows once size and price are valid"
            )
    quote = quote_currency_of(t.symbol)
    if quote:
        hints["entry_price"] = f"in {quote}"
        hints["take_profit"] = hints["stop_loss"] = f"in {quote}; optional"
    if t.mode is MarginMode.ISOLATED and initial_margin is not None and math.isfinite(initial_margin):
        least = money_at_least(initial_margin, currency)
        hints["isolated_margin"] = (
            f"at least {least} (the initial margin at entry)"
            if t.raw_margin
            else f"empty: the initial margin at entry, {least}"
        )
    return notional, bound, initial_margin


def _judged(
    t: _Typed,
    book: Book,
    index: int | None,
    market_overrides: Mapping[str, MarketSpec] | None,
    currency: str,
    initial_margin: float | None,
) -> tuple[Book | None, Position | None]:
    """The book rules' verdict on the typed position in the book: (the new book, the position as it holds it)
    when nothing is wrong, else (None, the position as typed) with the violations added to t.messages."""
    assert t.account is not None and t.side is not None and t.mode is not None
    messages, where = t.messages, len(book.positions) if index is None else index
    # Numbers not typed yet stand in as 1, so that a one-way conflict or a refused symbol shows as soon as
    # account, symbol and side are known; what the rules say about those stand-ins is not shown.
    stand_ins = {
        name
        for name, value in (("contracts", t.contracts), ("entry_price", t.entry), ("leverage", t.leverage))
        if value is None
    }
    margin = t.isolated_margin if t.mode is MarginMode.ISOLATED and "isolated_margin" not in messages else 0.0
    position = Position(
        t.account.name,
        t.symbol,
        t.side,
        t.contracts or 1.0,
        t.entry or 1.0,
        t.mode,
        t.leverage or 1.0,
        margin,
        t.hypothetical in TRUE_WORDS,
        t.note,
        take_profit=t.stops.get("take_profit"),
        stop_loss=t.stops.get("stop_loss"),
    )
    if stand_ins or "isolated_margin" in messages:
        stand_ins |= {"contracts", "entry_price", "leverage", "isolated_margin"}
    positions = list(book.positions)
    if index is None:
        positions.append(position)
    else:
        positions[index] = position
    as_held = _as_held(book.positions[index] if index is not None else None, t)
    result = build_book(
        book.accounts, positions, market_overrides, markets=book.markets, opening=(where,), margin_floor=not as_held
    )
    if as_held and initial_margin is not None and t.isolated_margin < initial_margin * (1 - 1e-12):
        least = money_at_least(initial_margin, currency)
        t.hints["isolated_margin"] = f"below the initial margin at entry of {least}, as the position holds it"
    for v in result.violations:
        if v.where != where or v.field in stand_ins or v.field in messages:
            continue
        field_name = v.field if v.field in POSITION_FIELDS else "symbol"
        messages[field_name] = v.bare(None if v.other is None else f"position {v.other + 1} of the book")
    # Violations of other positions only (a book saved under older rules) are not this position's doing.
    built = result.book or result.draft
    if messages or built is None:
        return None, position
    new_book = _without_unused_markets(built, book, index)
    return new_book, new_book.positions[where]


def _as_held(before: Position | None, t: _Typed) -> bool:
    """Whether an edit leaves an isolated position's size, price, leverage and margin as they are: funding is paid
    out of an isolated margin, so a held position may be below its entry IM, and such an edit keeps it so."""
    return before is not None and (
        before.margin_mode,
        before.isolated_margin,
        before.contracts,
        before.entry_price,
        before.leverage,
    ) == (MarginMode.ISOLATED, t.isolated_margin, t.contracts, t.entry, t.leverage)


def _without_unused_markets(new: Book, old: Book, index: int | None) -> Book:
    """new with the markets of old's book kept (the rules keep only used ones) and, after an edit, the
    edited position's old market dropped when nothing else uses it."""
    markets = {**old.markets, **new.markets}
    if index is not None:
        before = old.positions[index]
        key = (old.account(before.account).exchange, before.symbol)
        if key not in new.price_keys():
            markets.pop(key, None)
    return Book(new.accounts, new.positions, markets)
