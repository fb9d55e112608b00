"""Alerts ▸ Price alerts…: the book's price alerts listed (add, edit, delete), each checked as it is typed by the
engine's one validator (engine.book.price_alert_rules), with the message beside the field typed in.

The symbol is chosen among the book's price keys (and those of the rules already there); the mark now is shown
beside it ('no price' for a symbol nothing prices). The direction follows the price typed (below the mark:
'below', above it: 'above') until the user picks one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.dialogs.typed_numbers import NotANumber, number_text, read_number
from desktop.platform.text_colours import problem_style
from desktop.tables.price_alerts_model import PriceAlertsModel, mark_text
from engine.book.price_alert_rules import Direction, PriceAlert, price_alert_violations
from engine.book.safe_text import printable
from engine.margin.model import PriceKey, quote_currency_of


class PriceAlertsDialog(QDialog):
    """rules: the rules now; keys: the book's price keys; marks: each key's real mark now (quote currency);
    prefill: a key to start a new rule on (the context action 'Alert me at a price…'). After Ok, result_rules
    holds the list to apply; None after Cancel."""

    def __init__(
        self,
        rules: Sequence[PriceAlert],
        keys: Sequence[PriceKey],
        marks: Mapping[PriceKey, float],
        parent: QWidget | None = None,
        prefill: PriceKey | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Price alerts")
        self.result_rules: list[PriceAlert] | None = None
        self.marks = dict(marks)
        self.model = PriceAlertsModel(rules, marks)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.symbol = QComboBox()
        self.keys: list[PriceKey] = list(dict.fromkeys([*keys, *(r.key for r in rules)]))
        for key in self.keys:
            self.symbol.addItem(f"{printable(key[1])} · {printable(key[0])}")
        self.mark = QLabel()
        self.direction = QComboBox()
        for d in (Direction.BELOW, Direction.ABOVE):
            self.direction.addItem(f"at or {d.value}", d.value)
        self.price = QLineEdit()
        self.price.setPlaceholderText("level price, e.g. 85000")
        self.note = QLineEdit()
        self.price_problem, self.note_problem = QLabel(), QLabel()
        self._direction_chosen = False
        self._build_layout()
        self.symbol.currentIndexChanged.connect(self._show_mark)
        self.symbol.activated.connect(self._symbol_picked)
        self.direction.activated.connect(self._chose_direction)
        self.price.textEdited.connect(self._price_typed)
        self.note.textEdited.connect(lambda _text: self.note_problem.clear())
        if prefill in self.keys:
            self.symbol.setCurrentIndex(self.keys.index(prefill))
            self.price.setFocus()
        self._show_mark()
        self._selected()

    def _build_layout(self) -> None:
        for label in (self.price_problem, self.note_problem):
            label.setStyleSheet(problem_style())
            label.setWordWrap(True)
        symbol_row = QHBoxLayout()
        symbol_row.addWidget(self.symbol, 1)
        symbol_row.addWidget(self.mark)
        form = QFormLayout()
        form.addRow("Symbol", symbol_row)
        form.addRow("Alert when the mark is", self.direction)
        form.addRow("Price", self.price)
        form.addRow("", self.price_problem)
        form.addRow("Note", self.note)
        form.addRow("", self.note_problem)
        self.add_button = QPushButton("&Add")
        self.save_button = QPushButton("&Save changes")
        self.delete_button = QPushButton("&Delete")
        self.add_button.clicked.connect(self.add)
        self.save_button.clicked.connect(self.save_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        row = QHBoxLayout()
        for button in (self.add_button, self.save_button, self.delete_button):
            row.addWidget(button)
        row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.resize(720, 460)

    # -- the form -----------------------------------------------------------------------------------

    def key(self) -> PriceKey | None:
        """The symbol chosen, as its price key (None: the book has none)."""
        i = self.symbol.currentIndex()
        return self.keys[i] if 0 <= i < len(self.keys) else None

    def chosen_direction(self) -> Direction:
        return Direction(self.direction.currentData())

    @Slot()
    def _show_mark(self) -> None:
        key = self.key()
        self.mark.setText("" if key is None else f"mark now: {mark_text(key, self.marks, quote_currency_of(key[1]))}")

    @Slot()
    def _symbol_picked(self) -> None:
        """Another symbol picked by the user: the direction follows the price typed again."""
        self._direction_chosen = False
        self._price_typed(self.price.text())

    @Slot()
    def _chose_direction(self) -> None:
        self._direction_chosen = True

    def _price_typed(self, text: str) -> None:
        """Checked as typed: the problem beside the field; the direction follows the price until one is chosen."""
        level, problem = self._level(text)
        self.price_problem.setText(problem or "")
        mark = self.marks.get(self.key()) if self.key() is not None else None
        if level is not None and mark is not None and not self._direction_chosen and level != mark:
            d = Direction.BELOW if level < mark else Direction.ABOVE
            self.direction.setCurrentIndex(self.direction.findData(d.value))

    @staticmethod
    def _level(text: str) -> tuple[float | None, str | None]:
        """The typed price and why it cannot be used (engine.book.price_alert_rules.price_problem's words)."""
        if not text.strip():
            return None, "type the level price"
        try:
            level = read_number(text, "price")
        except NotANumber as e:
            return None, str(e)
        rule, problems = price_alert_violations({"exchange": "x", "symbol": "x", "direction": "below", "price": level})
        return (level, None) if rule is not None else (None, problems[0].message.split(": ", 1)[1])

    def typed_rule(self) -> PriceAlert | None:
        """The rule the form holds, or None with each problem shown beside its field."""
        key = self.key()
        level, problem = self._level(self.price.text())
        self.price_problem.setText(problem or "")
        if key is None:
            self.price_problem.setText("the book has no symbol to alert on: add a position first")
            return None
        item = {"exchange": key[0], "symbol": key[1], "direction": self.chosen_direction().value}
        rule, problems = price_alert_violations({**item, "price": level, "note": self.note.text()})
        for v in problems:
            if v.field == "note":
                self.note_problem.setText(v.message.split(": ", 1)[1])
        return rule if problem is None else None

    # -- the list -----------------------------------------------------------------------------------

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    @Slot()
    def _selected(self, *_: object) -> None:
        row = self.selected_row()
        self.save_button.setEnabled(row is not None)
        self.delete_button.setEnabled(row is not None)
        if row is None:
            return
        rule = self.model.rules[row]
        self.symbol.setCurrentIndex(self.keys.index(rule.key))
        self.direction.setCurrentIndex(self.direction.findData(rule.direction.value))
        self._direction_chosen = True
        self.price.setText(number_text(rule.price))
        self.note.setText(rule.note)
        self.price_problem.clear()
        self.note_problem.clear()

    @Slot()
    def add(self) -> bool:
        """Add the typed rule to the list (True), or leave the list as it is and say why beside the field."""
        rule = self.typed_rule()
        if rule is None:
            return False
        if rule in self.model.rules:
            self.price_problem.setText("this alert is already in the list")
            return False
        self.model.set_rules([*self.model.rules, rule])
        # The form is for the next rule now: nothing selected (Save would rewrite the added one), and its direction
        # follows its price again (a selected row had fixed it: 85,000 then went in as 'above' after a 100,000).
        self.table.clearSelection()
        self._direction_chosen = False
        return True

    @Slot()
    def save_selected(self) -> bool:
        """Replace the selected rule by the typed one (True), or say why not beside the field."""
        row, rule = self.selected_row(), self.typed_rule()
        if row is None or rule is None:
            return False
        rules = list(self.model.rules)
        rules[row] = rule
        self.model.set_rules(list(dict.fromkeys(rules)))
        return True

    @Slot()
    def delete_selected(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.model.set_rules([r for i, r in enumerate(self.model.rules) if i != row])

    @Slot()
    def _accept(self) -> None:
        self.result_rules = list(self.model.rules)
        self.accept()
