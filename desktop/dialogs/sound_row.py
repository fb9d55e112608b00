"""The notification dialog's sound row: "Sound: off / danger and liquidated / every alert", a "Play test sound"
button, and how the sound plays (the player, or why a player failed and what plays instead).

A choice applies at once and is saved with the book; one that cannot be saved says why in the row and the
box goes back to the choice in force.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget


class SoundChoice(Protocol):
    """What the row edits (desktop.window.sound_setting.SoundSetting)."""

    choices: Sequence[tuple[str, str]]

    @property
    def choice(self) -> str: ...
    def set_choice(self, key: str) -> str | None: ...
    def play_test(self) -> str: ...
    def state(self) -> str: ...


class SoundRow(QWidget):
    """The box (`box`, its items' data the choices' keys), the test button (`test_button`) and the state line
    (`note`); refresh() reads the sound's state again (the dialog's poll)."""

    def __init__(self, sound: SoundChoice, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sound = sound
        self.box = QComboBox()
        for key, label in sound.choices:
            self.box.addItem(label, key)
        self.box.setToolTip("Which new alerts play a sound in this window; saved with the book")
        self.test_button = QPushButton("Play test sound")
        self.note = QLabel()
        self._shown_state = ""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Sound:"))
        layout.addWidget(self.box)
        layout.addWidget(self.test_button)
        layout.addWidget(self.note, 1)
        self._show_choice()
        self.box.currentIndexChanged.connect(self._chosen)
        self.test_button.clicked.connect(self._test)
        self.refresh()

    def _show_choice(self) -> None:
        self.box.blockSignals(True)
        self.box.setCurrentIndex(max(0, self.box.findData(self.sound.choice)))
        self.box.blockSignals(False)

    @Slot(int)
    def _chosen(self, index: int) -> None:
        problem = self.sound.set_choice(str(self.box.itemData(index)))
        if problem:
            self._show_choice()
            self.note.setText(f"Sound setting not saved: {problem}")
            self.note.setStyleSheet("color: #b00020")
            return
        self.refresh()

    @Slot()
    def _test(self) -> None:
        played = self.sound.play_test()
        self.note.setStyleSheet("")
        self.note.setText(f"Test sound played with {played}")

    @Slot()
    def refresh(self, force: bool = True) -> None:
        """Show how the sound plays; with force False only when that changed (the dialog's poll: a player's
        failure, found after a test, replaces the test's line)."""
        state = self.sound.state()
        if force or state != self._shown_state:
            self._shown_state = state
            self.note.setStyleSheet("")
            self.note.setText(f"Sound {state}")
