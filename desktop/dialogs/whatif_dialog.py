"""The what-if trade dialog: add to, reduce, close or flip a position, or open one, previewed before -> after.

The preview evaluates the account before and after the trade with engine.margin.risk.evaluate_book at the same
marks (the account alone: accounts are independent in the margin equation, so a missing mark elsewhere
does not block it). It updates as the user types; bad input and the engine's refusals are shown beside
the field they are about, never raised.

What "Apply as hypothetical" means. A hypothetical position stands for a trade the trader imagines on top
of the real book, and the book's "without hypothetical" view must give back the real figures. So applying
as hypothetical only ever adds or edits positions flagged hypothetical; it never touches a real position
or the wallet:

- open: the new position, flagged hypothetical.
- add to a real cross position: the added contracts as their own hypothetical position (same account,
  symbol, side and leverage, entry at the trade price). The engine sums the cross positions of one account,
  symbol and side into one leg, so real + hypothetical gives exactly the previewed figures.
- add to a real isolated position, or reduce, close or flip a real position: not offered (the button is
  disabled and the dialog says why). An isolated add merges into the position's own margin, which a
  separate position cannot show; reducing, closing and flipping take contracts away, which one-way mode
  could only write as the opposite side of the same symbol (the exchange and the portfolio file refuse it)
  and hedge mode as a new opposite position with margin of its own, which is not a reduction.
- any trade on a hypothetical position: that hypothetical position changes (still flagged). An imagined
  trade realizes nothing, so the wallet is left as it is; the preview shows it so. "Apply as real" is not
  offered for it.

"Apply as real" gives the engine's book after the trade, its realized PnL credited to the wallet.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.dialogs.position_form import known_symbols_for
from desktop.dialogs.typed_numbers import PROBLEM_STYLE, NotANumber, read_number
from desktop.tables.positions_model import position_ratio_text
from desktop.tables.text_table_model import TextTableModel
from engine.book.portfolio import resolve_market
from engine.book.trade_checks import PRICE_BAND, TradeMargin, far_from_mark, free_margin
from engine.book.whatif import (
    WhatIfRefused,
    account_book,
    add_to_position,
    close_position,
    flip_position,
    index_in_account,
    open_position,
    reduce_position,
)
from engine.margin.model import (
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
from engine.margin.risk import BookRisk, MissingPriceError, PositionRisk, evaluate_book
from engine.monitor.report import account_ratio_text, money, percent, price

ResultKind = Literal["hypothetical", "real"]
K = TypeVar("K")
TRADE_TITLES = {"add": "Add", "reduce": "Reduce", "close": "Close", "flip": "Flip"}
NOTE_STYLE = "color: #555555"
NOTHING = "—"


class InputProblem(ValueError):
    """A field as typed cannot be used; field names the input, the message says why."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def parse_positive(text: str, field: str, what: str) -> float:
    """A number typed by the user: finite and greater than 0, else InputProblem with the reason."""
    try:
        value = read_number(text, f"the {what}")
    except NotANumber as e:
        raise InputProblem(str(e), field) from None
    if value <= 0:
        raise InputProblem(f"the {what} must be greater than 0", field)
    return value


def plain_number(value: float) -> str:
    """A number as the user would type it: no grouping, twelve significant digits (a trade price to start
    from; desktop.dialogs.typed_numbers.number_text keeps every digit where a value must read back unchanged)."""
    return f"{value:.12g}"


def price_text(value: float | None, quote: str) -> str:
    return "none" if value is None else f"{price(value)} {quote}"


def contracts_text(position: Position) -> str:
    return f"{position.side.value} {position.contracts:g} contracts"


def contracts_unit(market: MarketSpec) -> str:
    """What one contract is: base units for a linear contract, USD for an inverse one."""
    base = "USD" if market.inverse else market.symbol.split("/", 1)[0]
    return f"contracts × {market.contract_size:g} {base}"


def position_label(position: Position) -> str:
    return f"{position.symbol} {position.side.value}" + (" (hypothetical)" if position.hypothetical else "")


