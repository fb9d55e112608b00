"""A watch session: the book and its layers, the thresholds, the compiled evaluators, the levels and the
alert policy, turning each price snapshot into a Frame. Qt-free: the window draws its frames and
`marginwatch watch` prints them, so both raise the same alerts with the same words and rate limit.

Layers: the real book at the real marks is what levels, alerts and history follow. The shown book may
add hypothetical positions (include_hypothetical) and a price shock (set_shock); rows and accounts that
such a preview changes carry a what-if note and their what-if level (engine.monitor.book_alerts).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from engine.book.funding_fields import file_rates
from engine.book.portfolio import Portfolio
from engine.book.price_alert_rules import PriceAlert
from engine.book.thresholds import ThresholdOverrides
from engine.funding.fees import book_break_evens
from engine.funding.rates import FundingBook
from engine.margin.layout import book_layout
from engine.margin.live_risk import LiveEvaluator, VectorPositions
from engine.margin.market_choice import MarketSources, tier_age
from engine.margin.model import Book, Position, PriceKey
from engine.margin.risk import BookRisk
from engine.margin.vectorised_stress import MoveSearch
from engine.market.prices import MarkRecord, Shock
from engine.monitor.alerts import Alert, AlertPolicy
from engine.monitor.book_alerts import (
    BookAlerts,
    PreviewScope,
    preview_scope,
    real_book,
    what_if_accounts,
    what_if_levels,
    what_if_rows,
)
from engine.monitor.chart_history import ChartHistory
from engine.monitor.frame import Frame, RowState
from engine.monitor.levels import Level, Thresholds
from engine.monitor.price_alerts import PriceAlertWatch
from engine.monitor.price_labels import price_source

PriceLabels = Mapping[PriceKey, tuple[str, bool]]
"""Each price key's source label ('LIVE 0.4 s', 'MANUAL', …) and whether it is stale."""


def position_keys(positions: Sequence[Position]) -> list[tuple]:
    """A key per position that survives edits elsewhere in the book (levels and alerts are keyed by it).

    Account, symbol, side and the hypothetical flag identify a position; a counter tells apart the rare
    duplicates (two hypothetical trades on one symbol).
    """
    seen: dict[tuple, int] = {}
    keys = []
    for p in positions:
        base = (p.account, p.symbol, p.side.value, p.hypothetical)
        seen[base] = seen.get(base, -1) + 1
        keys.append((*base, seen[base]))
    return keys


