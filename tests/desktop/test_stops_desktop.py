"""Take-profit and stop-loss in the window: typed in the position form, drawn on the position chart, shown in the
positions table's Stop column (a stop beyond the liquidation price flagged everywhere, never refused)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from desktop.charts.position_chart import PositionChart
from desktop.dialogs.position_form import FORM_ORDER, PositionForm
from desktop.dialogs.position_preview import BEYOND_LIQUIDATION
from desktop.platform.text_colours import problem_style
from desktop.tables.position_columns import COLUMNS
from desktop.tables.positions_model import PositionsModel
from engine.book.formats import percent
from engine.margin.model import Book
from engine.margin.risk import evaluate_book
from engine.monitor.levels import Thresholds
from engine.monitor.ring_buffer import RingBuffer
from tests.desktop.test_position_form import fill
from tests.desktop.typing_helpers import demo, ok_button

pytestmark = pytest.mark.qt_log_ignore(
    "This plugin does not support raise", "This plugin does not support grabbing the keyboard"
)
STOP = next(i for i, c in enumerate(COLUMNS) if c.title == "Stop")
NEW = {
    "account": "Binance main",
    "symbol": "ETH/USDT:USDT",
    "side": "Long",
    "contracts": "5",
    "entry_price": "3200",
    "leverage": "20",
}


def stopped_demo():
    """The demo book with stops: its BTC long (position 0) 1% of the mark above its liquidation price, its SOL short
    (isolated, position 3) 5% beyond it, its ETH long (position 2) a take-profit only; its hedged BTC short
    (position 1), whose cross account liquidates it on a fall, a stop the liquidation does not race."""
    portfolio = demo()
    marks = portfolio.price_map()
    risk = evaluate_book(portfolio.book, marks)
    positions = list(portfolio.book.positions)
    btc, sol = risk.positions[0], risk.positions[3]
    assert (btc.position.side.value, sol.position.side.value) == ("long", "short")
    positions[0] = replace(btc.position, stop_loss=btc.liquidation_price + 0.01 * btc.mark_price)
    positions[3] = replace(sol.position, stop_loss=sol.liquidation_price * 1.05)
    positions[2] = replace(positions[2], take_profit=positions[2].entry_price * 1.5)
    positions[1] = replace(positions[1], stop_loss=100_000.0)
    book = Book(portfolio.book.accounts, tuple(positions), portfolio.book.markets)
    return book, marks


def test_the_stop_column_shows_the_stop_and_its_distance_and_flags_one_beyond_liquidation(qtmodeltester):
    book, marks = stopped_demo()
    model = PositionsModel(evaluate_book(book, marks))
    qtmodeltester.check(model, force_py=True)
    rows = {model.position_at(row): row for row in range(model.rowCount())}
    assert model.headerData(STOP, Qt.Orientation.Horizontal) == "Stop"
    first = model.index(rows[0], STOP).data()
    assert first.endswith(f"· {percent(0.01)} to liq.") and book.positions[0].symbol.split(":")[1] in first
    assert model.index(rows[3], STOP).data().endswith("· beyond liq.")
    assert model.index(rows[2], STOP).data() == ""  # a take-profit only
    assert model.index(rows[1], STOP).data() == "100,000.00 USDT"  # liquidated on a fall: no race, no distance
    model.sort(
        STOP, Qt.SortOrder.AscendingOrder
    )  # ascending: the stop beyond liquidation first, then the one 1% from it, no distance last
    assert [model.position_at(0), model.position_at(1)] == [3, 0]


def test_the_chart_draws_take_profit_and_stop_loss_and_its_caption_flags_a_stop_beyond_liquidation(qtbot):
    book, marks = stopped_demo()
    book = Book(book.accounts, (replace(book.positions[3], take_profit=1.0),), book.markets)
    risk = evaluate_book(book, marks).positions[0]
    chart = PositionChart()
    qtbot.addWidget(chart)
    history = RingBuffer(capacity=8)
    history.append(1_000.0, risk.mark_price)
    chart.show_position(risk, history, Thresholds(), ("binanceusdm", risk.position.symbol))
    assert chart.lines["stop loss"].isVisible() and chart.lines["take profit"].isVisible()
    assert chart.lines["stop loss"].value() == pytest.approx(risk.position.stop_loss)
    assert chart.lines["take profit"].value() == pytest.approx(1.0)
    assert chart.lines["stop loss"].label.format == "stop loss"
    assert "beyond liquidation: it would never fire" in chart.caption.text()
    plain = evaluate_book(
        Book(book.accounts, (replace(book.positions[0], stop_loss=None, take_profit=None),), book.markets), marks
    ).positions[0]
    chart.show_position(plain, history, Thresholds(), ("binanceusdm", plain.position.symbol))
    assert not chart.lines["stop loss"].isVisible() and not chart.lines["take profit"].isVisible()
    assert "stop" not in chart.caption.text()


def test_the_form_takes_both_prices_beside_the_others_and_saves_them(qtbot):
    portfolio = demo()
    form = PositionForm(portfolio.book, portfolio.price_map())
    qtbot.addWidget(form)
    assert FORM_ORDER.index("take_profit") == FORM_ORDER.index("isolated_margin") + 1
    fill(qtbot, form, {**NEW, "take_profit": "4000", "stop_loss": "3000"})
    assert form.check.ok, form.check.messages
    assert "before the liquidation price" in form.messages["stop_loss"].text()
    qtbot.mouseClick(ok_button(form), Qt.MouseButton.LeftButton)
    assert (form.result_position.take_profit, form.result_position.stop_loss) == (4_000, 3_000)


def test_the_form_flags_a_stop_beyond_liquidation_without_refusing_it(qtbot):
    portfolio = demo()
    form = PositionForm(portfolio.book, portfolio.price_map())
    qtbot.addWidget(form)
    fill(qtbot, form, {**NEW, "stop_loss": "100"})  # far below the 20x long's liquidation price
    assert form.check.ok and ok_button(form).isEnabled()
    assert form.messages["stop_loss"].text() == BEYOND_LIQUIDATION
    assert form.messages["stop_loss"].styleSheet() == problem_style()
    fill(qtbot, form, {"take_profit": "3000"})  # below the mark for a long: a hint
    assert form.messages["take_profit"].text().startswith("below the mark: a long's take-profit sits above it")
    assert form.check.ok


@pytest.mark.parametrize(
    ("typed", "message"),
    [("-5", "the stop-loss must be greater than 0, or leave it empty"), ("abc", "'abc' is not a number")],
)
def test_the_form_refuses_a_stop_that_is_not_a_price_beside_the_field(qtbot, typed, message):
    portfolio = demo()
    form = PositionForm(portfolio.book, portfolio.price_map())
    qtbot.addWidget(form)
    fill(qtbot, form, {**NEW, "stop_loss": typed})
    assert not form.check.ok and not ok_button(form).isEnabled()
    assert form.messages["stop_loss"].text().startswith(message)


def test_editing_shows_the_stops_the_position_holds(qtbot):
    book, marks = stopped_demo()
    form = PositionForm(book, marks, index=3)
    qtbot.addWidget(form)
    assert float(form.stop_loss.text()) == pytest.approx(book.positions[3].stop_loss)
    assert form.take_profit.text() == ""
    assert form.messages["stop_loss"].text() == BEYOND_LIQUIDATION
