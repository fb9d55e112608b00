"""The what-if's size and trade price as typed, read through the engine: the price on the market's tick, the size
in contracts, the quote currency or % of the available balance, made contracts on the market's lot.

The engine rounds and converts (engine.book.increments, engine.book.order_size); this module only holds the
widgets (the size field with its unit selector, the price field) and says beside each field what the engine
made of it: 'rounded to 0.1 tick: 61234.6 USDT', 'tick unknown', '= 0.082 contracts, rounded to lot 0.001'. A
price outside the bounds of an entry price (engine.book.number_bounds) is refused beside the price whatever the
size's unit: 'the trade price is out of range: at most 1e+12 (got 1e+13)'.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from PySide6.QtWidgets import QComboBox

from desktop.dialogs.whatif_fields import InputProblem, TradeFields, parse_positive
from engine.book.increments import round_to_tick, step_text
from engine.book.number_bounds import price_problem
from engine.book.order_size import SIZE_UNITS, OrderSize, SizeRefused, SizeUnit, order_size
from engine.book.whatif import account_book
from engine.margin.model import Book, MarketSpec, PriceKey, quote_currency_of
from engine.margin.risk import MissingPriceError, evaluate_book

UNIT_TITLES: Mapping[SizeUnit, str] = {"contracts": "contracts", "quote": "quote", "percent": "% of available"}
"""The selector's items; 'quote' shows the market's quote currency ('USDT', 'USD')."""


def available_balance(book: Book, account: str, marks: Mapping[PriceKey, float]) -> float:
    """The account's available balance before the trade (settlement currency) at these marks.

    Raises MissingPriceError when a symbol the account holds has no mark."""
    return evaluate_book(account_book(book, account), marks).accounts[0].available_balance


class OrderFields:
    """The size (with its unit selector, object name 'size_unit') and trade price rows of a TradeFields grid.

    After read(): price is the trade price on the tick (None while the field has a problem), size the engine's
    OrderSize (None likewise). on_change is called when the unit changes."""

    def __init__(self, fields: TradeFields, on_change: Callable[[], None]) -> None:
        self.fields = fields
        self.unit = QComboBox()
        self.unit.setObjectName("size_unit")
        for unit in SIZE_UNITS:
            self.unit.addItem(UNIT_TITLES[unit], unit)
        self.size_edit = fields.add_edit("contracts", "Size", beside=self.unit)
        self.price_edit = fields.add_edit("price", "Trade price")
        self.unit.currentIndexChanged.connect(on_change)
        self._unit_before_close: int | None = None
        self.price: float | None = None
        self.size: OrderSize | None = None
        self.held: float | None = None

    def size_unit(self) -> SizeUnit:
        """The unit the size is typed in."""
        return self.unit.currentData()

    def read(
        self,
        problems: dict[str, str],
        market: MarketSpec | None,
        leverage: float,
        available: Callable[[], float],
        currency: str,
        held: float | None = None,
    ) -> tuple[float, float]:
        """(contracts, trade price) as the order would go out, NaN for a field with a problem (put in `problems`
        under 'contracts' or 'price'); sets the notes beside both fields. leverage: the trade's (NaN when not
        known yet); available: the account's available balance (settlement currency `currency`), asked only for
        a size in percent; held: the contracts of the position a reduce trades (a percent is then of them:
        '% of position')."""
        self._follow_the_field()
        if market is not None:
            self.unit.setItemText(SIZE_UNITS.index("quote"), quote_currency_of(market.symbol) or "quote")
        self.held = held
        self.unit.setItemText(SIZE_UNITS.index("percent"), "% of position" if held is not None else "% of available")
        price = self._price(problems, market)
        return self._contracts(problems, market, price, leverage, available, currency), price

    def _follow_the_field(self) -> None:
        """A disabled size field (a close fills in the contracts held) is in contracts; the unit comes back after."""
        enabled = self.size_edit.isEnabled()
        self.unit.blockSignals(True)
        if not enabled and self._unit_before_close is None:
            self._unit_before_close = self.unit.currentIndex()
            self.unit.setCurrentIndex(SIZE_UNITS.index("contracts"))
        elif enabled and self._unit_before_close is not None:
            self.unit.setCurrentIndex(self._unit_before_close)
            self._unit_before_close = None
        self.unit.blockSignals(False)
        self.unit.setEnabled(enabled)
        # What one contract is ('contracts × 0.001 BTC') reads as the unit of the number typed: only in contracts.
        self.fields.units["contracts"].setVisible(self.size_unit() == "contracts")

    def _price(self, problems: dict[str, str], market: MarketSpec | None) -> float:
        self.price = None
        note = self.fields.notes["price"]
        try:
            typed = parse_positive(self.price_edit.text(), "price", "trade price")
        except InputProblem as e:
            problems["price"] = str(e)
            note.setText("")
            return math.nan
        bound = price_problem(typed)  # the bounds of an entry price, said here whatever the size's unit
        if bound is not None:
            problems["price"] = f"the trade price {bound}"
            note.setText("")
            return math.nan
        tick = market.tick_size if market is not None else 0.0
        self.price = round_to_tick(typed, tick)
        if not self.price > 0:
            self.price = None
            problems["price"] = f"below half a tick of {step_text(tick)}: the order would have no price"
            note.setText("")
            return math.nan
        if not tick:
            note.setText("tick unknown")
        elif self.price != typed:
            quote = quote_currency_of(market.symbol) if market is not None else ""
            note.setText(f"rounded to {step_text(tick)} tick: {self.price:.12g} {quote}".rstrip())
        else:
            note.setText("")
        return self.price

    def _contracts(
        self,
        problems: dict[str, str],
        market: MarketSpec | None,
        price: float,
        leverage: float,
        available: Callable[[], float],
        currency: str,
    ) -> float:
        self.size = None
        unit = self.size_unit()
        note = self.fields.notes["contracts"]
        note.setText("")
        try:
            amount = parse_positive(self.size_edit.text(), "contracts", _what(unit, market))
        except InputProblem as e:
            problems["contracts"] = str(e)
            return math.nan
        if not self.size_edit.isEnabled():
            return amount  # a close takes what is held, on the lot or not
        if market is None:
            if unit != "contracts":
                problems["contracts"] = "no market for this symbol: type the size in contracts"
            return amount if unit == "contracts" else math.nan
        if unit != "contracts" and math.isnan(price):
            return math.nan  # the price field says why
        if unit == "percent" and math.isnan(leverage) and self.held is None:
            return math.nan  # the leverage field says why
        try:
            balance = available() if unit == "percent" and self.held is None else None
            self.size = order_size(amount, unit, market, price, leverage, balance, currency, self.held)
        except SizeRefused as e:
            problems["contracts"] = str(e)
            return math.nan
        except (MissingPriceError, ValueError) as e:  # the account's figures cannot be evaluated at these marks
            problems["contracts"] = f"the available balance cannot be computed ({e}): type the size in contracts"
            return math.nan
        note.setText(self.size.text(unit))
        return self.size.contracts


def _what(unit: SizeUnit, market: MarketSpec | None) -> str:
    if unit == "quote":
        return f"size in {quote_currency_of(market.symbol) if market else 'the quote currency'}"
    return "percentage" if unit == "percent" else "number of contracts"
