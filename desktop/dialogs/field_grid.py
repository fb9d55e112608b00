"""A form's fields in a grid: each field's title, its editor, and beside it why it is refused (in red)
or a hint about it. The position and account forms lay themselves out and report their checks this way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from desktop.platform.text_colours import problem_style

HINT_STYLE = ""
"""A hint reads as ordinary text."""


class FieldGrid(QGridLayout):
    def __init__(self, editors: Mapping[str, QWidget], titles: Mapping[str, str], order: Sequence[str]) -> None:
        super().__init__()
        self.setColumnStretch(2, 1)
        self.messages: dict[str, QLabel] = {}
        """Per field, the label beside its editor."""
        for row, name in enumerate(order):
            label = QLabel(titles[name])
            label.setBuddy(editors[name])
            message = QLabel()
            message.setWordWrap(True)
            message.setMinimumWidth(280)
            self.addWidget(label, row, 0)
            self.addWidget(editors[name], row, 1)
            self.addWidget(message, row, 2)
            self.messages[name] = message

    def show_check(self, problems: Mapping[str, str], hints: Mapping[str, str]) -> None:
        """Each field's problem, else its hint, else nothing."""
        for name, label in self.messages.items():
            problem = problems.get(name)
            label.setText(problem or hints.get(name, ""))
            label.setStyleSheet(problem_style() if problem else HINT_STYLE)
