"""Every Qt model of the desktop passes pytest-qt's model tester, in every state the window puts it in.

The models (grep QAbstractItemModel / QAbstractTableModel in desktop/): TextTableModel (the what-if and
margin previews use it as it is), PositionsModel, AccountsModel, PricesModel. Each is built on the demo
book and on an empty one, and then changed as the window changes it (new marks, a position added or
removed, a sort on every column, a filter, a typed price); the tester stays attached and checks the model
again on every signal it emits (rows, layout, reset, dataChanged), so a change announced wrongly fails too.
Two checks the tester leaves out are added: every cell's roles have the types it asks of the first cell, and
the old rows are still readable when a model says it is about to reset or re-lay itself out (the accounts
model swapped its accounts before beginResetModel(): fixed in desktop/tables).
"""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from desktop.app import demo_portfolio
from desktop.dialogs.margin_dialog import MarginDialog
from desktop.dialogs.whatif_dialog import WhatIfDialog
from desktop.tables.accounts_model import AccountsModel
from desktop.tables.position_columns import COLUMNS, MARK_COLUMN
from desktop.tables.positions_model import PositionsModel
from desktop.tables.text_table_model import TextTableModel
from desktop.window.prices_panel import MARK, PricesModel
from engine.margin.live_risk import LiveEvaluator
from engine.margin.model import Book, MarginMode
from engine.margin.risk import evaluate_book
from engine.market.prices import PriceStore, Shock
from engine.monitor.frame import RowState
from engine.monitor.levels import Level

