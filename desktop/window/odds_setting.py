"""The probability of liquidation's choices in the window: the horizon (1 h, 24 h, 7 d or one typed), the
probability at which a figure is drawn red, and the model. In Settings ▸ Probability of liquidation, saved
with the book (the saved book's setting ODDS_SETTING)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox, QWidget

from engine.book.horizon import horizon_label, read_horizon, read_threshold_percent
from engine.book.numbers import NotANumber
from engine.monitor.odds_worker import MODELS, NORMAL

if TYPE_CHECKING:
    from engine.storage.database import BookDatabase

ODDS_SETTING = "liquidation_odds"
"""The saved book's setting: {"hours": 24, "threshold": 0.05, "model": "normal"}."""
HORIZONS = (1.0, 24.0, 168.0)
"""The horizons offered in the menu, in hours (1 h, 24 h, 7 d); any other is typed (Custom…)."""


@dataclass(frozen=True)
class OddsChoice:
    """hours: the horizon (1 minute to 365 days); threshold: a fraction in (0, 1), a figure at or above it is
    drawn red; model: a key of engine.monitor.odds_worker.MODELS."""

    hours: float = 24.0
    threshold: float = 0.05
    model: str = NORMAL


def choice_from_setting(value: Any) -> OddsChoice:
    """The saved setting read back; a field that is missing or not valid (an older or edited file) keeps its
    default, the others are used."""
    value = value if isinstance(value, dict) else {}
    choice = OddsChoice()
    hours, threshold, model = value.get("hours"), value.get("threshold"), value.get("model")
    if isinstance(hours, int | float) and 1 / 60 - 1e-12 <= hours <= 365 * 24:
        choice = replace(choice, hours=float(hours))
    if isinstance(threshold, int | float) and 0 < threshold < 1:
        choice = replace(choice, threshold=float(threshold))
    if model in MODELS:
        choice = replace(choice, model=model)
    return choice


def choice_to_setting(choice: OddsChoice) -> dict[str, Any]:
    return {"hours": choice.hours, "threshold": choice.threshold, "model": choice.model}


def threshold_text(threshold: float) -> str:
    return f"{threshold * 100:g}%"


class OddsMenu(QObject):
    """The submenu; `changed` carries the new OddsChoice once it is saved (or when nothing is saved)."""

    changed = Signal(object)

    def __init__(
        self,
        parent: QWidget,
        menu: QMenu,
        choice: OddsChoice,
        saved_book: Callable[[], BookDatabase | None],
    ) -> None:
        super().__init__(parent)
        self._parent, self.choice, self._saved_book = parent, choice, saved_book
        self.menu = menu.addMenu("Probability of &liquidation")
        self.horizons = QActionGroup(self)
        for hours in HORIZONS:
            action = self._checkable(self.horizons, f"Horizon {horizon_label(hours)}", hours)
            action.triggered.connect(lambda _=False, h=hours: self.apply(replace(self.choice, hours=h)))
        self.custom = self._checkable(self.horizons, "Horizon: other…", None)
        self.custom.triggered.connect(self.ask_horizon)
        self.menu.addSeparator()
        self.threshold_action = self.menu.addAction("")
        self.threshold_action.triggered.connect(self.ask_threshold)
        self.menu.addSeparator()
        self.models = QActionGroup(self)
        for key, (title, _) in MODELS.items():
            action = self._checkable(self.models, title, key)
            action.triggered.connect(lambda _=False, k=key: self.apply(replace(self.choice, model=k)))
        self._check()

    def _checkable(self, group: QActionGroup, title: str, data: Any) -> QAction:
        action = self.menu.addAction(title)
        action.setCheckable(True)
        action.setData(data)
        group.addAction(action)
        return action

    def _check(self) -> None:
        c = self.choice
        offered = c.hours in HORIZONS
        for action in self.horizons.actions():
            action.setChecked(action.data() == c.hours if offered else action is self.custom)
        self.custom.setText("Horizon: other…" if offered else f"Horizon: other ({horizon_label(c.hours)})…")
        self.threshold_action.setText(f"Red at or above {threshold_text(c.threshold)}…")
        for action in self.models.actions():
            action.setChecked(action.data() == c.model)

    def ask_horizon(self) -> None:
        """A typed horizon ('36h', '3d', '90m'); a bad one is named in a message and nothing changes."""
        text, ok = QInputDialog.getText(
            self._parent, "Horizon", "Horizon (a number and m, h, d or w; 1 minute to 365 days):",
            text=horizon_label(self.choice.hours),
        )  # fmt: skip
        if ok:
            try:
                self.apply(replace(self.choice, hours=read_horizon(text)))
                return
            except NotANumber as e:
                QMessageBox.warning(self._parent, "Margin Watch", str(e))
        self._check()

    def ask_threshold(self) -> None:
        """The probability (a percent) at or above which a figure is drawn red."""
        text, ok = QInputDialog.getText(
            self._parent, "Probability threshold", "Draw a probability of liquidation red at or above (%):",
            text=threshold_text(self.choice.threshold),
        )  # fmt: skip
        if not ok:
            return
        try:
            self.apply(replace(self.choice, threshold=read_threshold_percent(text)))
        except NotANumber as e:
            QMessageBox.warning(self._parent, "Margin Watch", str(e))

    def apply(self, choice: OddsChoice) -> None:
        """Use a choice now and save it with the book (when there is one); when saving fails nothing changes
        and the user is told why."""
        database = self._saved_book()
        if database is not None:
            from engine.storage.database import StorageError

            try:
                database.set_setting(ODDS_SETTING, choice_to_setting(choice))
            except StorageError as e:
                QMessageBox.warning(self._parent, "Margin Watch", f"The setting was not saved:\n\n{e}")
                self._check()
                return
        self.choice = choice
        self._check()
        self.changed.emit(choice)
