"""The position form: a new or edited position, checked as it is typed, previewed by the engine.

validate_position_input() is the whole check, free of widgets: it turns the form's strings into a
Position and the book that holds it, or into one message per field that explains what is wrong.
preview_position() evaluates that book with the engine (evaluate_priced_accounts), so the preview
shows exactly the numbers the main window will show once the position is saved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from PySide6.QtCore import QStringListModel, Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.dialogs.field_grid import FieldGrid
from desktop.dialogs.typed_numbers import number_text, parse_number, shown
from engine.book.book_rules import MAX_LEVERAGE, build_book, resolve_market
from engine.book.formats import money, money_at_least, percent, price
from engine.book.positions_csv import FALSE_WORDS, POSITION_COLUMNS, TRUE_WORDS
from engine.book.whatif import WhatIfRefused
from engine.margin.exposure import exposure
from engine.margin.model import (
    Book,
    MarginMode,
    MarketSpec,
    Position,
    PriceKey,
    Side,
    quote_currency_of,
)
from engine.margin.risk import PositionRisk, evaluate_priced_accounts
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


def validate_position_input(
    book: Book,
    fields: Mapping[str, object],
    *,
    index: int | None = None,
    known_symbols: Mapping[str, Sequence[str]] | None = None,
    online: bool = False,
    market_overrides: Mapping[str, MarketSpec] | None = None,
) -> PositionCheck:
    """Check the form's fields (strings, as typed) against the book; never raises on any text.

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

    messages: dict[str, str] = {}
    hints: dict[str, str] = {}

    name = text("account")
    account = next((a for a in book.accounts if a.name == name), None)
    if account is None:
        if not book.accounts:
            messages["account"] = "the book has no accounts: add one first"
        elif not name:
            messages["account"] = "choose an account"
        else:
            messages["account"] = f"no account named '{shown(name)}' in the book"

    symbol = text("symbol").strip()
    market: MarketSpec | None = None
    if not symbol:
        messages["symbol"] = "enter a symbol, e.g. BTC/USDT:USDT"
    elif account is not None:
        exchange = account.exchange
        listed = (known_symbols or {}).get(exchange)
        if online and listed is not None and symbol not in listed:
            messages["symbol"] = f"{shown(symbol)} is not listed on {exchange}"
        else:
            # For the hints only: whether the market can be used is the book rules' to say.
            market = book.markets.get((exchange, symbol)) or resolve_market(exchange, symbol, market_overrides)
            hints["symbol"] = rules_label(exchange)
            if online and listed is None:
                hints["symbol"] += f"; not checked against {exchange}'s listing, which has not loaded yet"

    side: Side | None = None
    try:
        side = Side(text("side").strip().lower())
    except ValueError:
        messages["side"] = "choose long or short"
    mode: MarginMode | None = None
    try:
        mode = MarginMode(text("margin_mode").strip().lower())
    except ValueError:
        messages["margin_mode"] = "choose cross or isolated"

    contracts, problem = parse_positive(text("contracts"), "contracts", " (the side gives the direction)")
    if problem:
        messages["contracts"] = problem
    entry, problem = parse_positive(text("entry_price"), "the entry price")
    if problem:
        messages["entry_price"] = problem
    leverage, problem = parse_positive(text("leverage"), "the leverage")
    if problem:
        messages["leverage"] = problem
    isolated_margin = 0.0
    raw_margin = text("isolated_margin").strip()
    if mode is MarginMode.ISOLATED and raw_margin:
        value, problem = parse_positive(raw_margin, "the isolated margin")
        if problem:
            messages["isolated_margin"] = problem
        elif value is not None:
            isolated_margin = value
    hypothetical = text("hypothetical").strip().lower()
    if hypothetical not in TRUE_WORDS | FALSE_WORDS:
        messages["hypothetical"] = "must be true or false"
    note = text("note")

    currency = (account.currency if account else "") or (market.settle_currency if market else "") or "USDT"
    quote = quote_currency_of(symbol)
    notional: float | None = None
    bound: float | None = None
    initial_margin: float | None = None
    if market is not None:
        base = symbol.split("/", 1)[0]
        unit = f"{market.contract_size:g} {'USD' if market.inverse else base}"
        hints["contracts"] = f"1 contract = {unit}" + (" (inverse contract)" if market.inverse else "")
        if side is not None and contracts is not None and entry is not None:
            probe = Position(name, symbol, side, contracts, entry, MarginMode.CROSS, 1.0)
            notional = exposure(probe, market).entry_notional
            if math.isfinite(notional) and notional > 0:
                bound = min(max_leverage_at(market, notional) or MAX_LEVERAGE, MAX_LEVERAGE)
                hints["leverage"] = f"max {bound:g}× at {money(notional, currency)} notional"
                if leverage is not None:
                    initial_margin = notional / leverage
            else:
                notional = None
        else:
            top = min(market.max_leverage or MAX_LEVERAGE, MAX_LEVERAGE)
            hints["leverage"] = (
                f"max {top:g}× on {symbol}; the bound at this notional shows once size and price are valid"
            )
    if quote:
        hints["entry_price"] = f"in {quote}"
    if mode is MarginMode.ISOLATED and initial_margin is not None and math.isfinite(initial_margin):
        least = money_at_least(initial_margin, currency)
        hints["isolated_margin"] = (
            f"at least {least} (the initial margin at entry)"
            if raw_margin
            else f"empty: the initial margin at entry, {least}"
        )

    new_book: Book | None = None
    position: Position | None = None
    where = len(book.positions) if index is None else index
    if account is not None and symbol and "symbol" not in messages and side is not None and mode is not None:
        # Numbers not typed yet stand in as 1, so that a one-way conflict or a refused symbol shows as soon as
        # account, symbol and side are known; what the rules say about those stand-ins is not shown.
        stand_ins = {
            name
            for name, value in (("contracts", contracts), ("entry_price", entry), ("leverage", leverage))
            if value is None
        }
        position = Position(
            account.name,
            symbol,
            side,
            contracts or 1.0,
            entry or 1.0,
            mode,
            leverage or 1.0,
            isolated_margin if mode is MarginMode.ISOLATED and "isolated_margin" not in messages else 0.0,
            hypothetical in TRUE_WORDS,
            note,
        )
        if stand_ins or "isolated_margin" in messages:
            stand_ins |= {"contracts", "entry_price", "leverage", "isolated_margin"}
        positions = list(book.positions)
        if index is None:
            positions.append(position)
        else:
            positions[index] = position
        before = book.positions[index] if index is not None else None
        # Funding is paid out of an isolated margin, so a held position may be below its entry IM; an edit that
        # leaves size, price, leverage and margin as they are keeps it as it is.
        as_held = before is not None and (
            before.margin_mode,
            before.isolated_margin,
            before.contracts,
            before.entry_price,
            before.leverage,
        ) == (MarginMode.ISOLATED, isolated_margin, contracts, entry, leverage)
        result = build_book(
            book.accounts, positions, market_overrides, markets=book.markets, opening=(where,), margin_floor=not as_held
        )
        if as_held and initial_margin is not None and isolated_margin < initial_margin * (1 - 1e-12):
            least = money_at_least(initial_margin, currency)
            hints["isolated_margin"] = f"below the initial margin at entry of {least}, as the position holds it"
        for v in result.violations:
            if v.where != where or v.field in stand_ins or v.field in messages:
                continue
            field_name = v.field if v.field in POSITION_FIELDS else "symbol"
            messages[field_name] = v.bare(None if v.other is None else f"position {v.other + 1} of the book")
        # Violations of other positions only (a book saved under older rules) are not this position's doing.
        built = result.book or result.draft
        if not messages and built is not None:
            new_book = _without_unused_markets(built, book, index)
            position = new_book.positions[where]
        if "symbol" in messages:
            market = None
    check = PositionCheck(
        messages, hints, market=market, notional=notional, max_leverage=bound, initial_margin=initial_margin
    )
    if messages or new_book is None or position is None:
        return check
    return replace(check, position=position, book=new_book, index=where)


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


