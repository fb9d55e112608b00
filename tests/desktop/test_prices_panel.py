"""The prices dock: typed manual prices (and refused ones), Back to live, staleness, and the shock preview."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt
from PySide6.QtWidgets import QLineEdit

from desktop.tables.position_columns import quoted
from desktop.window.prices_panel import MARK, SHOCKED, SOURCE, SYMBOL, PricesModel, PricesPanel, parse_price
from engine.market.prices import PriceSource, PriceStore, Shock, Tick

BTC = ("binanceusdm", "BTC/USDT:USDT")
ETH = ("binanceusdm", "ETH/USDT:USDT")
SOL = ("bybit", "SOL/USDT:USDT")
KEYS = [BTC, ETH, SOL]
MARKS = {BTC: 92480.5, ETH: 3150.25, SOL: 126.95}


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock) -> PriceStore:
    store = PriceStore(clock=clock)
    store.publish([Tick(key, mark) for key, mark in MARKS.items()])
    return store


@pytest.fixture
def panel(qtbot, store, clock) -> PricesPanel:
    panel = PricesPanel(store, KEYS, stale_after=15.0, clock=clock)
    qtbot.addWidget(panel)
    panel.resize(900, 400)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def cell(panel: PricesPanel, key, column: int) -> str:
    return panel.model.index(KEYS.index(key), column).data()


def type_into_mark(qtbot, panel: PricesPanel, key, text: str) -> None:
    """Open the Mark cell's editor as a double-click or F2 would, type, and press Enter."""
    index = panel.model.index(KEYS.index(key), MARK)
    panel.view.setCurrentIndex(index)
    panel.view.edit(index)
    editor = panel.view.indexWidget(index)
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    if text:
        qtbot.keyClicks(editor, text)
    else:
        qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits on the next turn of the event loop
    qtbot.waitUntil(lambda: panel.view.indexWidget(index) is None)


def select(panel: PricesPanel, *keys) -> None:
    """Select these rows as one change, as a click (and ctrl-clicks) would."""
    selection = QItemSelection()
    for key in keys:
        row = KEYS.index(key)
        selection.select(panel.model.index(row, 0), panel.model.index(row, panel.model.columnCount() - 1))
    panel.view.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)


def test_prices_model_passes_qt_model_tester(qtbot, qtmodeltester, store, clock):
    model = PricesModel(store, KEYS, clock=clock)
    model.set_shock(Shock(per_key={BTC: -0.1}))
    store.set_manual(ETH, 3000.0)
    clock.now += 30
    model.refresh()
    qtmodeltester.check(model, force_py=True)


def test_each_price_shows_its_unit_and_its_live_source_with_age(panel, clock):
    clock.now += 0.4
    panel.refresh()
    assert cell(panel, BTC, MARK) == "92,480.50 USDT"
    assert cell(panel, BTC, SOURCE) == "LIVE 0.4 s"
    assert cell(panel, BTC, SHOCKED) == ""
    assert not panel.banner.isVisible()


def test_typing_a_price_sets_a_manual_price_and_the_source_says_manual(qtbot, panel, store):
    with qtbot.waitSignal(panel.manual_changed) as changed:
        type_into_mark(qtbot, panel, ETH, "3,000.5")
    assert changed.args == [[ETH]]
    quote = store.quote(ETH)
    assert quote.source is PriceSource.MANUAL and quote.mark == 3000.5
    assert cell(panel, ETH, MARK) == "3,000.50 USDT"
    assert cell(panel, ETH, SOURCE) == "MANUAL"
    assert not panel.message.isVisible()
    assert store.quote(BTC).source is PriceSource.LIVE  # only the edited symbol