EMPTY = Book((), ())
ORDERS = (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


ROLE_TYPES = {
    Qt.ItemDataRole.DisplayRole: (str,),
    Qt.ItemDataRole.ToolTipRole: (str,),
    Qt.ItemDataRole.FontRole: (QFont,),
    Qt.ItemDataRole.BackgroundRole: (QColor, QBrush),
    Qt.ItemDataRole.ForegroundRole: (QColor, QBrush),
}
"""What the model tester asks of the first cell's roles (it looks at index(0, 0) only)."""
ALIGNMENT_MASK = int(Qt.AlignmentFlag.AlignHorizontal_Mask | Qt.AlignmentFlag.AlignVertical_Mask)


def every_cell_answers_as_the_tester_asks(model: QAbstractItemModel) -> None:
    """The tester's type checks over every cell, not only the first, and every header section."""
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            index = model.index(row, column)
            for role, types in ROLE_TYPES.items():
                value = index.data(role)
                assert value is None or isinstance(value, types), (row, column, role, value)
            alignment = index.data(Qt.ItemDataRole.TextAlignmentRole)
            assert alignment is None or int(alignment) == int(alignment) & ALIGNMENT_MASK, (row, column)
    for column in range(model.columnCount()):
        assert isinstance(model.headerData(column, Qt.Orientation.Horizontal), str)
    for row in range(model.rowCount()):
        model.headerData(row, Qt.Orientation.Vertical)  # answered (None: the view numbers the rows)


def answers_before_every_change(model: QAbstractItemModel) -> list[str]:
    """Read every cell of the shape the model advertises whenever it says it is *about to* change: Qt's
    contract is that the old rows are still there then (a proxy, a selection or a view may read them).
    A model that swaps its data before beginResetModel() fails here, which the tester does not see.
    Returns the list of signals seen, for the test to check the change did happen."""
    seen: list[str] = []

    def read_all(signal: str) -> None:
        seen.append(signal)
        for row in range(model.rowCount()):
            for column in range(model.columnCount()):
                index = model.index(row, column)
                for role in (*ROLE_TYPES, Qt.ItemDataRole.UserRole, Qt.ItemDataRole.TextAlignmentRole):
                    model.data(index, role)  # the Python method: an error fails the test (through Qt it crashed)

    model.modelAboutToBeReset.connect(lambda: read_all("reset"))
    model.layoutAboutToBeChanged.connect(lambda *_: read_all("layout"))
    model.rowsAboutToBeRemoved.connect(lambda *_: read_all("rows removed"))
    return seen


def demo():
    portfolio = demo_portfolio()
    return portfolio.book, portfolio.price_map()


def moved(marks, factor: float):
    return {key: mark * factor for key, mark in marks.items()}


def without_last_position(book: Book) -> Book:
    return dataclasses.replace(book, positions=book.positions[:-1])


def states_for(risk, level: Level = Level.OK, stale: bool = False) -> list[RowState]:
    return [RowState(level, "STALE 21 s" if stale else "live 0.4 s", stale) for _ in risk.positions]


# -- positions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("vectorised", [False, True], ids=["scalar", "vectorised"])
def test_positions_model_through_ticks_edits_sorts_and_filters(qtmodeltester, vectorised):
    book, marks = demo()
    evaluate = (lambda b, m: LiveEvaluator(b).evaluate(m)[0]) if vectorised else evaluate_book
    refusals: list[str] = []
    model = PositionsModel(evaluate(book, marks), set_mark=lambda r, text: refusals.append(text) or None)
    qtmodeltester.check(model, force_py=True)
    every_cell_answers_as_the_tester_asks(model)
    answers_before_every_change(model)
    assert model.rowCount() == len(book.positions)
    every_cell_answers_as_the_tester_asks(model)

    risk = evaluate(book, moved(marks, 0.9))  # a tick: live cells only
    model.set_risk(risk, states_for(risk, Level.DANGER))
    model.set_risk(risk, states_for(risk, Level.DANGER, stale=True))  # the price went stale: whole rows
    for column in range(len(COLUMNS)):
        for order in ORDERS:
            model.sort(column, order)
    model.set_filter("", ["short"])
    assert 0 < model.rowCount() < model.total
    model.set_filter("", ["no such word"])
    assert model.rowCount() == 0
    every_cell_answers_as_the_tester_asks(model)
    model.set_filter("", [])
    assert model.rowCount() == model.total
    every_cell_answers_as_the_tester_asks(model)

    assert model.flags(model.index(0, MARK_COLUMN)) & Qt.ItemFlag.ItemIsEditable
    plain = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren
    assert all(model.flags(model.index(0, c)) == plain for c in range(model.columnCount()) if c != MARK_COLUMN)
    assert model.flags(QModelIndex()) == Qt.ItemFlag.NoItemFlags
    assert model.setData(model.index(0, MARK_COLUMN), "61000")
    assert refusals == ["61000"]

    model.set_risk(evaluate(without_last_position(book), marks))  # a position removed: reset
    assert model.rowCount() == len(book.positions) - 1
    every_cell_answers_as_the_tester_asks(model)
    model.set_risk(evaluate(EMPTY, {}))
    assert model.rowCount() == 0
    every_cell_answers_as_the_tester_asks(model)
    model.set_risk(evaluate(book, marks))
    assert model.rowCount() == len(book.positions)
    every_cell_answers_as_the_tester_asks(model)


def test_an_edited_position_leaving_a_filter_is_checked_too(qtmodeltester):
    book, marks = demo()
    model = PositionsModel(evaluate_book(book, marks))
    qtmodeltester.check(model, force_py=True)
    every_cell_answers_as_the_tester_asks(model)
    answers_before_every_change(model)
    model.set_filter("", ["cross"])
    crosses = model.rowCount()
    first = next(p for p in book.positions if p.margin_mode is MarginMode.CROSS and not p.hypothetical)
    index = book.positions.index(first)
    edited = dataclasses.replace(first, margin_mode=MarginMode.ISOLATED, isolated_margin=first.entry_price)
    book = dataclasses.replace(book, positions=(*book.positions[:index], edited, *book.positions[index + 1 :]))
    model.set_risk(evaluate_book(book, marks))
    assert model.rowCount() == crosses - 1
    every_cell_answers_as_the_tester_asks(model)


def test_positions_model_on_an_empty_book(qtmodeltester):
    model = PositionsModel(evaluate_book(EMPTY, {}))
    qtmodeltester.check(model, force_py=True)
    every_cell_answers_as_the_tester_asks(model)
    answers_before_every_change(model)
    model.sort(0, Qt.SortOrder.DescendingOrder)
    model.set_filter("main", ["btc"])
    assert model.rowCount() == 0
    every_cell_answers_as_the_tester_asks(model)
    book, marks = demo()
    model.set_risk(evaluate_book(book, marks))
    assert model.rowCount() == 0  # the filter still holds: no 'main' account in the demo book
    every_cell_answers_as_the_tester_asks(model)
    model.set_filter("", [])
    assert model.rowCount() == len(book.positions)
    every_cell_answers_as_the_tester_asks(model)


# -- accounts ----------------------------------------------------------------------------------------


def test_accounts_model_through_ticks_searches_and_previews(qtmodeltester):
    book, marks = demo()
    risk = evaluate_book(book, marks)
    model = AccountsModel(risk)
    qtmodeltester.check(model, force_py=True)
    changes = answers_before_every_change(model)
    every_cell_answers_as_the_tester_asks(model)
    names = [a.account.name for a in risk.accounts]
    assert model.rowCount() == len(names)
    every_cell_answers_as_the_tester_asks(model)

    later = evaluate_book(book, moved(marks, 1.05))
    model.set_risk(later, {name: -0.2 for name in names}, [Level.WARNING] * len(names))
    model.set_risk(later, dict.fromkeys(names), [Level.OK] * len(names), ["what-if · real: ok"] * len(names))
    assert model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole).startswith("what-if · real: ok")
    model.set_risk(evaluate_book(EMPTY, {}))  # accounts gone: the old rows are still read during the reset
    assert model.rowCount() == 0
    every_cell_answers_as_the_tester_asks(model)
    model.set_risk(risk)
    assert model.rowCount() == len(names)
    assert changes == ["reset", "reset"]
    every_cell_answers_as_the_tester_asks(model)


