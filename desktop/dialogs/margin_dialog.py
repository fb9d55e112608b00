"""The isolated-margin dialog: add margin to an isolated position or take some back, previewed before -> after.

The engine decides what the exchange allows (engine.book.whatif.adjust_isolated_margin): adding is limited
by the account's available balance, removing by the initial margin at the mark after any unrealized
loss. Its reason for a refusal is shown beside the amount, and OK stays disabled until the amount is valid.
Only the position's own account is evaluated, so marks are needed for its symbols alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.dialogs.whatif_fields import InputProblem, note_label, parse_positive, preview_table, problem_label
from desktop.dialogs.whatif_preview import contracts_text
from desktop.tables.text_table_model import TextTableModel
from engine.book.formats import money, percent, quoted_price
from engine.book.whatif import (
    MarginLimits,
    WhatIfRefused,
    account_book,
    adjust_isolated_margin,
    index_in_account,
    isolated_margin_limits,
)
from engine.margin.model import Book, MarginMode, PriceKey, quote_currency_of
from engine.margin.risk import AccountRisk, BookRisk, MissingPriceError, PositionRisk, evaluate_book


class MarginDialog(QDialog):
    """Add or remove isolated margin on book.positions[index] at the given marks.

    After exec(), result_book is the book with the new isolated margin (None after Cancel).
    """

    def __init__(self, book: Book, marks: Mapping[PriceKey, float], index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.book = book
        self.marks = dict(marks)
        self.index = index
        self.position = book.positions[index]
        if self.position.margin_mode is not MarginMode.ISOLATED:
            raise ValueError("only an isolated position has its own margin to adjust")
        self.account = book.account(self.position.account)
        self.currency = self.account.currency
        self.quote = quote_currency_of(self.position.symbol)
        self.result_book: Book | None = None
        self.after_book: Book | None = None
        self.setWindowTitle(f"Isolated margin — {self.position.symbol}")

        self._build_layout()

        # What the typed amount does not change, evaluated once (the book and the marks are fixed here).
        self._k = index_in_account(book, index)
        self._before: BookRisk | None = None
        self._limits: MarginLimits | None = None
        self._unusable = ""
        try:
            self._before = evaluate_book(account_book(book, self.account.name), self.marks)
            self._limits = isolated_margin_limits(book, index, self.marks, self._before)
        except MissingPriceError as e:
            self._unusable = f"{e}: the preview needs the mark of every symbol the account holds"
        except ValueError as e:  # a market the exchange's rules cannot use
            self._unusable = f"cannot evaluate this position: {e}"
        self.add_radio.setChecked(True)
        self.add_radio.toggled.connect(self._refresh)
        self.amount.textChanged.connect(self._refresh)
        self._refresh()

    def _build_layout(self) -> None:
        """The subject line, add/remove and the amount, the limits note, the before -> after preview, the
        buttons."""
        p = self.position
        self.subject = QLabel(
            f"{self.account.name}: {p.symbol} {contracts_text(p)}, isolated {p.leverage:g}x, "
            f"margin {money(p.isolated_margin, self.currency)}" + (" — hypothetical" if p.hypothetical else "")
        )
        self.subject.setWordWrap(True)
        self.add_radio = QRadioButton("Add margin")
        self.remove_radio = QRadioButton("Remove margin")
        group = QButtonGroup(self)
        choice = QHBoxLayout()
        for radio in (self.add_radio, self.remove_radio):
            group.addButton(radio)
            choice.addWidget(radio)
        choice.addStretch(1)
        self.amount = QLineEdit()
        self.amount_unit = QLabel(self.currency)
        self.amount_message = problem_label()
        self.limits_note = note_label()
        grid = QGridLayout()
        grid.setColumnStretch(3, 1)
        grid.addWidget(QLabel("Change"), 0, 0)
        grid.addLayout(choice, 0, 1, 1, 3)
        grid.addWidget(QLabel("Amount"), 1, 0)
        grid.addWidget(self.amount, 1, 1)
        grid.addWidget(self.amount_unit, 1, 2)
        grid.addWidget(self.amount_message, 1, 3)

        self.preview = TextTableModel(["", "Before", "After"], [False, True, True], [])
        self.preview_view = preview_table(self.preview)
        self.problem = problem_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button.setText("Apply")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.subject)
        layout.addLayout(grid)
        layout.addWidget(self.limits_note)
        layout.addWidget(self.preview_view)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.resize(560, 440)

    def delta(self) -> float:
        """The signed change as typed (settlement currency); InputProblem when it is not a usable amount."""
        amount = parse_positive(self.amount.text(), "amount", "amount")
        return amount if self.add_radio.isChecked() else -amount

    @Slot()
    def _refresh(self) -> None:
        self.after_book = None
        message = ""
        before, limits, after = self._before, self._limits, None
        if before is not None:
            try:
                after_book = adjust_isolated_margin(self.book, self.index, self.delta(), self.marks, limits)
                after = evaluate_book(account_book(after_book, self.account.name), self.marks)
                self.after_book = after_book
            except (InputProblem, WhatIfRefused) as e:
                message = str(e)
        self.amount_message.setText(message)
        self.problem.setText(self._unusable)
        self.limits_note.setText(
            ""
            if limits is None
            else f"Up to {money(limits.addable, self.currency)} can be added and up to "
            f"{money(limits.removable, self.currency)} removed at the current mark."
        )
        self.preview.replace_cells(self._rows(before, after, self._k) if before is not None else [])
        self.ok_button.setEnabled(self.after_book is not None)

    def _rows(self, before: BookRisk, after: BookRisk | None, k: int) -> list[list[str]]:
        cur, quote = self.currency, self.quote
        position_rows: tuple[tuple[str, Callable[[PositionRisk], str]], ...] = (
            ("Isolated margin", lambda r: money(r.position.isolated_margin, cur)),
            ("Liquidation price", lambda r: quoted_price(r.liquidation_price, quote)),
            ("Distance to liquidation", lambda r: percent(r.distance_to_liquidation)),
        )
        account_rows: tuple[tuple[str, Callable[[AccountRisk], str]], ...] = (
            ("Available balance", lambda a: money(a.available_balance, cur)),
        )
        rows = [
            [title, text(before.positions[k]), text(after.positions[k]) if after is not None else ""]
            for title, text in position_rows
        ]
        rows += [
            [title, text(before.accounts[0]), text(after.accounts[0]) if after is not None else ""]
            for title, text in account_rows
        ]
        return rows

    def accept(self) -> None:
        if self.after_book is None:
            return  # OK is disabled then; nothing changes
        self.result_book = self.after_book
        super().accept()

    def preview_rows(self) -> list[list[str]]:
        """The preview as shown: [title, before, after] per row."""
        model = self.preview
        return [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]
