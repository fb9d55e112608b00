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

from desktop.field_grid import FieldGrid
from desktop.typed_numbers import number_text, parse_number, shown
from engine.exposure import exposure
from engine.model import (
    Book,
    MarginMode,
    MarketSpec,
    Position,
    PositionMode,
    PriceKey,
    Side,
    quote_currency_of,
    settle_currency_of,
)
from engine.portfolio import MAX_LEVERAGE, market_rate_problem, resolve_market
from engine.positions_csv import FALSE_WORDS, POSITION_COLUMNS, TRUE_WORDS
from engine.report import money, percent, price
from engine.risk import PositionRisk, evaluate_priced_accounts
from engine.rules import profile_for
from engine.tiers import bundled_exchanges, bundled_table, max_leverage_at
from engine.whatif import WhatIfRefused, open_position

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


def money_at_least(value: float, currency: str) -> str:
    """money() rounded up, so that typing the amount shown always meets the minimum."""
    decimals = 2 if currency.upper() in {"USDT", "USDC", "USD", "BUSD", "FDUSD"} else 6
    rounded = round(value, decimals)
    if rounded < value:
        rounded += 10.0**-decimals
    return money(rounded, currency)


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

    index: the position being edited (its old self is left out of the one-way and wallet checks and the
    result replaces it there); None for a new position, which goes at the end of the book.
    known_symbols: exchange -> the symbols it lists. While online, a symbol missing from a loaded listing
    is refused; before the listing has loaded nothing is refused for it.
    market_overrides: the portfolio file's `markets` (Portfolio.market_overrides), used as the loader uses
    them for a symbol the book does not hold yet.
    """
    if index is not None and not 0 <= index < len(book.positions):
        raise IndexError(f"the book has no position {index}")

    def text(name: str) -> str:
        value = fields.get(name, "")
        return value if isinstance(value, str) else str(value)

    messages: dict[str, str] = {}
    hints: dict[str, str] = {}
    others = [(i, p) for i, p in enumerate(book.positions) if i != index]

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
        market = book.markets.get((exchange, symbol)) or resolve_market(exchange, symbol, market_overrides)
        settle = settle_currency_of(symbol)
        if online and listed is not None and symbol not in listed:
            messages["symbol"] = f"{shown(symbol)} is not listed on {exchange}"
            market = None
        elif market is None:
            messages["symbol"] = (
                f"no tier table for {shown(symbol)} on {exchange} (bundled: {', '.join(bundled_exchanges())}); "
                f"give its tiers under 'markets' in a portfolio file and import it"
            )
        elif (problem := market_rate_problem(market, exchange)) is not None:
            messages["symbol"] = f"{symbol} on {exchange}: {problem}"
            market = None
        elif settle and account.currency and settle != account.currency:
            messages["symbol"] = f"{symbol} settles in {settle} but account '{account.name}' is in {account.currency}"
            market = None
        else:
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

    currency = (account.currency if account else "") or (market.settle_currency if market else "") or "USDT"
    quote = quote_currency_of(symbol)
    if market is not None:
        base = symbol.split("/", 1)[0]
        unit = f"{market.contract_size:g} {'USD' if market.inverse else base}"
        hints["contracts"] = f"1 contract = {unit}" + (" (inverse contract)" if market.inverse else "")
    if quote:
        hints["entry_price"] = f"in {quote}"

    notional: float | None = None
    bound: float | None = None
    if market is not None and side is not None and contracts is not None and entry is not None:
        probe = Position(name, symbol, side, contracts, entry, MarginMode.CROSS, 1.0)
        notional = exposure(probe, market).entry_notional
        if not (math.isfinite(notional) and notional > 0):
            messages["contracts"] = "contracts × entry price is out of range: the notional is not a usable number"
            notional = None
        else:
            bound = min(max_leverage_at(market, notional) or MAX_LEVERAGE, MAX_LEVERAGE)
            hints["leverage"] = f"max {bound:g}× at {money(notional, currency)} notional"
    elif market is not None:
        top = min(market.max_leverage or MAX_LEVERAGE, MAX_LEVERAGE)
        hints["leverage"] = f"max {top:g}× on {symbol}; the bound at this notional shows once size and price are valid"
    if leverage is not None:
        if leverage > MAX_LEVERAGE:
            messages["leverage"] = f"{leverage:g}× is above {MAX_LEVERAGE:g}×, more than any exchange offers"
        elif bound is not None and notional is not None and leverage > bound:
            messages["leverage"] = (
                f"{leverage:g}× is above the maximum {bound:g}× at {money(notional, currency)} notional"
            )

    initial_margin: float | None = None
    isolated_margin = 0.0
    if notional is not None and leverage is not None and "leverage" not in messages:
        initial_margin = notional / leverage
    if mode is MarginMode.ISOLATED:
        raw = text("isolated_margin").strip()
        if initial_margin is not None:
            hints["isolated_margin"] = (
                f"at least {money_at_least(initial_margin, currency)} (the initial margin at entry)"
            )
            if not raw:
                hints["isolated_margin"] = (
                    f"empty: the initial margin at entry, {money_at_least(initial_margin, currency)}"
                )
        if raw:
            value, problem = parse_positive(raw, "the isolated margin")
            if problem:
                messages["isolated_margin"] = problem
            elif value is not None:
                isolated_margin = value
                before = book.positions[index] if index is not None else None
                # Funding is paid out of an isolated margin, so a held position may be below its entry IM;
                # an edit that leaves size, price, leverage and margin as they are keeps it as it is.
                as_held = before is not None and (
                    before.margin_mode,
                    before.isolated_margin,
                    before.contracts,
                    before.entry_price,
                    before.leverage,
                ) == (MarginMode.ISOLATED, value, contracts, entry, leverage)
                if initial_margin is not None and value < initial_margin * (1 - 1e-12):
                    least = money_at_least(initial_margin, currency)
                    if as_held:
                        hints["isolated_margin"] = (
                            f"below the initial margin at entry of {least}, as the position holds it"
                        )
                    else:
                        messages["isolated_margin"] = (
                            f"below the initial margin at entry of {least} (entry notional / leverage)"
                        )
        elif initial_margin is not None:
            isolated_margin = initial_margin
        if account is not None and isolated_margin > 0 and "isolated_margin" not in messages:
            locked = isolated_margin + sum(p.isolated_margin for _, p in others if p.account == account.name)
            if locked > account.wallet_balance * (1 + 1e-12):
                messages["isolated_margin"] = (
                    f"the account's isolated margins would come to {money(locked, currency)}, above its "
                    f"wallet balance of {money(account.wallet_balance, currency)}"
                )

    hypothetical = text("hypothetical").strip().lower()
    if hypothetical not in TRUE_WORDS | FALSE_WORDS:
        messages["hypothetical"] = "must be true or false"
    note = text("note")

    if account is not None and market is not None and mode is not None and side is not None:
        if account.position_mode is PositionMode.ONEWAY:
            held = next(
                (p for _, p in others if p.account == account.name and p.symbol == symbol and p.margin_mode != mode),
                None,
            )
            if held is not None:
                messages["margin_mode"] = (
                    f"account '{account.name}' is in one-way mode and holds {symbol} in {held.margin_mode.value} "
                    f"margin: one symbol has one margin mode"
                )
        # The engine is the authority on what the exchange refuses. It is asked as soon as account, symbol
        # and side are known, with unit amounts while the numbers are incomplete, so a one-way conflict
        # shows early; what it says about those placeholder amounts is not the user's problem and is dropped.
        probe = Position(account.name, symbol, side, contracts or 1.0, entry or 1.0, mode, 1.0)
        base = Book(book.accounts, tuple(p for _, p in others), {**book.markets, (account.exchange, symbol): market})
        try:
            open_position(base, probe)
        except WhatIfRefused as e:
            where = refusal_field(e)
            if where in ("side", "margin_mode") and where not in messages:
                messages[where] = str(e)

    check = PositionCheck(
        messages, hints, market=market, notional=notional, max_leverage=bound, initial_margin=initial_margin
    )
    if messages or account is None or market is None or side is None or mode is None:
        return check
    assert contracts is not None and entry is not None and leverage is not None
    position = Position(
        account.name,
        symbol,
        side,
        contracts,
        entry,
        mode,
        leverage,
        isolated_margin if mode is MarginMode.ISOLATED else 0.0,
        hypothetical in TRUE_WORDS,
        note,
    )
    base = Book(book.accounts, tuple(p for _, p in others), {**book.markets, (account.exchange, symbol): market})
    try:
        opened = open_position(base, position)
    except WhatIfRefused as e:
        return replace(check, messages={refusal_field(e): str(e)})
    positions = list(opened.positions)
    where = len(positions) - 1 if index is None else index
    positions.insert(where, positions.pop())
    markets = dict(opened.markets)
    if index is not None:  # the edited position's old market goes when nothing else uses it
        old = book.positions[index]
        old_key = (book.account(old.account).exchange, old.symbol)
        if old_key not in Book(opened.accounts, tuple(positions), markets).price_keys():
            markets.pop(old_key, None)
    new_book = Book(opened.accounts, tuple(positions), markets)
    return replace(check, position=positions[where], book=new_book, index=where)


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