class WatchSession:
    """One monitor's state. step(quotes) evaluates the book at a price snapshot and returns a Frame.

    portfolio: the book (with its prices and markets); thresholds: the levels' thresholds; stale_after:
    seconds after which a feed price is stale; policy: the alert rate limit (engine.monitor.alerts); clock:
    wall-clock seconds (tests pass their own); funding: the rates book (engine.funding.rates).
    """

    def __init__(
        self,
        portfolio: Portfolio,
        thresholds: Thresholds | None = None,
        stale_after: float = 15.0,
        policy: AlertPolicy | None = None,
        clock: Callable[[], float] = time.time,
        funding: FundingBook | None = None,
    ) -> None:
        self.stale_after = stale_after
        self.funding = funding if funding is not None else FundingBook()
        """The funding rates rows show (the price store's, which the funding feeds fill); the file's go in too."""
        self.clock = clock
        self.book_alerts = BookAlerts(thresholds or Thresholds(), policy or AlertPolicy())
        self.include_hypothetical = True
        self.shock: Shock | None = None
        self.working_offline = False
        """The user works offline (no feed runs although one could): manual prices read 'MANUAL (OFFLINE)'."""
        self.history = ChartHistory()
        self.frame: Frame | None = None
        """The latest step's frame (None before the first step)."""
        self._pending: list[Alert] = []
        self.price_alerts = PriceAlertWatch(portfolio.price_alerts)
        """The price alerts in force (engine.monitor.price_alerts): the first book's; set_rules changes them."""
        self.use_portfolio(portfolio)

    # -- the book and its layers -------------------------------------------------------------------

    def use_market_sources(self, sources: MarketSources) -> None:
        """The same book, with these market sources for the symbols it does not hold yet (what a what-if trade
        resolves with: new fetched tables or increments of markets outside the book): nothing to recompile."""
        self.portfolio = dataclasses.replace(self.portfolio, market_overrides=sources)

    def use_portfolio(self, portfolio: Portfolio) -> None:
        """Compile the book shown (hypothetical positions left out when toggled off) and the real one. The
        session's price alerts stay (set_price_alerts changes them); the portfolio kept carries them."""
        if portfolio.price_alerts != self.price_alerts.rules:
            portfolio = replace(portfolio, price_alerts=self.price_alerts.rules)
        self.portfolio = portfolio
        self.funding.publish(file_rates(portfolio.book, portfolio.funding, self.clock()))
        self.book: Book = portfolio.book if self.include_hypothetical else portfolio.book.without_hypothetical()
        self.layout = book_layout(self.book)
        self.evaluator = LiveEvaluator(self.book, self.layout)
        self.move_search = MoveSearch(self.evaluator.compiled)
        # Alerts and levels follow the real book; it is evaluated a second time only while hypothetical
        # positions are shown (the same evaluator otherwise).
        real = real_book(self.book)
        self.real_evaluator = self.evaluator if real is self.book else LiveEvaluator(real, book_layout(real))
        all_keys = position_keys(portfolio.book.positions)  # a position's key is the same in either book
        self.exchange_of = {a.name: a.exchange for a in self.book.accounts}
        if real is self.book is portfolio.book:  # no hypothetical position: the rows' keys are the book's, shared
            self.keys = self._real_keys = all_keys
            self.price_key_of_row = [(self.exchange_of[p.account], p.symbol) for p in self.book.positions]
            self._real_price_key_of_row = self.price_key_of_row
        else:
            key_of = {id(p): k for p, k in zip(portfolio.book.positions, all_keys, strict=True)}
            self.keys = [key_of[id(p)] for p in self.book.positions]
            self.price_key_of_row = [(self.exchange_of[p.account], p.symbol) for p in self.book.positions]
            self._real_keys = [key_of[id(p)] for p in real.positions]
            self._real_price_key_of_row = [(self.exchange_of[p.account], p.symbol) for p in real.positions]
        self.price_keys = self.book.price_keys()
        self.book_alerts.use_overrides(portfolio.threshold_overrides)  # the book's own (engine.book.thresholds)
        self.break_even = book_break_evens(self.book)
        self.scope = preview_scope(self.book, self.shock, self.price_key_of_row)

    def set_price_alerts(self, rules: Sequence[PriceAlert]) -> None:
        """New price alerts (engine.monitor.price_alerts: a rule kept keeps whether it fired), carried by the
        portfolio too (a file window's save, an export)."""
        self.price_alerts.set_rules(rules)
        self.portfolio = replace(self.portfolio, price_alerts=self.price_alerts.rules)

    def add_alerts(self, alerts: Sequence[Alert]) -> None:
        """Alerts raised outside the step (a sync's liquidation check: engine.sync.check_alerts), given with the
        next frame's alerts, so they reach the window's list, `watch` and the channels like the others."""
        self._pending.extend(alerts)

    def tier_note(self, key: PriceKey) -> str:
        """Where the tiers of this (exchange, symbol) came from and how old they are now, flagged when older
        than engine.margin.market_choice.TIERS_STALE_AFTER, with the taker fee's note; '' for a key the book
        has no market for."""
        market = self.portfolio.book.markets.get(key)
        if market is None:
            return ""
        age = tier_age(market, self.clock())
        text = ("STALE " if age.stale else "") + age.text
        return f"{text}\n{market.fee_note}" if market.fee_note else text

    def set_include_hypothetical(self, include: bool) -> bool:
        """Show or leave out every hypothetical position; True when that changed anything."""
        if include == self.include_hypothetical:
            return False
        self.include_hypothetical = include
        self.use_portfolio(self.portfolio)
        return True

    def set_shock(self, shock: Shock | None) -> None:
        """Preview the shown book under a price shock (None: the real marks). Alerts stay on the real marks."""
        self.shock = shock
        self.scope = preview_scope(self.book, shock, self.price_key_of_row)

    @property
    def thresholds(self) -> Thresholds:
        return self.book_alerts.thresholds

    @property
    def overrides(self) -> ThresholdOverrides:
        """The thresholds in force: the global ones and the book's overrides (resolved per row and account)."""
        return self.book_alerts.overrides

    def set_thresholds(self, thresholds: Thresholds) -> None:
        """New global thresholds: levels start afresh under them, the alert rate limit keeps its memory."""
        self.book_alerts = BookAlerts(thresholds, self.book_alerts.policy, self.book_alerts.overrides)

    @property
    def previewing(self) -> bool:
        """A what-if layer is on: a price shock, or hypothetical positions shown."""
        return self.shock is not None or self.real_evaluator is not self.evaluator

    def marks_shown(self, real_marks: Mapping[PriceKey, float]) -> dict[PriceKey, float]:
        """The marks the shown book is evaluated at: the real ones, under the shock preview when there is one."""
        return self.shock.apply(real_marks) if self.shock is not None else dict(real_marks)

    # -- one step ----------------------------------------------------------------------------------

    def step(self, quotes: Mapping[PriceKey, MarkRecord], changed: Iterable[PriceKey] = ()) -> Frame:
        """Evaluate the book at these quotes: the rows and accounts shown, the real book's levels (with
        hysteresis) and this step's alerts; the real book's marks and accounts go into the chart history
        (changed: the keys whose price moved since the last step)."""
        now = self.clock()
        real_marks = {key: q.mark for key, q in quotes.items()}
        marks = self.marks_shown(real_marks)
        shown, missing = self.evaluator.evaluate(marks)
        real = self.real_evaluator.evaluate(real_marks)[0] if self.previewing else shown
        labels = self.price_labels(quotes, now)
        rates = self.funding.snapshot()
        keys, price_keys = self._row_keys(real)
        stale = [labels[k][1] for k in price_keys]
        levels, alerts = self.book_alerts.positions(keys, real.positions, stale, now)
        account_levels, account_alerts = self.book_alerts.accounts(real.accounts, now)
        price_alerts = self.price_alerts.check(quotes, now, self.stale_after, self.book_alerts.policy)
        if real is shown:
            rows = [
                RowState(level, *labels[k], "", rates.get(k), even)
                for level, k, even in zip(levels, price_keys, self.break_even, strict=True)
            ]
            notes = [""] * len(account_levels)
        else:
            rows = self._what_if_rows(shown, labels, rates)
            account_levels, notes = self._what_if_accounts(shown, real, account_levels)
        self.history.record(real, real_marks, changed, now)
        self.frame = Frame(
            shown,
            real,
            marks,
            real_marks,
            quotes,
            missing,
            rows,
            account_levels,
            notes,
            alerts + account_alerts + price_alerts + self._pending,
            now,
        )
        self._pending = []
        return self.frame

    def price_labels(self, quotes: Mapping[PriceKey, MarkRecord], now: float) -> PriceLabels:
        """Each price's source label and staleness, made once however many positions share it."""
        shock = self.shock
        return {
            key: price_source(
                quotes.get(key), now, self.stale_after, shock is not None and shock.touches(key), self.working_offline
            )
            for key in self.price_keys
        }

    def moves(self, marks: Mapping[PriceKey, float]) -> dict[str, float | None]:
        """Every shown account's uniform move of its cross marks to liquidation (engine.margin.vectorised_stress);
        an account missing a cross mark has none, the others are unaffected."""
        found = self.move_search.moves(self.evaluator.compiled.prices_from(marks))
        return {a.name: move for a, move in zip(self.book.accounts, found, strict=True)}

    def level(self, key: object) -> Level:
        """A real key's level now (ok when never evaluated)."""
        return self.book_alerts.level(key)

    # -- rows of the shown and the real book ------------------------------------------------------------

    def _row_keys(self, risk: BookRisk) -> tuple[Sequence[tuple], Sequence[PriceKey]]:
        """The level keys and price keys of an evaluation's rows (the shown or the real book)."""
        rows = risk.positions
        if isinstance(rows, VectorPositions) and rows.positions is self.real_evaluator.book.positions:
            return self._real_keys, self._real_price_key_of_row
        return self.keys, self.price_key_of_row

    def _what_if_rows(self, shown: BookRisk, labels: PriceLabels, rates: Mapping) -> list[RowState]:
        """The shown rows under a preview (engine.monitor.book_alerts.what_if_rows), with their prices' labels."""
        rows = shown.positions
        what_if = what_if_levels(rows, self.book_alerts.row_thresholds(self.book.positions) or self.thresholds)
        levels, notes = what_if_rows(
            self.book.positions, self.price_key_of_row, self.keys, what_if, self.scope, self.book_alerts.level
        )
        return [
            RowState(level, *labels[k], note, rates.get(k), even)
            for level, k, note, even in zip(levels, self.price_key_of_row, notes, self.break_even, strict=True)
        ]

    def _what_if_accounts(
        self, shown: BookRisk, real: BookRisk, real_levels: Sequence[Level]
    ) -> tuple[list[Level], list[str]]:
        real_of = {a.account.name: level for a, level in zip(real.accounts, real_levels, strict=True)}
        overrides = self.book_alerts.overrides
        return what_if_accounts(shown.accounts, real_of, self.scope.accounts, overrides, self.book_alerts.level)


__all__ = ["Frame", "PreviewScope", "RowState", "WatchSession", "position_keys"]