@dataclass(frozen=True)
class PositionPreview:
    """The engine's numbers for the checked position, or why there are none."""

    risk: PositionRisk | None
    mark_is_entry: bool = False
    """No mark for the symbol: the position was evaluated at its entry price."""
    problem: str = ""
    estimate: bool = False
    """The exchange has no rule profile of its own: the generic rule was used."""


def preview_position(check: PositionCheck, marks: Mapping[PriceKey, float]) -> PositionPreview:
    """Evaluate the checked book at the marks (the entry price standing in for a missing mark)."""
    if not check.ok or check.book is None or check.position is None or check.index is None:
        if check.market is None and "symbol" in check.messages:
            return PositionPreview(None, problem=f"No preview: {check.messages['symbol']}")
        return PositionPreview(None, problem="No preview until every field is valid (see the messages in red).")
    book, position = check.book, check.position
    account = book.account(position.account)
    key = (account.exchange, position.symbol)
    prices = {k: marks[k] for k in book.price_keys() if k in marks}
    mark = prices.get(key)
    mark_is_entry = mark is None or not (math.isfinite(mark) and mark > 0)
    if mark_is_entry:
        prices[key] = position.entry_price
    estimate = profile_for(account.exchange).estimate
    try:
        risk, missing = evaluate_priced_accounts(book, prices)
    except (ArithmeticError, ValueError) as e:
        return PositionPreview(None, mark_is_entry, f"the engine cannot evaluate this position: {e}", estimate)
    exchange_of = {a.name: a.exchange for a in book.accounts}
    blocked = {p.account for p in book.positions if (exchange_of[p.account], p.symbol) in missing}
    if position.account in blocked:
        waiting = sorted({k[1] for k in missing if k[0] == account.exchange})
        return PositionPreview(
            None,
            mark_is_entry,
            f"Waiting for the marks of {', '.join(waiting)} on {account.exchange}: the account's margin needs them.",
            estimate,
        )
    return PositionPreview(risk.positions[check.index], mark_is_entry, "", estimate)  # every position is a row


