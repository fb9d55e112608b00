"""The thresholds dialog: warning and danger levels, checked as they are typed, saved only when valid."""

from __future__ import annotations

from dataclasses import asdict

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from desktop.platform.text_colours import problem_style
from engine.monitor.levels import Thresholds

FIELDS = (
    ("distance_warning", "Warning below distance to liquidation"),
    ("distance_danger", "Danger below distance to liquidation"),
    ("ratio_warning", "Warning at margin ratio"),
    ("ratio_danger", "Danger at margin ratio"),
)


def thresholds_from_setting(value: object) -> Thresholds:
    """Thresholds saved with the book, or the defaults when none (or unusable ones) were saved."""
    if isinstance(value, dict):
        try:
            return Thresholds(**{k: float(v) for k, v in value.items() if k in Thresholds.__dataclass_fields__})
        except (TypeError, ValueError):
            pass
    return Thresholds()


def thresholds_to_setting(thresholds: Thresholds) -> dict[str, float]:
    return asdict(thresholds)


class ThresholdsDialog(QDialog):
    """The thresholds, pre-filled with `current`. For an account's or a position's own thresholds, `title`
    names it and `fall_back` labels a button ("Use the account's thresholds") that accepts with `cleared` True
    (the override removed); result_thresholds is then None."""

    def __init__(
        self, current: Thresholds, parent: QWidget | None = None, title: str = "Risk thresholds", fall_back: str = ""
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.current = current
        self.result_thresholds: Thresholds | None = None
        self.cleared = False
        form = QFormLayout()
        self.boxes: dict[str, QDoubleSpinBox] = {}
        for name, label in FIELDS:
            box = QDoubleSpinBox()
            box.setRange(0.1, 99.9)
            box.setDecimals(1)
            box.setSuffix(" %")
            box.setValue(getattr(current, name) * 100)
            box.valueChanged.connect(self._check)
            form.addRow(label, box)
            self.boxes[name] = box
        self.problem = QLabel()
        self.problem.setStyleSheet(problem_style())
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.fall_back = None
        if fall_back:
            self.fall_back = self.buttons.addButton(fall_back, QDialogButtonBox.ButtonRole.ResetRole)
            self.fall_back.clicked.connect(self._clear)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self._check()

    def entered(self) -> Thresholds:
        """The thresholds as typed; ValueError (with the reason) when they do not fit together."""
        values = {name: self.boxes[name].value() / 100 for name, _ in FIELDS}
        return Thresholds(**values, hysteresis=self.current.hysteresis)

    def _check(self) -> None:
        try:
            self.entered()
        except ValueError as e:
            self.problem.setText(str(e))
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
            return
        self.problem.setText("")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)

    def _clear(self) -> None:
        self.cleared, self.result_thresholds = True, None
        super().accept()

    def accept(self) -> None:
        try:
            self.result_thresholds = self.entered()
        except ValueError:
            return  # the OK button is disabled then; nothing is saved
        super().accept()