@pytest.mark.parametrize("typed", ["abc", "-5", "0", "nan", "inf", "1e999", "1,5", ""])
def test_a_bad_price_is_refused_in_words_and_the_store_is_untouched(qtbot, panel, store, typed):
    before = store.quote(BTC)
    type_into_mark(qtbot, panel, BTC, typed)
    assert store.quote(BTC) is before
    assert panel.message.isVisible()
    assert "BTC/USDT:USDT" in panel.message.text() and "not changed" in panel.message.text()
    assert cell(panel, BTC, SOURCE).startswith("LIVE")
    type_into_mark(qtbot, panel, BTC, "90000")  # a good one afterwards clears the message
    assert store.quote(BTC).mark == 90000 and not panel.message.isVisible()


def test_set_data_refuses_without_raising(panel, store):
    index = panel.model.index(KEYS.index(SOL), MARK)
    for value in ("abc", -5, 0, float("nan"), float("inf"), True):
        assert panel.model.setData(index, value, Qt.ItemDataRole.EditRole) is False
    assert store.quote(SOL).source is PriceSource.LIVE
    assert panel.model.setData(index, "130 USDT", Qt.ItemDataRole.EditRole) is True
    assert store.quote(SOL).mark == 130.0
    symbol_cell = panel.model.index(KEYS.index(SOL), SYMBOL)
    assert panel.model.setData(symbol_cell, "XRP", Qt.ItemDataRole.EditRole) is False
    assert not symbol_cell.flags() & Qt.ItemFlag.ItemIsEditable


def test_parse_price_messages_say_why():
    assert parse_price("61,000.50 USDT", "BTC/USDT:USDT") == 61000.5
    assert parse_price(" 0.000123 ", "PEPE/USDT:USDT") == 0.000123
    with pytest.raises(ValueError, match="is not a number"):
        parse_price("abc", "BTC/USDT:USDT")
    with pytest.raises(ValueError, match="greater than 0"):
        parse_price("-5", "BTC/USDT:USDT")
    with pytest.raises(ValueError, match="too large"):
        parse_price("1e999", "BTC/USDT:USDT")


def test_back_to_live_clears_the_manual_price_of_the_selected_keys(qtbot, panel, store, clock):
    store.publish([Tick(ETH, 3200.0)])  # the feed keeps going under the manual price
    store.set_manual(ETH, 3000.0)
    store.set_manual(SOL, 120.0)
    panel.refresh()
    select(panel, BTC)
    assert not panel.back_to_live.isEnabled() and not panel.back_button.isEnabled()
    select(panel, BTC, ETH)
    assert panel.back_to_live.isEnabled() and panel.back_button.isEnabled()
    assert panel.back_to_live in panel.view.actions()  # the context menu offers it
    assert panel.view.contextMenuPolicy() is Qt.ContextMenuPolicy.ActionsContextMenu
    with qtbot.waitSignal(panel.manual_changed) as changed:
        qtbot.mouseClick(panel.back_button, Qt.MouseButton.LeftButton)
    assert changed.args == [[ETH]]
    assert store.quote(ETH).source is PriceSource.LIVE and store.quote(ETH).mark == 3200.0
    assert store.quote(SOL).source is PriceSource.MANUAL  # not selected
    assert cell(panel, ETH, SOURCE).startswith("LIVE")
    assert not panel.back_to_live.isEnabled()


def test_a_live_price_older_than_stale_after_turns_its_row_grey_italic_and_stale(panel, store, clock):
    clock.now += 20.0
    store.publish([Tick(ETH, 3151.0)])
    panel.refresh()
    assert cell(panel, BTC, SOURCE) == "STALE 20.0 s"
    index = panel.model.index(KEYS.index(BTC), SYMBOL)
    assert index.data(Qt.ItemDataRole.FontRole).italic()
    assert index.data(Qt.ItemDataRole.ForegroundRole) is not None
    assert cell(panel, ETH, SOURCE) == "LIVE 0.0 s"
    assert panel.model.index(KEYS.index(ETH), SYMBOL).data(Qt.ItemDataRole.FontRole) is None