def test_accounts_model_on_an_empty_book(qtmodeltester):
    model = AccountsModel(evaluate_book(EMPTY, {}), moves={})
    qtmodeltester.check(model, force_py=True)
    every_cell_answers_as_the_tester_asks(model)
    answers_before_every_change(model)
    assert model.rowCount() == 0
    every_cell_answers_as_the_tester_asks(model)


# -- prices ------------------------------------------------------------------------------------------


def test_prices_model_through_ticks_shocks_edits_and_new_keys(qtmodeltester):
    book, marks = demo()
    clock = Clock()
    store = PriceStore(clock=clock)
    for key, mark in marks.items():
        store.set_manual(key, mark)
    keys = book.price_keys()
    model = PricesModel(store, keys, clock=clock)
    refused: list[str] = []
    model.refused.connect(refused.append)
    qtmodeltester.check(model, force_py=True)
    every_cell_answers_as_the_tester_asks(model)
    answers_before_every_change(model)
    assert model.rowCount() == len(keys)
    every_cell_answers_as_the_tester_asks(model)

    model.set_shock(Shock(per_key={keys[0]: -0.1}))
    model.set_shock(None)
    assert model.setData(model.index(0, MARK), "61,000.50")
    assert not model.setData(model.index(0, MARK), "-5")
    assert refused and "greater than 0" in refused[0]
    store.clear_manual([keys[1]])  # no price at all for this key now
    clock.now += 60
    model.refresh()
    model.set_keys(keys[:-1])  # a symbol left the book: reset
    assert model.rowCount() == len(keys) - 1
    every_cell_answers_as_the_tester_asks(model)
    model.set_keys([])
    assert model.rowCount() == 0
    every_cell_answers_as_the_tester_asks(model)
    model.set_keys(keys)
    assert model.rowCount() == len(keys)
    every_cell_answers_as_the_tester_asks(model)


def test_prices_model_on_an_empty_book(qtmodeltester):
    model = PricesModel(PriceStore(), [])
    qtmodeltester.check(model, force_py=True)
    every_cell_answers_as_the_tester_asks(model)
    answers_before_every_change(model)
    model.refresh()
    assert model.rowCount() == 0
    every_cell_answers_as_the_tester_asks(model)


# -- the previews (TextTableModel as it is) ----------------------------------------------------------


