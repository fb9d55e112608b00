"""The funding-rate dialog: type one (exchange, symbol)'s funding rate (% per interval, the interval in hours
optional), for working offline or where the exchange gives none; or remove the one typed before.

The typed text is read as it is typed (engine.book.typed_funding.read_typed_rate: the portfolio file's bounds,
-100% < rate < 100%, 1 minute <= interval <= 24 hours); the reason for a refusal is shown under the fields
and Save stays disabled until both read. The rate in use and where it comes from are said above the fields,
with the rule that a fresh rate from the exchange wins over a typed one.
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from desktop.platform.text_colours import problem_style
from engine.book.funding_fields import FileFunding
from engine.book.numbers import number_text
from engine.book.typed_funding import FundingRefused, read_typed_rate
from engine.funding.rates import FundingRate, RateSource, venue_funding
from engine.funding.text import rate_text
from engine.margin.model import PriceKey


def in_use_text(rate: FundingRate | None, now: float) -> str:
    """'In use: 0.0100%/8h from the exchange', 'In use: 0.0100%/8h · typed' (· file, · stale …); or none."""
    if rate is None:
        return "In use: none (no rate from the exchange, typed or in the file)"
    text = f"In use: {rate_text(rate, now)}"
    return text + " from the exchange" if rate.source is RateSource.EXCHANGE else text


class FundingRateDialog(QDialog):
    """Type (or remove) the funding rate of `key`. shown: the rate in use now (None: none); typed: the rate typed
    before (None: none). After exec(): `outcome` is the FileFunding to keep (Save), or None with `removed` True
    (Remove typed rate), or None with `removed` False (Cancel)."""

    def __init__(
        self,
        key: PriceKey,
        shown: FundingRate | None,
        typed: FileFunding | None,
        now: float,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.key = key
        self.outcome: FileFunding | None = None
        self.removed = False
        self.setWindowTitle(f"Funding rate — {key[1]} on {key[0]}")
        venue = venue_funding(key[0])
        self.in_use = QLabel(in_use_text(shown, now))
        self.in_use.setObjectName("funding-in-use")
        rule = QLabel("A rate from the exchange wins over a typed one while it is fresh (under two intervals old).")
        rule.setWordWrap(True)
        self.rate = QLineEdit(number_text(typed.rate * 100) if typed else "")
        self.rate.setObjectName("funding-rate")
        self.rate.setPlaceholderText("0.01 (positive: longs pay shorts)")
        self.hours = QLineEdit(number_text(typed.interval_hours) if typed and typed.interval_hours else "")
        self.hours.setObjectName("funding-interval")
        self.hours.setPlaceholderText(f"{venue.interval_hours:g} (the venue's)")
        self.problem = QLabel()
        self.problem.setObjectName("funding-problem")
        self.problem.setStyleSheet(problem_style())
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.remove_button = self.buttons.addButton("Remove typed rate", QDialogButtonBox.ButtonRole.DestructiveRole)
        self.remove_button.setEnabled(typed is not None)
        form = QFormLayout()
        form.addRow("Rate (% per interval)", self.rate)
        form.addRow("Interval (hours)", self.hours)
        layout = QVBoxLayout(self)
        layout.addWidget(self.in_use)
        layout.addWidget(rule)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.rate.textChanged.connect(self._read)
        self.hours.textChanged.connect(self._read)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        self.remove_button.clicked.connect(self._remove)
        self._read()

    @Slot()
    def _read(self) -> FileFunding | None:
        """Read the fields as typed: the problem shown (once something is typed) and Save enabled accordingly."""
        try:
            entry = read_typed_rate(self.rate.text(), self.hours.text())
        except FundingRefused as e:
            typed_anything = bool(self.rate.text().strip() or self.hours.text().strip())
            self.problem.setText(f"{self.key[1]}: {e}; nothing is changed" if typed_anything else "")
            self.problem.setVisible(typed_anything)
            self.save_button.setEnabled(False)
            return None
        self.problem.hide()
        self.save_button.setEnabled(True)
        return entry

    @Slot()
    def _save(self) -> None:
        entry = self._read()
        if entry is not None:
            self.outcome = entry
            self.accept()

    @Slot()
    def _remove(self) -> None:
        self.removed = True
        self.accept()
