"""The what-if trade dialog: add to, reduce, close or flip a position, or open one, previewed before -> after.

The preview evaluates the account before and after the trade with engine.margin.risk.evaluate_book at the same
marks (the account alone: accounts are independent in the margin equation, so a missing mark elsewhere
does not block it). It updates as the user types; bad input and the engine's refusals are shown beside
the field they are about, never raised.

What each Apply button does is the engine's plan (engine.book.trade_plan: what "Apply as hypothetical" and
"Apply as real" mean for each trade, and why one is refused); the dialog shows it and returns the book the
plan gives. The before -> after rows are desktop.dialogs.whatif_preview's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import partial

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.dialogs import whatif_preview
from desktop.dialogs.whatif_fields import (
    InputProblem,
    TradeFields,
    confirm_far_price,
    note_label,
    parse_positive,
    plain_number,
    preview_table,
    problem_label,
    tradable_symbols,
)
from desktop.dialogs.whatif_order import OrderFields, available_balance
from desktop.dialogs.whatif_preview import contracts_unit
from desktop.tables.text_table_model import TextTableModel
from engine.book.portfolio import resolve_market
from engine.book.trade_checks import TradeMargin, far_from_mark, trade_margin
from engine.book.trade_plan import Action, Choice, TradePlan, plan_open, plan_trade, refusals
from engine.book.whatif import WhatIfRefused, account_book
from engine.margin.model import (
    Book,
    MarginMode,
    MarketSpec,
    Position,
    PositionMode,
    PriceKey,
    Side,
    quote_currency_of,
)
from engine.margin.risk import BookRisk, MissingPriceError, evaluate_book

TRADE_TITLES: dict[Action, str] = {"add": "Add", "reduce": "Reduce", "close": "Close", "flip": "Flip"}


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
        self.market_overrides = market_overrides if market_overrides is not None else {}  # fetched tables too
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
        self.result_kind: Choice | None = None
        self.result_description = ""
        self.plan: TradePlan | None = None
        """The engine's plan of the trade as typed (None while it cannot be made)."""
        self.margin: TradeMargin | None = None
        """The account's free margin before and after the previewed trade (None without a preview)."""
        self._typed_contracts = ""
        self.market: MarketSpec | None = None

        self.fields = TradeFields(self._choice_changed)
        self.edits, self.units, self.messages = self.fields.edits, self.fields.units, self.fields.messages
        self.actions: dict[Action, QRadioButton] = {}
        self.sides: dict[Side, QRadioButton] = {}
        self.margin_modes: dict[MarginMode, QRadioButton] = {}
        self.symbol = QComboBox()
        self._build_layout()
        if self.position is not None:
            self._set_trade_defaults()
        else:
            self._set_open_defaults()
        for edit in self.edits.values():
            edit.textChanged.connect(self._refresh)
        self._refresh()

    # --- building the form -------------------------------------------------------------------------

    def _build_layout(self) -> None:
        """The subject line, the fields of a trade or of an opening, the preview, the notes and the buttons."""
        self.subject = QLabel()
        self.subject.setWordWrap(True)
        if self.position is not None:
            self.setWindowTitle(f"What if — {self.position.symbol}")
            self._build_trade_fields()
        else:
            self.setWindowTitle(f"What if — open a position in {self.account.name}")
            self._build_open_fields()
        self.order = OrderFields(self.fields, self._refresh)
        self.preview = TextTableModel(["", "Before", "After"], [False, True, True], [])
        self.preview_view = preview_table(self.preview)
        self.problem = problem_label()
        self.note = note_label()
        self._build_buttons()
        layout = QVBoxLayout(self)
        layout.addWidget(self.subject)
        layout.addLayout(self.fields)
        layout.addWidget(self.preview_view)
        layout.addWidget(self.problem)
        layout.addWidget(self.note)
        layout.addWidget(self.buttons)
        self.resize(640, 560)

    def _build_buttons(self) -> None:
        """Apply as hypothetical, Apply as real and Cancel; none is a default button."""
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

    def _build_trade_fields(self) -> None:
        p = self.position
        assert p is not None
        market = self.book.market_of(p)
        mark = self.marks.get((self.account.exchange, p.symbol))
        self.subject.setText(whatif_preview.subject(self.account, p, mark))
        self.market = market
        self.actions = self.fields.radio_row("action", "Trade", TRADE_TITLES)

    def _build_open_fields(self) -> None:
        self.subject.setText(whatif_preview.subject(self.account, None, None))
        self.symbol.setEditable(True)
        self.symbol.addItems(tradable_symbols(self.book, self.account, self.market_overrides))
        self.symbol.currentTextChanged.connect(self._symbol_changed)
        self.fields.add_row("symbol", "Symbol", self.symbol)
        self.sides = self.fields.radio_row("side", "Side", {s: s.value for s in Side})
        self.margin_modes = self.fields.radio_row(
            "margin_mode", "Margin", {m: m.value for m in (MarginMode.CROSS, MarginMode.ISOLATED)}
        )
        self.fields.add_edit("leverage", "Leverage", "x")
        self.fields.add_edit("isolated_margin", "Isolated margin", self.currency).setPlaceholderText(
            "initial margin at entry"
        )

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

    def action(self) -> Action:
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
        self.market = market
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

    def _plan(self, problems: dict[str, str]) -> TradePlan | None:
        """The engine's plan of the trade as typed (WhatIfRefused where it refuses it); problems collects what is
        wrong with which field, and the plan is None then."""
        leverage = self.position.leverage if self.position else self._number("leverage", "leverage", problems)
        available = partial(available_balance, self.book, self.account.name, self.marks)
        held = self.position.contracts if self.position is not None and self.action() == "reduce" else None
        contracts, trade_price = self.order.read(problems, self.market, leverage, available, self.currency, held)
        if self.position is None:
            return self._open_plan(contracts, trade_price, leverage, problems)
        if problems:
            return None
        assert self.index is not None
        return plan_trade(self.book, self.index, self.action(), contracts, trade_price, self.market_overrides)

    def _open_plan(
        self, contracts: float, trade_price: float, leverage: float, problems: dict[str, str]
    ) -> TradePlan | None:
        symbol = self.symbol.currentText().strip()
        if not symbol:
            problems["symbol"] = "enter a symbol"
        mode = MarginMode.ISOLATED if self.margin_modes[MarginMode.ISOLATED].isChecked() else MarginMode.CROSS
        margin = 0.0
        if mode is MarginMode.ISOLATED and self.edits["isolated_margin"].text().strip():
            margin = self._number("isolated_margin", "isolated margin", problems)
        if problems:
            return None
        side = Side.SHORT if self.sides[Side.SHORT].isChecked() else Side.LONG
        position = Position(self.account.name, symbol, side, contracts, trade_price, mode, leverage, margin)
        return plan_open(self.book, position, self.market_overrides)

    def _preview_marks(self, problems: dict[str, str]) -> dict[PriceKey, float]:
        marks = self.marks
        if self.position is None:
            key = (self.account.exchange, self.symbol.currentText().strip())
            if key not in marks and self.order.price is not None:
                # A symbol the book does not hold has no feed yet: judge it at the price it is bought at.
                marks = {**marks, key: self.order.price}
        return marks

    @Slot()
    def _refresh(self) -> None:
        problems: dict[str, str] = {}
        general, before, after = self._evaluate(problems)
        for name, label in self.messages.items():
            label.setText(problems.get(name, ""))
        self.problem.setText(general)
        self.preview.replace_cells(
            whatif_preview.rows(self.book, self.index, before, after, self.plan, self.margin, self.currency, self.quote)
            if before is not None
            else []
        )
        hypothetical_reason, real_reason = self.refusals()
        self.note.setText("\n".join(self._notes(hypothetical_reason, real_reason)))
        valid = self.plan is not None
        self.apply_hypothetical_button.setEnabled(valid and not hypothetical_reason)
        self.apply_real_button.setEnabled(valid and not real_reason)
        self.apply_hypothetical_button.setToolTip(hypothetical_reason)
        self.apply_real_button.setToolTip(real_reason)

    def _evaluate(self, problems: dict[str, str]) -> tuple[str, BookRisk | None, BookRisk | None]:
        """The plan, the account's risk before and after and the free margin of the trade as typed: sets
        self.plan and self.margin, and gives (the problem that is no field's, before, after)."""
        self.plan = None
        self.margin = None
        general = ""
        try:
            plan = self._plan(problems)
        except WhatIfRefused as e:
            plan = None
            if e.field in self.messages:
                problems[e.field] = str(e)
            else:
                general = str(e)
        before = after = None
        try:
            marks = self._preview_marks(problems)
            before = evaluate_book(account_book(self.book, self.account.name), marks)
            if plan is not None:  # before is shown even when the trade cannot be evaluated
                after = evaluate_book(account_book(plan.after, self.account.name), marks)
                self.margin = trade_margin(self.book, plan.after, self.account.name, marks, (before, after))
                self.plan = plan
        except MissingPriceError as e:
            general = f"{e}: the preview needs the mark of every symbol the account holds"
        except ValueError as e:  # a market the exchange's rules cannot use (e.g. no max leverage on Hyperliquid)
            general = f"cannot evaluate this trade: {e}"
        return general, before, after

    def refusals(self) -> tuple[str, str]:
        """Why "Apply as hypothetical" and "Apply as real" are refused ("" when offered), as the plan says
        (engine.book.trade_plan); before the numbers make a plan, the refusals of this kind of trade."""
        if self.plan is None:
            return refusals(self.position, self.action())
        return (
            self.plan.decide("hypothetical").refusal,
            self.plan.decide("real", self.margin, self.currency).refusal,
        )

    def _notes(self, hypothetical_reason: str, real_reason: str) -> list[str]:
        symbol = self.symbol.currentText().strip()
        unpriced = self.position is None and bool(symbol) and (self.account.exchange, symbol) not in self.marks
        return whatif_preview.notes(
            self.plan, self.margin, self.currency, (hypothetical_reason, real_reason), self._away_from_mark(), unpriced
        )

    # --- applying ------------------------------------------------------------------------------------

    def _away_from_mark(self) -> float | None:
        """How far the typed trade price is from the symbol's mark when beyond PRICE_BAND, else None."""
        symbol = self.position.symbol if self.position is not None else self.symbol.currentText().strip()
        trade_price = self.order.price
        if trade_price is None:
            return None
        return far_from_mark(trade_price, self.marks.get((self.account.exchange, symbol)))

    def confirm_price(self) -> bool:
        """True when the trade price is near the mark, or the user confirms a price far from it."""
        away = self._away_from_mark()
        if away is None:
            return True
        return confirm_far_price(self, away)

    @Slot()
    def _apply_hypothetical(self) -> None:
        self._apply("hypothetical")

    @Slot()
    def _apply_real(self) -> None:
        self._apply("real")

    def _apply(self, kind: Choice) -> None:
        """Accept with the book the plan gives for `kind`; nothing when the plan refuses it (the button is
        disabled then) or the user does not confirm a price far from the mark."""
        if self.plan is None:
            return
        decision = self.plan.decide(kind, self.margin, self.currency)
        if decision.book is None or not self.confirm_price():
            return
        self.result_book = decision.book
        self.result_kind = kind
        self.result_description = f"{kind} {self.plan.description}"
        self.accept()

    def preview_rows(self) -> list[list[str]]:
        """The preview as shown: [title, before, after] per row."""
        model = self.preview
        return [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]
