"""A tick repaints the cells whose text changed, and those alone: the table's share of an idle window's CPU.

Half the cells an idle demo repainted each second read as before (the account's name, an isolated
position's liquidation price); and a range of cells signalled at once repaints one row and one column more
than asked (Qt's QTableViewPrivate::intersectedRect), so the models signal single cells.
"""

from __future__ import annotations

import collections

from PySide6.QtWidgets import QStyledItemDelegate, QTableView

from desktop.tables.text_table_model import TextTableModel
from engine.margin.model import MarginMode
from tests.desktop.test_window import demo_on_manual_prices


class _PaintCounter(QStyledItemDelegate):
    """Counts (row, column) of every cell painted, and paints it as usual."""

    def __init__(self, view: QTableView) -> None:
        super().__init__(view)
        self.painted: collections.Counter[tuple[int, int]] = collections.Counter()

    def paint(self, painter, option, index) -> None:
        self.painted[(index.row(), index.column())] += 1
        super().paint(painter, option, index)


def test_only_the_cells_whose_text_changed_are_signalled_and_repainted(qtbot):
    model = TextTableModel(["a", "b", "c", "d"], [False] * 4, [[f"{r}{c}" for c in "abcd"] for r in range(4)])
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    counter = _PaintCounter(view)
    view.setItemDelegate(counter)
    view.resize(600, 300)
    view.show()
    qtbot.waitExposed(view)
    qtbot.wait(20)
    counter.painted.clear()
    signalled = []
    model.dataChanged.connect(lambda a, b, roles=(): signalled.append((a.row(), a.column(), b.row(), b.column())))
    cells = [[f"{r}{c}" for c in "abcd"] for r in range(4)]
    cells[1][1], cells[1][2], cells[2][1] = "changed", "changed", "changed"  # a run along a row, one under it
    model.replace_cells(cells)
    qtbot.waitUntil(lambda: bool(counter.painted))
    qtbot.wait(20)
    assert sorted(signalled) == [(1, 1, 1, 1), (1, 2, 1, 2), (2, 1, 2, 1)]
    assert set(counter.painted) == {(1, 1), (1, 2), (2, 1)}  # a range (1,1)-(2,2) repainted (1..3)x(1..3)
    assert model.index(1, 2).data() == "changed"


def test_a_tick_repaints_the_numbers_that_moved_not_the_ones_that_read_the_same(qtbot):
    """An isolated position's liquidation price does not move with its mark: a new mark repaints the mark,
    the distance, the uPnL, not the liquidation price; the cells that did change show the new figures."""
    from desktop.tables.position_columns import COLUMNS

    _, store, window = demo_on_manual_prices(qtbot)
    window.pacer.stop()
    window.show()
    qtbot.waitExposed(window)
    model = window.model
    isolated = next(p for p, r in enumerate(model._rows) if r.position.margin_mode is MarginMode.ISOLATED)
    row = model.view_row_of(isolated)
    window.table.scrollTo(model.index(row, 0))
    qtbot.wait(50)
    before = list(model.row_text(isolated))
    title = {c.title: i for i, c in enumerate(COLUMNS)}
    signalled = []
    model.dataChanged.connect(lambda a, b, roles=(): signalled.append((a.row(), a.column(), b.row(), b.column())))
    r = model._rows[isolated]
    store.set_manual(("binanceusdm", r.position.symbol), r.mark_price * 1.01)
    window.refresh()
    after = model.row_text(isolated)
    cells = {(a, c) for a, c, b, d in signalled if a == row and (a, c) == (b, d)}
    assert all(a == b and c == d for a, c, b, d in signalled if a == row)  # single cells only
    changed = {(row, c) for c in range(len(COLUMNS)) if before[c] != after[c]}
    assert {(row, title["Mark"]), (row, title["uPnL"]), (row, title["To liq."])} <= changed
    assert after[title["Liq. price"]] == before[title["Liq. price"]]  # isolated: its liquidation price stays
    assert cells == changed


def test_rows_off_screen_are_signalled_in_two_ranges_that_miss_the_rows_on_screen(qtbot):
    """A thousand rows of ticks were hundreds of dataChanged a refresh: the rows off screen are now one range
    above the screen and one below; neither touches a row on screen (a range repaints one row beyond its
    last, so the row just above the screen comes cell by cell), and the rows on screen come cell by cell."""
    from desktop.app import demo_portfolio
    from desktop.tables.positions_model import PositionsModel
    from engine.margin.risk import evaluate_book

    portfolio = demo_portfolio()
    marks = portfolio.price_map()
    model = PositionsModel(evaluate_book(portfolio.book, marks))
    n = model.rowCount()
    assert n >= 7
    model.rows_on_screen = lambda: range(3, 5)
    for row in range(n):
        model.row_text(model.position_at(row))  # as painted once
    signalled = []
    model.dataChanged.connect(lambda a, b, roles=(): signalled.append((a.row(), a.column(), b.row(), b.column())))
    model.set_risk(evaluate_book(portfolio.book, {k: v * 1.01 for k, v in marks.items()}))
    ranges = [s for s in signalled if (s[0], s[1]) != (s[2], s[3])]
    singles = {(s[0], s[1]) for s in signalled if (s[0], s[1]) == (s[2], s[3])}
    from desktop.tables.position_columns import LIVE_SPANS

    assert [(top, left, bottom, right) for top, left, bottom, right in ranges] == [
        (top, left, bottom, right) for top, bottom in ((0, 1), (5, n - 1)) for left, right in LIVE_SPANS
    ]
    assert all(bottom + 1 < 3 or top > 4 for top, _, bottom, _ in ranges)  # the spill row stays off screen
    assert {row for row, _ in singles} == {2, 3, 4}  # the row above the screen, and the rows on it
    assert all(model.index(row, c).data() == model.row_text(model.position_at(row))[c] for row, c in singles)


def test_a_margin_ratio_that_moves_less_than_its_text_still_redraws_its_gauge(qtbot):
    """The gauge under the margin ratio is drawn from the number: a move too small to change "4.21%" can still
    move it a pixel, so the ratio cell is signalled whenever the ratio moved, and nothing else is."""
    from desktop.tables.accounts_model import RATIO_COLUMN, AccountsModel
    from engine.margin.risk import evaluate_book

    portfolio, _, _ = demo_on_manual_prices(qtbot)
    marks = portfolio.price_map()
    model = AccountsModel(evaluate_book(portfolio.book, marks))
    signalled = []
    model.dataChanged.connect(lambda a, b, roles=(): signalled.append((a.row(), a.column(), b.row(), b.column())))
    nudged = evaluate_book(portfolio.book, {k: v * (1 + 1e-12) for k, v in marks.items()})
    moved = [
        row
        for row, (a, b) in enumerate(zip(model._risk.accounts, nudged.accounts, strict=True))
        if a.margin_ratio != b.margin_ratio
    ]
    text_before = [model.row_text(row) for row in range(model.rowCount())]
    model.set_risk(nudged, levels=model.levels)
    assert moved and all(model.row_text(row) == text_before[row] for row in moved)
    assert sorted(signalled) == [(row, RATIO_COLUMN, row, RATIO_COLUMN) for row in moved]