def test_simulated_and_missing_prices_say_so(qtbot, store, clock):
    store.publish([Tick(ETH, 3100.0)], PriceSource.SIMULATED)
    doge = ("binanceusdm", "DOGE/USDT:USDT")
    panel = PricesPanel(store, [ETH, doge], clock=clock)
    qtbot.addWidget(panel)
    clock.now += 1.5
    panel.refresh()
    assert panel.model.index(0, SOURCE).data() == "SIMULATED 1.5 s"
    assert panel.model.index(1, SOURCE).data() == "MISSING"
    assert panel.model.index(1, MARK).data() == "none"


def test_refresh_signals_only_the_rows_that_changed(qtbot, panel, store):
    store.set_manual(BTC, 90000.0)
    store.set_manual(SOL, 125.0)
    panel.refresh()
    changed = []
    panel.model.dataChanged.connect(lambda top, bottom, *_: changed.append((top.row(), bottom.row())))
    resets = []
    panel.model.modelReset.connect(lambda: resets.append(True))
    store.publish([Tick(ETH, 3300.0)])
    panel.refresh()
    assert changed == [(1, 1)] and not resets
    changed.clear()
    panel.refresh()
    assert changed == []


def test_a_refresh_does_not_clobber_the_cell_being_edited(qtbot, panel, store, clock):
    index = panel.model.index(KEYS.index(BTC), MARK)
    panel.view.setCurrentIndex(index)
    panel.view.edit(index)
    editor = panel.view.indexWidget(index)
    editor.selectAll()
    qtbot.keyClicks(editor, "95")
    clock.now += 0.5
    store.publish([Tick(BTC, 93000.0)])
    panel.refresh()
    panel.model.dataChanged.emit(index, index)  # even a single-cell change leaves the typing alone
    assert editor.text() == "95"
    qtbot.keyClicks(editor, "000")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: store.quote(BTC).source is PriceSource.MANUAL)
    assert store.quote(BTC).mark == 95000


def test_enter_on_an_untouched_price_keeps_it_live(qtbot, panel, store):
    index = panel.model.index(KEYS.index(BTC), MARK)
    panel.view.edit(index)
    editor = panel.view.indexWidget(index)
    assert editor.text() == "92480.5"
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.view.indexWidget(index) is None)
    assert store.quote(BTC).source is PriceSource.LIVE


def test_moving_the_slider_previews_a_shock_on_all_marks(qtbot, panel):
    shocks = []
    panel.shock_changed.connect(shocks.append)
    panel.slider.setFocus()
    for _ in range(10):
        qtbot.keyClick(panel.slider, Qt.Key.Key_Left)
    assert panel.slider.value() == -10 and panel.spin.value() == -10
    assert len(shocks) == 10 and shocks[-1] == Shock(all_symbols=-0.1)
    assert panel.shock() == Shock(all_symbols=-0.1)
    for key, mark in MARKS.items():
        row = KEYS.index(key)
        assert cell(panel, key, SOURCE).startswith("SHOCKED")
        assert panel.model.index(row, SHOCKED).data(Qt.ItemDataRole.UserRole) == pytest.approx(mark * 0.9)
        assert cell(panel, key, SHOCKED) == quoted(mark * 0.9, key[1])
        assert cell(panel, key, MARK) == quoted(mark, key[1])  # the mark itself is not touched
    assert panel.banner.isVisible()
    assert panel.banner.text() == "Preview: all marks -10.0% — nothing is saved"


def test_the_slider_emits_once_per_step_and_the_spin_box_follows(qtbot, panel):
    shocks = []
    panel.shock_changed.connect(shocks.append)
    panel.slider.setValue(-10)
    panel.slider.setValue(25)
    assert shocks == [Shock(all_symbols=-0.1), Shock(all_symbols=0.25)]
    assert panel.spin.value() == 25


