"""Typing into forms as a user does (keyboard only), shared by the form and dialog tests."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit

from engine.book.portfolio import Portfolio, loads_portfolio
from engine.margin.bundled import resource


def demo() -> Portfolio:
    """The bundled demo book (what desktop.app.demo_portfolio() loads), without importing the window."""
    return loads_portfolio(resource("demo", "book.json").read_text(encoding="utf-8"))


def retype(qtbot, line: QLineEdit, text: str) -> None:
    """Replace the field's text: select all, Delete, then type `text` key by key."""
    line.setFocus()
    line.selectAll()
    qtbot.keyClick(line, Qt.Key.Key_Delete)
    if text:
        qtbot.keyClicks(line, text)


def choose(qtbot, combo, text: str) -> None:
    """Pick the combo item whose text starts with `text` with the keyboard: Home, then Down until found.

    (Typing the text would use Qt's keyboard search, which joins keystrokes less than 400 ms apart.)
    """
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    for _ in range(combo.count()):
        if combo.currentText().startswith(text):
            return
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    raise AssertionError(f"no item starting with {text!r} in the combo")


def ok_button(form):
    return form.buttons.button(QDialogButtonBox.StandardButton.Ok)
