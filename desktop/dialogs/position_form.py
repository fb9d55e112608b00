"""The position form: a new or edited position, checked as it is typed, previewed by the engine.

The check and the preview are desktop.dialogs.position_check's (free of widgets): this dialog lays out the
fields, feeds their text to validate_position_input() and shows its messages, hints and preview_position().
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
from desktop.dialogs.position_check import (
    POSITION_FIELDS,
    PositionCheck,
    PositionPreview,
    known_symbols_for,
    parse_positive,
    preview_position,
    refusal_field,
    rules_label,
    validate_position_input,
)
from desktop.dialogs.typed_numbers import number_text
from engine.book.formats import money, percent, price
from engine.margin.model import Book, MarginMode, MarketSpec, Position, PriceKey, Side, quote_currency_of
from engine.margin.rules import profile_for
from engine.monitor.levels import Thresholds, distance_level

__all__ = [
    "POSITION_FIELDS",
    "PositionCheck",
    "PositionForm",
    "PositionPreview",
    "known_symbols_for",
    "parse_positive",
    "preview_position",
    "refusal_field",
    "rules_label",
    "validate_position_input",
]


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
        thresholds: Thresholds | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.thresholds = thresholds or Thresholds()
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
        self.grid = grid = self._build_fields()
        self.messages = grid.messages
        preview_box = self._build_preview()

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

    def _build_fields(self) -> FieldGrid:
        """The editors, a row each with its title and its message (the book's accounts in the account box)."""
        self.account = QComboBox()
        for account in self.book.accounts:
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
        return FieldGrid(self.editors, titles, POSITION_FIELDS)

    def _build_preview(self) -> QGroupBox:
        """The preview's labels (self.preview_labels by key) and note in their box."""
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
        return preview_box

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
        level = distance_level(distance, self.thresholds).name.lower()  # the word the tables and alerts use
        self.preview_labels["distance"].setText(
            "n/a" if distance is None else f"{percent(distance)} of the mark ({level})"
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