def test_typing_into_the_spin_box_moves_the_slider_and_applies_on_enter(qtbot, panel):
    shocks = []
    panel.shock_changed.connect(shocks.append)
    panel.spin.setFocus()
    panel.spin.selectAll()
    qtbot.keyClicks(panel.spin.lineEdit(), "12.5")
    assert shocks == []  # nothing while typing
    qtbot.keyClick(panel.spin.lineEdit(), Qt.Key.Key_Return)
    assert shocks == [Shock(all_symbols=0.125)]
    assert panel.slider.value() == 12
    assert panel.banner.text() == "Preview: all marks +12.5% — nothing is saved"


def test_the_selected_symbol_scope_gives_a_per_key_shock_that_follows_the_selection(qtbot, panel):
    panel.scope.setCurrentText("Selected symbol")
    panel.slider.setValue(-20)
    assert panel.shock() is None  # nothing selected yet
    assert "Select a symbol" in panel.banner.text()
    with qtbot.waitSignal(panel.shock_changed) as emitted:
        qtbot.mouseClick(
            panel.view.viewport(),
            Qt.MouseButton.LeftButton,
            pos=panel.view.visualRect(panel.model.index(KEYS.index(ETH), SYMBOL)).center(),
        )
    assert emitted.args == [Shock(per_key={ETH: -0.2})]
    assert cell(panel, ETH, SOURCE).startswith("SHOCKED")
    assert cell(panel, ETH, SHOCKED) == quoted(MARKS[ETH] * 0.8, ETH[1])
    assert cell(panel, BTC, SOURCE).startswith("LIVE") and cell(panel, BTC, SHOCKED) == ""
    assert panel.banner.text() == "Preview: ETH/USDT:USDT on binanceusdm -20.0% — nothing is saved"
    with qtbot.waitSignal(panel.shock_changed) as emitted:
        select(panel, SOL)
    assert emitted.args == [Shock(per_key={SOL: -0.2})]
    with qtbot.waitSignal(panel.shock_changed) as emitted:
        panel.scope.setCurrentText("All symbols")
    assert emitted.args == [Shock(all_symbols=-0.2)]


def test_reset_emits_none_and_clears_the_preview(qtbot, panel):
    panel.slider.setValue(-10)
    with qtbot.waitSignal(panel.shock_changed) as emitted:
        qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)
    assert emitted.args == [None]
    assert panel.shock() is None and panel.slider.value() == 0 and panel.spin.value() == 0
    assert not panel.banner.isVisible()
    assert all(cell(panel, key, SHOCKED) == "" for key in KEYS)
    assert cell(panel, BTC, SOURCE).startswith("LIVE")


def test_set_keys_rebuilds_the_rows_and_drops_a_shock_on_a_vanished_selection(qtbot, panel):
    panel.scope.setCurrentText("Selected symbol")
    select(panel, SOL)
    panel.slider.setValue(5)
    assert panel.shock() == Shock(per_key={SOL: 0.05})
    with qtbot.waitSignal(panel.shock_changed) as emitted:
        panel.set_keys([BTC, ETH])
    assert emitted.args == [None]
    assert panel.model.rowCount(QModelIndex()) == 2
    assert [panel.model.index(r, SYMBOL).data() for r in range(2)] == ["BTC/USDT:USDT", "ETH/USDT:USDT"]


@pytest.mark.parametrize(
    ("typed", "fraction", "slider"), [("99", 0.99, 50), ("-99.99", -0.9999, -50), ("250", 2.5, 50)]
)
def test_a_typed_shock_beyond_the_sliders_reach_is_the_shock_typed(qtbot, panel, typed, fraction, slider):
    """Typing 99 gave a 9% shock (the spin box kept the 9 that fitted the slider's ±50)."""
    shocks = []
    panel.shock_changed.connect(shocks.append)
    panel.spin.setFocus()
    panel.spin.selectAll()
    qtbot.keyClicks(panel.spin.lineEdit(), typed)
    qtbot.keyClick(panel.spin.lineEdit(), Qt.Key.Key_Return)
    assert shocks == [Shock(all_symbols=fraction)]
    assert panel.slider.value() == slider  # at its end, the figure in the spin box
