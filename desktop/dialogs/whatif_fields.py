"""The what-if dialog's widgets: the trade's fields in a grid (title, editor, unit, problem), the radio rows, the
note and problem labels and the before -> after table, and how a typed number is read. No trade logic: the
dialog (desktop.dialogs.whatif_dialog) reacts to them and the engine's plan decides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QRadioButton,
    QTableView,
    QWidget,
)

from desktop.dialogs.position_form import known_symbols_for
from desktop.dialogs.typed_numbers import NotANumber, read_positive
from desktop.platform.text_colours import note_style, problem_style
from desktop.tables.text_table_model import TextTableModel
from engine.margin.model import Account, Book, MarketSpec, settle_currency_of

K = TypeVar("K")


class InputProblem(ValueError):
    """A field as typed cannot be used; field names the input, the message says why."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def parse_positive(text: str, field: str, what: str) -> float:
    """A number typed by the user: finite and greater than 0, else InputProblem with the reason."""
    try:
        return read_positive(text, f"the {what}")
    except NotANumber as e:
        raise InputProblem(str(e), field) from None


def plain_number(value: float) -> str:
    """A number as the user would type it: no grouping, twelve significant digits (a trade price to start
    from; engine.book.numbers.number_text keeps every digit where a value must read back unchanged)."""
    return f"{value:.12g}"


def problem_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(problem_style())
    label.setWordWrap(True)
    return label


def note_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(note_style())
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


def confirm_far_price(parent: QWidget, away: float) -> bool:
    """Ask whether to apply a trade priced `away` (a signed fraction of the mark) from the mark; No is the default."""
    answer = QMessageBox.question(
        parent,
        "Trade price far from the mark",
        f"The trade price is {abs(away) * 100:.1f}% {'above' if away > 0 else 'below'} the current mark. "
        "The exchange would not fill an order that far away. Apply this trade anyway?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def tradable_symbols(book: Book, account: Account, market_overrides: Mapping[str, MarketSpec]) -> list[str]:
    """Symbols the account can open: the book's markets on its exchange first, then the file's and the bundled
    table's; those settled in the account's currency when there are any."""
    exchange = account.exchange
    known = [symbol for (ex, symbol) in book.markets if ex == exchange]
    others = known_symbols_for(book, exchange, market_overrides=market_overrides)
    symbols = list(dict.fromkeys([*known, *others]))
    return [s for s in symbols if not account.currency or settle_currency_of(s) == account.currency] or symbols


class TradeFields(QGridLayout):
    """The trade's fields, a row each: title, editor (a line edit or a row of radio buttons), unit, then the
    problem and a note (what the engine made of the input, e.g. the price rounded to the tick).

    edits, units, messages and notes are keyed by field name; on_choice is called when any radio button toggles."""

    def __init__(self, on_choice: Callable[[], None]) -> None:
        super().__init__()
        self.setColumnStretch(3, 1)
        self._on_choice = on_choice
        self.edits: dict[str, QLineEdit] = {}
        self.units: dict[str, QLabel] = {}
        self.messages: dict[str, QLabel] = {}
        self.notes: dict[str, QLabel] = {}

    def add_row(self, name: str, title: str, widget: QWidget | QHBoxLayout, unit: str = "") -> None:
        row = self.rowCount()
        self.addWidget(QLabel(title), row, 0)
        if isinstance(widget, QHBoxLayout):
            self.addLayout(widget, row, 1)
        else:
            self.addWidget(widget, row, 1)
        self.units[name] = QLabel(unit)
        self.addWidget(self.units[name], row, 2)
        self.messages[name], self.notes[name] = problem_label(), note_label()
        said = QHBoxLayout()
        said.addWidget(self.messages[name])
        said.addWidget(self.notes[name], 1)
        self.addLayout(said, row, 3)

    def add_edit(self, name: str, title: str, unit: str = "", beside: QWidget | None = None) -> QLineEdit:
        """A line edit named `name`; beside: a widget next to it in the editor's cell (a unit selector)."""
        edit = QLineEdit()
        edit.setObjectName(name)
        self.edits[name] = edit
        cell: QWidget | QHBoxLayout = edit
        if beside is not None:
            cell = QHBoxLayout()
            cell.addWidget(edit, 1)
            cell.addWidget(beside)
        self.add_row(name, title, cell, unit)
        return edit

    def radio_row(self, name: str, title: str, texts: Mapping[K, str]) -> dict[K, QRadioButton]:
        group = QButtonGroup(self)
        row = QHBoxLayout()
        buttons = {}
        for key, text in texts.items():
            button = QRadioButton(text)
            button.setObjectName(f"{name}:{key}")
            group.addButton(button)
            row.addWidget(button)
            buttons[key] = button
            button.toggled.connect(self._on_choice)
        row.addStretch(1)
        self.add_row(name, title, row)
        return buttons
