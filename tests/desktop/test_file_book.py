"""A window opened on a portfolio file asks, on close, whether to save its edits back to the file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from desktop.window.file_book import Choice, FileBook
from engine.book.portfolio import load_portfolio
from tests.desktop.test_window import demo_on_manual_prices


def window_on_a_file(qtbot, tmp_path: Path, answers: list[Choice]):
    portfolio, _, window = demo_on_manual_prices(qtbot)
    path = tmp_path / "book.json"
    from engine.book.portfolio import dumps_portfolio

    path.write_text(dumps_portfolio(portfolio), encoding="utf-8")
    asked: list[Path] = []

    def ask(_parent, where: Path) -> Choice:
        asked.append(where)
        return answers.pop(0)

    return window, path, FileBook(window, path, ask), asked


def edit(window) -> None:
    """Raise the first position's leverage by one, as the edit form would."""
    portfolio = window.portfolio
    first = portfolio.book.positions[0]
    positions = (dataclasses.replace(first, leverage=first.leverage + 1), *portfolio.book.positions[1:])
    edited = dataclasses.replace(portfolio, book=dataclasses.replace(portfolio.book, positions=positions))
    assert window.book_host.apply_portfolio(edited, "position changed")


def test_an_unchanged_book_closes_without_a_question(qtbot, tmp_path):
    window, path, _, asked = window_on_a_file(qtbot, tmp_path, [])
    before = path.read_text(encoding="utf-8")
    window.show()
    assert window.close()
    assert asked == [] and path.read_text(encoding="utf-8") == before


def test_cancel_keeps_the_window_open_and_save_writes_the_edits_back(qtbot, tmp_path):
    window, path, _, asked = window_on_a_file(qtbot, tmp_path, [Choice.CANCEL, Choice.SAVE])
    leverage = window.portfolio.book.positions[0].leverage
    edit(window)
    window.show()
    assert not window.close() and window.isVisible()
    assert load_portfolio(path).book.positions[0].leverage == leverage  # nothing written yet
    assert window.close()
    assert asked == [path, path]
    assert load_portfolio(path).book.positions[0].leverage == leverage + 1
    assert path.stat().st_mode & 0o777 == 0o600


def test_discard_leaves_the_file_as_it_was(qtbot, tmp_path):
    window, path, _, _ = window_on_a_file(qtbot, tmp_path, [Choice.DISCARD])
    before = path.read_text(encoding="utf-8")
    edit(window)
    window.show()
    assert window.close()
    assert path.read_text(encoding="utf-8") == before


def test_a_file_that_cannot_be_written_keeps_the_window_open_and_says_why(qtbot, tmp_path):
    window, path, file_book, _ = window_on_a_file(qtbot, tmp_path, [Choice.SAVE, Choice.DISCARD])
    edit(window)
    file_book.path = tmp_path / "missing-folder" / "book.json"
    window.show()
    assert not window.close()
    assert "was not saved" in window.statusBar().currentMessage()
    assert window.close()  # discarded the second time
    json.loads(path.read_text(encoding="utf-8"))  # the original file is intact


def test_the_window_opened_on_a_file_has_the_guard(qtbot, tmp_path):
    from desktop.app import WindowOptions, build_window
    from engine.book.portfolio import dumps_portfolio

    portfolio, _, _ = demo_on_manual_prices(qtbot)
    path = tmp_path / "book.json"
    path.write_text(dumps_portfolio(portfolio), encoding="utf-8")
    window = build_window(WindowOptions(book_file=str(path), data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(window)
    assert any(isinstance(child, FileBook) and child.path == path for child in window.children())