class PositionForm(QDialog):
    """A new position (position None, or a template without index) or an edit of book.positions[index].

    After accept(): result_book is the book with the position added or replaced, result_position the
    position and result_index its place in result_book.positions. They stay None on Cancel.
    """

    def __init__(
        self,
        book: Book,
        marks: Mapping[PriceKey, float],
        position: Position | None = None,
        index: int | None = None,
        known_symbols: Mapping[str, Sequence[str]] | None = None,
        online: bool = False,
        market_overrides: Mapping[str, MarketSpec] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if index is not None and position is None:
            position = book.positions[index]
        self.book = book
        self.marks = marks
        self.index = index
        self.known_symbols = known_symbols
        self.online = online
        self.market_overrides = market_overrides
        self.result_book: Book | None = None
        self.result_position: Position | None = None
        self.result_index: int | None = None
        self.setWindowTitle("Edit position" if index is not None else "New position")

        self.account = QComboBox()
        for account in book.accounts:
            self.account.addItem(f"{account.name} ({profile_for(account.exchange).title})", account.name)
        self.symbol = QLineEdit()
        self.symbol.setPlaceholderText("BTC/USDT:USDT")
        self.completer_model = QStringListModel(self)
        completer = QCompleter(self.completer_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.symbol.setCompleter(completer)
        self.side = QComboBox()
        self.side.addItem("Long", Side.LONG.value)
        self.side.addItem("Short", Side.SHORT.value)
        self.contracts = QLineEdit()
        self.entry_price = QLineEdit()
        self.margin_mode = QComboBox()
        self.margin_mode.addItem("Cross", MarginMode.CROSS.value)
        self.margin_mode.addItem("Isolated", MarginMode.ISOLATED.value)
        self.leverage = QLineEdit()
        self.isolated_margin = QLineEdit()
        self.hypothetical = QCheckBox("Hypothetical: a what-if, not held on the exchange")
        self.note = QLineEdit()
        self.editors: dict[str, QWidget] = {
            "account": self.account,
            "symbol": self.symbol,
            "side": self.side,
            "contracts": self.contracts,
            "entry_price": self.entry_price,
            "margin_mode": self.margin_mode,
            "leverage": self.leverage,
            "isolated_margin": self.isolated_margin,
            "hypothetical": self.hypothetical,
            "note": self.note,
        }
        titles = {
            "account": "Account",
            "symbol": "Symbol",
            "side": "Side",
            "contracts": "Contracts",
            "entry_price": "Entry price",
            "margin_mode": "Margin mode",
            "leverage": "Leverage (×)",
            "isolated_margin": "Isolated margin",
            "hypothetical": "",
            "note": "Note",
        }
        self.grid = grid = FieldGrid(self.editors, titles, POSITION_FIELDS)
        self.messages = grid.messages

        self.preview_labels: dict[str, QLabel] = {}
        preview_form = QFormLayout()
        for key, title in (
            ("mark", "Mark price"),
            ("notional", "Notional"),
            ("initial_margin", "Initial margin at the mark"),
            ("maintenance_margin", "Maintenance margin"),
            ("liquidation_price", "Liquidation price"),
            ("distance", "Distance to liquidation"),
        ):
            value = QLabel()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            preview_form.addRow(title, value)
            self.preview_labels[key] = value
        self.preview_note = QLabel()
        self.preview_note.setWordWrap(True)
        preview_box = QGroupBox("Preview (the engine's numbers with this position in the book)")
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addLayout(preview_form)
        preview_layout.addWidget(self.preview_note)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Save" if index is not None else "Add position")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(preview_box)
        layout.addWidget(self.buttons)

        self.check = PositionCheck({})
        self.preview = PositionPreview(None)
        self._fill(position)
        self.account.currentIndexChanged.connect(self._account_changed)
        for line in (self.symbol, self.contracts, self.entry_price, self.leverage, self.isolated_margin, self.note):
            line.textChanged.connect(self._revalidate)
        for combo in (self.side, self.margin_mode):
            combo.currentIndexChanged.connect(self._revalidate)
        self.hypothetical.toggled.connect(self._revalidate)
        self._account_changed()

    def _fill(self, position: Position | None) -> None:
        if position is None:
            self.leverage.setText("10")
            return
        found = self.account.findData(position.account)
        if found >= 0:
            self.account.setCurrentIndex(found)
        self.symbol.setText(position.symbol)
        self.side.setCurrentIndex(max(0, self.side.findData(position.side.value)))
        self.contracts.setText(number_text(position.contracts))
        self.entry_price.setText(number_text(position.entry_price))
        self.margin_mode.setCurrentIndex(max(0, self.margin_mode.findData(position.margin_mode.value)))
        self.leverage.setText(number_text(position.leverage))
        if position.margin_mode is MarginMode.ISOLATED and position.isolated_margin > 0:
            self.isolated_margin.setText(number_text(position.isolated_margin))
        self.hypothetical.setChecked(position.hypothetical)
        self.note.setText(position.note)

    def fields(self) -> dict[str, str]:
        """The form as typed, in the shape validate_position_input() takes."""
        return {
            "account": self.account.currentData() or "",
            "symbol": self.symbol.text(),
            "side": self.side.currentData() or "",
            "contracts": self.contracts.text(),
            "entry_price": self.entry_price.text(),
            "margin_mode": self.margin_mode.currentData() or "",
            "leverage": self.leverage.text(),
            "isolated_margin": self.isolated_margin.text(),
            "hypothetical": "true" if self.hypothetical.isChecked() else "false",
            "note": self.note.text(),
        }

    @Slot()
    def _account_changed(self) -> None:
        name = self.account.currentData()
        exchange = next((a.exchange for a in self.book.accounts if a.name == name), "")
        symbols = known_symbols_for(self.book, exchange, self.known_symbols, self.market_overrides) if exchange else []
        self.completer_model.setStringList(symbols)
        self._revalidate()

    @Slot()
    def _revalidate(self) -> None:
        self.check = validate_position_input(
            self.book,
            self.fields(),
            index=self.index,
            known_symbols=self.known_symbols,
            online=self.online,
            market_overrides=self.market_overrides,
        )
        self.grid.show_check(self.check.messages, self.check.hints)
        self.isolated_margin.setEnabled(self.margin_mode.currentData() == MarginMode.ISOLATED.value)
        self.ok_button.setEnabled(self.check.ok)
        self._show_preview()

    def _show_preview(self) -> None:
        self.preview = preview_position(self.check, self.marks)
        risk = self.preview.risk
        if risk is None:
            for label in self.preview_labels.values():
                label.setText("—")
            self.preview_note.setText(self.preview.problem)
            return
        position = risk.position
        currency = self.check.book.account(position.account).currency if self.check.book else ""
        quote = quote_currency_of(position.symbol)
        mark = f"{price(risk.mark_price)} {quote}"
        if self.preview.mark_is_entry:
            mark += f" (the entry price: no mark for {position.symbol} yet)"
        liq = risk.liquidation_price
        self.preview_labels["mark"].setText(mark)
        self.preview_labels["notional"].setText(money(risk.notional, currency))
        self.preview_labels["initial_margin"].setText(money(risk.initial_margin, currency))
        self.preview_labels["maintenance_margin"].setText(money(risk.maintenance_margin, currency))
        self.preview_labels["liquidation_price"].setText(
            "none: no price liquidates it" if liq is None else f"{price(liq)} {quote}"
        )
        distance = risk.distance_to_liquidation
        self.preview_labels["distance"].setText(
            "n/a" if distance is None else f"{percent(distance)} of the mark ({'safe' if distance > 0 else 'past it'})"
        )
        exchange = self.check.book.account(position.account).exchange if self.check.book else ""
        self.preview_note.setText(
            f"Estimate: {exchange}'s own rules are not modelled; the generic rule was used."
            if self.preview.estimate
            else ""
        )

    def accept(self) -> None:
        self._revalidate()
        if not self.check.ok:
            return  # the button is disabled then; Enter in a field must not save a bad position either
        self.result_book = self.check.book
        self.result_position = self.check.position
        self.result_index = self.check.index
        super().accept()