def moved(before: float | None, after: float | None) -> bool:
    if before is None or after is None:
        return before is not after
    return abs(after - before) > 1e-9 * max(abs(before), abs(after))


def problem_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(PROBLEM_STYLE)
    label.setWordWrap(True)
    return label


def note_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(NOTE_STYLE)
    label.setWordWrap(True)
    return label


def preview_table(model: TextTableModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.verticalHeader().hide()
    view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    header = view.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    for column in range(1, model.columnCount()):  # before and after side by side, equally wide
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
    return view


@dataclass(frozen=True)
class Outcome:
    """A trade as the engine answers it, and what each Apply button would give."""

    after: Book
    """The previewed book."""
    target: int | None
    """Index in `after` of the traded or opened position; None once it is closed."""
    realized_pnl: float
    credited: bool
    """Whether realized_pnl went to the wallet (not for a trade on a hypothetical position)."""
    real_book: Book | None
    hypothetical_book: Book | None
    description: str


class WhatIfDialog(QDialog):
    """A what-if trade on book.positions[index], or a new position in `account` when no index is given.

    marks: the current mark of every (exchange, symbol) the account holds. After exec(), result_book is
    the book to use and result_kind says how the trade was applied; both are None after Cancel.
    """

    def __init__(
        self,
        book: Book,
        marks: Mapping[PriceKey, float],
        index: int | None = None,
        account: str | None = None,
        parent: QWidget | None = None,
        market_overrides: Mapping[str, MarketSpec] | None = None,
    ) -> None:
        super().__init__(parent)
        self.market_overrides = market_overrides or {}
        """The portfolio file's `markets`: a symbol not held yet resolves as the file would resolve it."""
        if index is None and account is None:
            raise ValueError("a what-if needs a position index or an account")
        if index is not None and account is not None and book.positions[index].account != account:
            raise ValueError(f"position {index} is not in account '{account}'")
        self.book = book
        self.marks = dict(marks)
        self.index = index
        self.position = book.positions[index] if index is not None else None
        self.account = book.account(self.position.account if self.position else str(account))
        self.currency = self.account.currency
        self.result_book: Book | None = None
        self.result_kind: ResultKind | None = None
        self.result_description = ""
        self.outcome: Outcome | None = None
        self.margin: TradeMargin | None = None
        """The account's free margin before and after the previewed trade (None without a preview)."""
        self._typed_contracts = ""

        self.edits: dict[str, QLineEdit] = {}
        self.units: dict[str, QLabel] = {}
        self.messages: dict[str, QLabel] = {}
        self.actions: dict[str, QRadioButton] = {}
        self.sides: dict[Side, QRadioButton] = {}
        self.margin_modes: dict[MarginMode, QRadioButton] = {}
        self.symbol = QComboBox()
        self._grid = QGridLayout()
        self._grid.setColumnStretch(3, 1)

        self.subject = QLabel()
        self.subject.setWordWrap(True)
        if self.position is not None:
            self.setWindowTitle(f"What if — {self.position.symbol}")
            self._build_trade_fields()
        else:
            self.setWindowTitle(f"What if — open a position in {self.account.name}")
            self._build_open_fields()
        self._add_edit("contracts", "Contracts")
        self._add_edit("price", "Trade price")

        self.preview = TextTableModel(["", "Before", "After"], [False, True, True], [])
        self.preview_view = preview_table(self.preview)
        self.problem = problem_label()
        self.note = note_label()

        self.buttons = QDialogButtonBox()
        self.apply_hypothetical_button = QPushButton("Apply as hypothetical")
        self.apply_real_button = QPushButton("Apply as real")
        self.buttons.addButton(self.apply_hypothetical_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.apply_real_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        for button in (self.apply_hypothetical_button, self.apply_real_button, self.cancel_button):
            button.setAutoDefault(False)  # Enter in a field must never apply a trade
        self.apply_hypothetical_button.clicked.connect(self._apply_hypothetical)
        self.apply_real_button.clicked.connect(self._apply_real)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.subject)
        layout.addLayout(self._grid)
        layout.addWidget(self.preview_view)
        layout.addWidget(self.problem)
        layout.addWidget(self.note)
        layout.addWidget(self.buttons)
        self.resize(640, 560)

        if self.position is not None:
            self._set_trade_defaults()
        else:
            self._set_open_defaults()
        for edit in self.edits.values():
            edit.textChanged.connect(self._refresh)
        self._refresh()

    # --- building the form -------------------------------------------------------------------------

    def _add_row(self, name: str, title: str, widget: QWidget | QHBoxLayout, unit: str = "") -> None:
        row = self._grid.rowCount()
        self._grid.addWidget(QLabel(title), row, 0)
        if isinstance(widget, QHBoxLayout):
            self._grid.addLayout(widget, row, 1)
        else:
            self._grid.addWidget(widget, row, 1)
        self.units[name] = QLabel(unit)
        self._grid.addWidget(self.units[name], row, 2)
        self.messages[name] = problem_label()
        self._grid.addWidget(self.messages[name], row, 3)

    def _add_edit(self, name: str, title: str, unit: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        self.edits[name] = edit
        self._add_row(name, title, edit, unit)
        return edit

    def _radio_row(self, name: str, title: str, texts: Mapping[K, str]) -> dict[K, QRadioButton]:
        group = QButtonGroup(self)
        row = QHBoxLayout()
        buttons = {}
        for key, text in texts.items():
            button = QRadioButton(text)
            button.setObjectName(f"{name}:{key}")
            group.addButton(button)
            row.addWidget(button)
            buttons[key] = button
            button.toggled.connect(self._choice_changed)
        row.addStretch(1)
        self._add_row(name, title, row)
        return buttons

    def _build_trade_fields(self) -> None:
        p = self.position
        assert p is not None
        market = self.book.market_of(p)
        mark = self.marks.get((self.account.exchange, p.symbol))
        mode = "hedge" if self.account.position_mode is PositionMode.HEDGE else "one-way"
        self.subject.setText(
            f"{self.account.name} ({self.account.exchange}, {mode} mode): {p.symbol} {contracts_text(p)}, "
            f"{p.margin_mode.value} {p.leverage:g}x, entry {price_text(p.entry_price, self.quote)}, "
            f"mark {price_text(mark, self.quote) if mark is not None else 'unknown'}"
            + (" — hypothetical" if p.hypothetical else "")
        )
        self.market = market
        self.actions = self._radio_row("action", "Trade", TRADE_TITLES)

    def _build_open_fields(self) -> None:
        mode = "hedge" if self.account.position_mode is PositionMode.HEDGE else "one-way"
        self.subject.setText(
            f"Open a position in {self.account.name} ({self.account.exchange}, {mode} mode, {self.currency})"
        )
        self.symbol.setEditable(True)
        self.symbol.addItems(self._symbols())
        self.symbol.currentTextChanged.connect(self._symbol_changed)
        self._add_row("symbol", "Symbol", self.symbol)
        self.sides = self._radio_row("side", "Side", {s: s.value for s in Side})
        self.margin_modes = self._radio_row(
            "margin_mode", "Margin", {m: m.value for m in (MarginMode.CROSS, MarginMode.ISOLATED)}
        )
        self._add_edit("leverage", "Leverage", "x")
        self._add_edit("isolated_margin", "Isolated margin", self.currency).setPlaceholderText(
            "initial margin at entry"
        )

    def _symbols(self) -> list[str]:
        """Symbols the account can trade: the book's markets on its exchange first, then the file's and the
        bundled table's."""
        exchange = self.account.exchange
        known = [symbol for (ex, symbol) in self.book.markets if ex == exchange]
        others = known_symbols_for(self.book, exchange, market_overrides=self.market_overrides)
        symbols = list(dict.fromkeys([*known, *others]))
        return [s for s in symbols if not self.currency or settle_currency_of(s) == self.currency] or symbols

    def _set_trade_defaults(self) -> None:
        p = self.position
        assert p is not None
        self.units["contracts"].setText(contracts_unit(self.market))
        self.units["price"].setText(self.quote)
        mark = self.marks.get((self.account.exchange, p.symbol))
        if mark is not None:
            self.edits["price"].setText(plain_number(mark))
        self.edits["contracts"].setPlaceholderText(f"{p.contracts:g} held")
        self.actions["add"].setChecked(True)

    def _set_open_defaults(self) -> None:
        self.sides[Side.LONG].setChecked(True)
        self.margin_modes[MarginMode.CROSS].setChecked(True)
        self.edits["leverage"].setText("10")
        self._symbol_changed(self.symbol.currentText())

    @property
    def quote(self) -> str:
        symbol = self.position.symbol if self.position else self.symbol.currentText().strip()
        return quote_currency_of(symbol)

    # --- reacting to input ---------------------------------------------------------------------------

    def action(self) -> str:
        if self.position is None:
            return "open"
        return next((name for name, button in self.actions.items() if button.isChecked()), "add")

    @Slot()
    def _choice_changed(self) -> None:
        if self.position is not None:
            contracts = self.edits["contracts"]
            closing = self.action() == "close"
            if closing and contracts.isEnabled():
                self._typed_contracts = contracts.text()
                contracts.setText(f"{self.position.contracts:g}")
            elif not closing and not contracts.isEnabled():
                contracts.setText(self._typed_contracts)
            contracts.setEnabled(not closing)
        elif "isolated_margin" in self.edits:
            self.edits["isolated_margin"].setEnabled(self.margin_modes[MarginMode.ISOLATED].isChecked())
        self._refresh()

    @Slot(str)
    def _symbol_changed(self, text: str) -> None:
        """A new symbol: its units, its mark as the trade price, and the margin of a position already held."""
        symbol = text.strip()
        market = self.book.markets.get((self.account.exchange, symbol)) or resolve_market(
            self.account.exchange, symbol, self.market_overrides
        )
        self.units["contracts"].setText(contracts_unit(market) if market else "contracts")
        self.units["price"].setText(self.quote)
        mark = self.marks.get((self.account.exchange, symbol))
        # A price typed for another symbol must not carry over: without a mark the user types one.
        self.edits["price"].setText(plain_number(mark) if mark is not None else "")
        held = next((p for p in self.book.positions if p.account == self.account.name and p.symbol == symbol), None)
        if held is not None and self.account.position_mode is PositionMode.ONEWAY:
            self.margin_modes[held.margin_mode].setChecked(True)
            self.edits["leverage"].setText(f"{held.leverage:g}")
        self._refresh()

    def _number(self, name: str, what: str, problems: dict[str, str]) -> float:
        try:
            return parse_positive(self.edits[name].text(), name, what)
        except InputProblem as e:
            problems[name] = str(e)
            return math.nan

    def _outcome(self, problems: dict[str, str]) -> Outcome | None:
        """The trade as typed; problems collects what is wrong with which field."""
        contracts = self._number("contracts", "number of contracts", problems)
        trade_price = self._number("price", "trade price", problems)
        if self.position is None:
            return self._open_outcome(contracts, trade_price, problems)
        if problems:
            return None
        return self._trade_outcome(self.action(), contracts, trade_price)

    def _trade_outcome(self, action: str, contracts: float, trade_price: float) -> Outcome:
        p, i = self.position, self.index
        assert p is not None and i is not None
        trade: Callable = {"add": add_to_position, "reduce": reduce_position, "flip": flip_position}.get(
            action, lambda b, k, _c, px: close_position(b, k, px)
        )
        result = trade(self.book, i, contracts, trade_price)
        target = i if len(result.book.positions) == len(self.book.positions) else None
        at = f"{contracts:g} contracts at {price_text(trade_price, self.quote)}"
        description = f"{action} {p.symbol} {p.side.value}: {at}"
        if p.hypothetical:
            # An imagined trade realizes nothing: the wallet stays the real one.
            after = Book(self.book.accounts, result.book.positions, result.book.markets)
            return Outcome(after, target, result.realized_pnl, False, None, after, description)
        hypothetical = None
        if action == "add" and p.margin_mode is MarginMode.CROSS:
            delta = replace(p, contracts=contracts, entry_price=trade_price, hypothetical=True, note="what-if add")
            hypothetical = open_position(self.book, delta, self.market_overrides)
        return Outcome(result.book, target, result.realized_pnl, True, result.book, hypothetical, description)

    def _open_outcome(self, contracts: float, trade_price: float, problems: dict[str, str]) -> Outcome | None:
        symbol = self.symbol.currentText().strip()
        if not symbol:
            problems["symbol"] = "enter a symbol"
        leverage = self._number("leverage", "leverage", problems)
        mode = MarginMode.ISOLATED if self.margin_modes[MarginMode.ISOLATED].isChecked() else MarginMode.CROSS
        margin = 0.0
        if mode is MarginMode.ISOLATED and self.edits["isolated_margin"].text().strip():
            margin = self._number("isolated_margin", "isolated margin", problems)
        if problems:
            return None
        side = Side.SHORT if self.sides[Side.SHORT].isChecked() else Side.LONG
        position = Position(self.account.name, symbol, side, contracts, trade_price, mode, leverage, margin)
        real = open_position(self.book, position, self.market_overrides)
        hypothetical = open_position(
            self.book, replace(position, hypothetical=True, note="what-if open"), self.market_overrides
        )
        description = f"open {symbol} {side.value}: {contracts:g} contracts at {price_text(trade_price, self.quote)}"
        return Outcome(real, len(real.positions) - 1, 0.0, False, real, hypothetical, description)

    def _preview_marks(self, problems: dict[str, str]) -> dict[PriceKey, float]:
        marks = self.marks
        if self.position is None:
            key = (self.account.exchange, self.symbol.currentText().strip())
            if key not in marks and "price" not in problems:
                # A symbol the book does not hold has no feed yet: judge it at the price it is bought at.
                marks = {**marks, key: parse_positive(self.edits["price"].text(), "price", "trade price")}
        return marks

    @Slot()
    def _refresh(self) -> None:
        problems: dict[str, str] = {}
        self.outcome = None
        self.margin = None
        general = ""
        notes: list[str] = []
        try:
            outcome = self._outcome(problems)
        except WhatIfRefused as e:
            outcome = None
            if e.field in self.messages:
                problems[e.field] = str(e)
            else:
                general = str(e)
        before = after = None
        try:
            marks = self._preview_marks(problems)
            before = evaluate_book(account_book(self.book, self.account.name), marks)
            if outcome is not None:
                after = evaluate_book(account_book(outcome.after, self.account.name), marks)
                self.outcome = outcome
                name = self.account.name
                self.margin = TradeMargin(free_margin(self.book, before, name), free_margin(outcome.after, after, name))
        except MissingPriceError as e:
            general = f"{e}: the preview needs the mark of every symbol the account holds"
        except ValueError as e:  # a market the exchange's rules cannot use (e.g. no max leverage on Hyperliquid)
            general = f"cannot evaluate this trade: {e}"
        symbol = self.symbol.currentText().strip()
        if self.position is None and symbol and (self.account.exchange, symbol) not in self.marks:
            notes.append("No mark price for this symbol yet: it is evaluated with the mark at the trade price.")
        for name, label in self.messages.items():
            label.setText(problems.get(name, ""))
        self.problem.setText(general)
        self.preview.replace_cells(self._rows(before, after, self.outcome) if before is not None else [])

        hypothetical_reason, real_reason = self._unavailable()
        if self.margin is not None and self.margin.refused:
            short = money(-self.margin.after, self.currency)
            needed = money(self.margin.needed, self.currency)
            available = money(max(0.0, self.margin.before), self.currency)
            refusal = (
                f"The exchange would refuse this trade: it needs {needed} of initial margin and the account has "
                f"{available} available ({short} short)."
            )
            real_reason = real_reason or f"Apply as real is refused. {refusal}"
            if not hypothetical_reason:
                notes.append(f"{refusal} Applied as hypothetical it stays a what-if the account cannot fund.")
        away = self._away_from_mark()
        if away is not None:
            notes.append(
                f"The trade price is {abs(away) * 100:.1f}% {'above' if away > 0 else 'below'} the mark (more than "
                f"{PRICE_BAND * 100:g}%): applying asks you to confirm it."
            )
        if self.outcome is not None and not self.outcome.credited and self.outcome.realized_pnl:
            notes.append("A trade on a hypothetical position realizes nothing: the wallet is left as it is.")
        notes += [reason for reason in (hypothetical_reason, real_reason) if reason]
        self.note.setText("\n".join(notes))
        valid = self.outcome is not None
        self.apply_hypothetical_button.setEnabled(valid and not hypothetical_reason)
        self.apply_real_button.setEnabled(valid and not real_reason)
        self.apply_hypothetical_button.setToolTip(hypothetical_reason)
        self.apply_real_button.setToolTip(real_reason)

    def _unavailable(self) -> tuple[str, str]:
        """Why each Apply button is not offered for the chosen trade ("" when it is)."""
        p = self.position
        if p is None:
            return "", ""
        if p.hypothetical:
            return "", "Apply as real is not offered: this position is hypothetical, so its trades stay hypothetical."
        action = self.action()
        if action == "add" and p.margin_mode is MarginMode.ISOLATED:
            return (
                "Apply as hypothetical is not offered: an isolated add merges into this position's own margin "
                "and liquidation price, which a separate hypothetical position cannot show.",
                "",
            )
        if action != "add":
            verb = {"reduce": "reducing", "close": "closing", "flip": "flipping"}[action]
            return (
                f"Apply as hypothetical is not offered: a hypothetical position can only add to the book, and "
                f"{verb} takes contracts from a real position.",
                "",
            )
        return "", ""

    # --- the preview ---------------------------------------------------------------------------------

    def _rows(self, before: BookRisk, after: BookRisk | None, outcome: Outcome | None) -> list[list[str]]:
        cur, quote = self.currency, self.quote
        b_target = index_in_account(self.book, self.index) if self.index is not None else None
        a_target = None
        if outcome is not None and outcome.target is not None:
            a_target = index_in_account(outcome.after, outcome.target)

        def cell(risk: BookRisk | None, k: int | None, text: Callable[[PositionRisk], str]) -> str:
            if risk is None:
                return ""
            return NOTHING if k is None else text(risk.positions[k])

        def both(title: str, text: Callable[[PositionRisk], str], closed: str = NOTHING) -> list[str]:
            after_text = cell(after, a_target, text)
            if after is not None and a_target is None and b_target is not None:
                after_text = closed
            return [title, cell(before, b_target, text), after_text]

        rows = [
            both("Contracts", lambda r: contracts_text(r.position), closed="closed"),
            both("Entry price", lambda r: price_text(r.position.entry_price, quote)),
        ]
        isolated = [
            risk.positions[k].position.margin_mode is MarginMode.ISOLATED
            for risk, k in ((before, b_target), (after, a_target))
            if risk is not None and k is not None
        ]
        if any(isolated):
            rows.append(
                both(
                    "Isolated margin",
                    lambda r: (
                        money(r.position.isolated_margin, cur)
                        if r.position.margin_mode is MarginMode.ISOLATED
                        else "cross"
                    ),
                )
            )
        rows += [
            both("Liquidation price", lambda r: price_text(r.liquidation_price, quote)),
            both("Distance to liquidation", lambda r: percent(r.distance_to_liquidation)),
            both("Margin ratio", position_ratio_text),  # an isolated position's own, a cross one's account's
        ]
        if outcome is not None and self.action() in ("reduce", "close", "flip"):
            realized = money(outcome.realized_pnl, cur) + ("" if outcome.credited else " (not credited)")
            rows.append(["Realized PnL", NOTHING, realized])
        a_before = before.accounts[0]
        a_after = after.accounts[0] if after is not None else None
        for title, text in (
            ("Wallet balance", lambda a: money(a.wallet_balance, cur)),
            ("Equity", lambda a: money(a.equity, cur)),
            ("Available balance", lambda a: money(a.available_balance, cur)),
            ("Cross margin ratio", lambda a: account_ratio_text(a).replace("<=", "≤")),
        ):
            rows.append([title, text(a_before), text(a_after) if a_after is not None else ""])
            if title == "Available balance" and self.margin is not None and self.margin.refused:
                rows[-1][2] = f"{money(0.0, cur)}: short by {money(-self.margin.after, cur)}"
        if after is not None:
            rows += self._other_rows(before, after, b_target, a_target)
        return rows

    def _other_rows(
        self, before: BookRisk, after: BookRisk, b_target: int | None, a_target: int | None
    ) -> list[list[str]]:
        """Liquidation prices of the account's other cross positions that the trade moves."""
        others_before = [k for k in range(len(before.positions)) if k != b_target]
        others_after = [k for k in range(len(after.positions)) if k != a_target]
        rows = []
        cross = 0
        for kb, ka in zip(others_before, others_after, strict=True):
            rb, ra = before.positions[kb], after.positions[ka]
            if rb.position.margin_mode is not MarginMode.CROSS:
                continue
            cross += 1
            if moved(rb.liquidation_price, ra.liquidation_price):
                quote = quote_currency_of(rb.position.symbol)
                rows.append(
                    [
                        f"{position_label(rb.position)} liq. price",
                        price_text(rb.liquidation_price, quote),
                        price_text(ra.liquidation_price, quote),
                    ]
                )
        if cross and not rows:
            rows.append(["Other cross positions", "", "liq. prices unchanged"])
        return rows

    # --- applying ------------------------------------------------------------------------------------

    def _trade_price(self) -> float | None:
        try:
            return parse_positive(self.edits["price"].text(), "price", "trade price")
        except InputProblem:
            return None

    def _away_from_mark(self) -> float | None:
        """How far the typed trade price is from the symbol's mark when beyond PRICE_BAND, else None."""
        symbol = self.position.symbol if self.position is not None else self.symbol.currentText().strip()
        trade_price = self._trade_price()
        if trade_price is None:
            return None
        return far_from_mark(trade_price, self.marks.get((self.account.exchange, symbol)))

    def confirm_price(self) -> bool:
        """True when the trade price is near the mark, or the user confirms a price far from it."""
        away = self._away_from_mark()
        if away is None:
            return True
        answer = QMessageBox.question(
            self,
            "Trade price far from the mark",
            f"The trade price is {abs(away) * 100:.1f}% {'above' if away > 0 else 'below'} the current mark. "
            "The exchange would not fill an order that far away. Apply this trade anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    @Slot()
    def _apply_hypothetical(self) -> None:
        if self.outcome is None or self.outcome.hypothetical_book is None:
            return  # the button is disabled then
        if self.confirm_price():
            self._finish(self.outcome.hypothetical_book, "hypothetical")

    @Slot()
    def _apply_real(self) -> None:
        if self.outcome is None or self.outcome.real_book is None:
            return
        if self.margin is not None and self.margin.refused:
            return  # the button is disabled then: the exchange would refuse the order
        if self.confirm_price():
            self._finish(self.outcome.real_book, "real")

    def _finish(self, book: Book, kind: ResultKind) -> None:
        assert self.outcome is not None
        self.result_book = book
        self.result_kind = kind
        self.result_description = f"{kind} {self.outcome.description}"
        self.accept()

    def preview_rows(self) -> list[list[str]]:
        """The preview as shown: [title, before, after] per row."""
        model = self.preview
        return [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]