def test_text_table_model_grows_shrinks_and_changes(qtmodeltester):
    model = TextTableModel(["", "Before", "After"], [False, True, True], [])
    qtmodeltester.check(model, force_py=True)
    every_cell_answers_as_the_tester_asks(model)
    answers_before_every_change(model)
    model.replace_cells([["Equity", "1.00 USDT", "2.00 USDT"], ["Margin", "3.00 USDT", "4.00 USDT"]])
    model.replace_cells([["Equity", "1.00 USDT", "2.50 USDT"], ["Margin", "3.00 USDT", "4.00 USDT"]])
    model.replace_cells([["Equity", "1.00 USDT", "2.50 USDT"]])
    model.replace_cells([])
    assert model.rowCount() == 0
    every_cell_answers_as_the_tester_asks(model)


def test_the_what_if_preview_as_the_user_types(qtbot, qtmodeltester):
    book, marks = demo()
    dialog = WhatIfDialog(book, marks, index=2)
    qtbot.addWidget(dialog)
    qtmodeltester.check(dialog.preview, force_py=True)
    every_cell_answers_as_the_tester_asks(dialog.preview)
    answers_before_every_change(dialog.preview)
    edit = dialog.edits["contracts"]
    qtbot.keyClicks(edit, "4")
    assert dialog.preview.rowCount() > 0
    every_cell_answers_as_the_tester_asks(dialog.preview)
    edit.selectAll()
    qtbot.keyClicks(edit, "x")  # not a number: the preview empties, the field says why
    edit.selectAll()
    qtbot.keyClicks(edit, "40")
    assert dialog.preview.rowCount() > 0
    every_cell_answers_as_the_tester_asks(dialog.preview)


def test_the_margin_preview_as_the_user_types(qtbot, qtmodeltester):
    book, marks = demo()
    isolated = next(i for i, p in enumerate(book.positions) if p.margin_mode is MarginMode.ISOLATED)
    dialog = MarginDialog(book, marks, isolated)
    qtbot.addWidget(dialog)
    qtmodeltester.check(dialog.preview, force_py=True)
    every_cell_answers_as_the_tester_asks(dialog.preview)
    answers_before_every_change(dialog.preview)
    qtbot.keyClicks(dialog.amount, "100")
    assert dialog.preview.rowCount() > 0
    every_cell_answers_as_the_tester_asks(dialog.preview)
    dialog.amount.selectAll()
    qtbot.keyClicks(dialog.amount, "-")


def test_the_tables_say_which_rules_priced_a_row(qtmodeltester):
    """A generic-profile account is an estimate in both tables; a Bybit classic account says it is classic."""
    from dataclasses import replace

    from desktop.tables.accounts_model import COLUMNS as ACCOUNT_COLUMNS
    from engine.margin.model import AccountType

    book, marks = demo()
    accounts = list(book.accounts)
    bybit = next(i for i, a in enumerate(accounts) if a.exchange == "bybit")
    accounts[bybit] = replace(accounts[bybit], account_type=AccountType.CLASSIC)
    binance = accounts[0]
    accounts[0] = replace(binance, exchange="bingx")
    markets = {(("bingx" if k[0] == binance.exchange else k[0]), k[1]): m for k, m in book.markets.items()}
    marks = {(("bingx" if k[0] == binance.exchange else k[0]), k[1]): v for k, v in marks.items()}
    risk = evaluate_book(Book(tuple(accounts), book.positions, markets), marks)
    positions = PositionsModel(risk)
    qtmodeltester.check(positions, force_py=True)
    column = next(i for i, c in enumerate(COLUMNS) if c.title == "Exchange")
    shown = {positions.index(row, column).data() for row in range(positions.rowCount())}
    assert {"bingx (estimate)", "bybit (classic)"} <= shown
    table = AccountsModel(risk)
    column = next(i for i, (title, _) in enumerate(ACCOUNT_COLUMNS) if title == "Exchange")
    assert table.index(0, column).data() == "bingx (generic estimate)"
    assert table.index(bybit, column).data() == "Bybit (classic account)"


def test_a_synced_position_shows_the_exchanges_liquidation_price_and_the_gap(qtmodeltester):
    from desktop.tables.position_columns import COLUMNS as SHOWN
    from desktop.tables.position_columns import SYMBOL_COLUMN
    from engine.book.portfolio import parse_portfolio

    column = next(i for i, c in enumerate(SHOWN) if c.title == "Exchange liq.")
    common = {"side": "long", "margin_mode": "cross", "leverage": 10}
    book = parse_portfolio(
        {
            "accounts": [
                {"name": "main", "exchange": "binanceusdm", "wallet_balance": 10_000},
                {"name": "typed", "exchange": "binanceusdm", "wallet_balance": 1_000},
            ],
            "positions": [
                {
                    **common,
                    "account": "main",
                    "symbol": "BTC/USDT:USDT",
                    "contracts": 0.5,
                    "entry_price": 60_000,
                    "synced_at": 1_796_000_000,
                    "exchange_liquidation_price": 40_500,
                },
                {**common, "account": "typed", "symbol": "ETH/USDT:USDT", "contracts": 1, "entry_price": 3_000},
            ],
        }
    ).book
    marks = {("binanceusdm", "BTC/USDT:USDT"): 61_000.5, ("binanceusdm", "ETH/USDT:USDT"): 3_050.25}
    model = PositionsModel(evaluate_book(book, marks))
    qtmodeltester.check(model, force_py=True)
    row = {model.data(model.index(r, SYMBOL_COLUMN), Qt.ItemDataRole.DisplayRole): r for r in range(2)}
    # Ours: 10,000 + 0.5 (P - 60,000) = 0.5 P x 0.004 (bracket 1) -> 20,000 / 0.498 = 40,160.64 USDT.
    btc = model.index(row["BTC/USDT:USDT"], column)
    assert model.data(btc, Qt.ItemDataRole.DisplayRole) == "40,500.00 USDT (-339.36) · check"  # > 305.00 = 0.5%
    assert model.data(model.index(row["ETH/USDT:USDT"], column), Qt.ItemDataRole.DisplayRole) == ""
    marks[("binanceusdm", "BTC/USDT:USDT")] = 70_000.0  # 0.5% of this mark is 350: within the tolerance
    model.set_risk(evaluate_book(book, marks))
    assert model.data(btc, Qt.ItemDataRole.DisplayRole) == "40,500.00 USDT (-339.36)"


def test_upnl_and_roe_are_green_or_red_by_sign_unless_the_row_has_a_colour_of_its_own(qtmodeltester):
    """On an uncoloured row a gain reads green and a loss red (in the theme's readable shades); a tinted row
    keeps its level's text colour, and a stale row is muted throughout, signs included."""
    from PySide6.QtGui import QGuiApplication

    from desktop.platform.text_colours import muted_colour, sign_colour
    from desktop.tables.position_columns import LEVEL_FOREGROUND, ROE_COLUMN, UPNL_COLUMN

    book, marks = demo()
    risk = evaluate_book(book, marks)
    n = len(risk.positions)
    states = [RowState()] * n
    states[1] = RowState(level=Level.WARNING)
    states[2] = RowState(stale=True)
    model = PositionsModel(risk, states)
    qtmodeltester.check(model, force_py=True)
    palette = QGuiApplication.palette()
    for p, r in enumerate(risk.positions):
        row = model.view_row_of(p)
        upnl = model.index(row, UPNL_COLUMN).data(Qt.ItemDataRole.ForegroundRole)
        roe = model.index(row, ROE_COLUMN).data(Qt.ItemDataRole.ForegroundRole)
        if p == 1:
            assert upnl == roe == LEVEL_FOREGROUND[Level.WARNING]
        elif p == 2:
            assert upnl == roe == muted_colour(palette)
        elif r.unrealized_pnl != 0:
            assert upnl == sign_colour(1 if r.unrealized_pnl > 0 else -1, palette)
            assert roe == sign_colour(1 if r.roe > 0 else -1, palette)
    gains = [r.unrealized_pnl > 0 for p, r in enumerate(risk.positions) if p > 2]
    assert any(gains) and not all(gains)  # the demo book has both, so both colours were checked
