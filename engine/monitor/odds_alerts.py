"""Alerts on the probability of liquidation, for `watch`: "P(liq 24h) rose above 5%: Binance main BTC/USDT:USDT
long 6.12%".

The figures come from engine.monitor.odds_worker (its own thread: a big book's Monte Carlo takes seconds and
the watch loop keeps printing crossings meanwhile). A position or cross account alerts when its figure is at
or above the threshold and was not at the last figure (the first figure counts as coming from below); it
alerts again only after it has fallen below REARM times the threshold, so a Monte Carlo figure wobbling
around the threshold by its standard error does not alert every refresh.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from engine.margin.liquidation_odds import Odds
from engine.margin.model import Book, PriceKey
from engine.margin.risk import BookRisk
from engine.monitor.odds_report import column_title, probability_text
from engine.monitor.odds_worker import NORMAL, OddsJob, OddsResult, OddsWorker, VolatilityInputs

REARM = 0.8


@dataclass(frozen=True)
class OddsWatch:
    """`watch --alert-probability`: threshold a fraction in (0, 1); hours the horizon; model a key of
    engine.monitor.odds_worker.MODELS; inputs the book's volatility inputs; every: seconds between two
    figures (at least); paths of each cross account's Monte Carlo; candles: a running
    engine.market.candle_refresh.CandleRefresher whose fetched candles replace the inputs' (None: none), and
    keep_candles called with each of its CandleBatches (the command line stores them with the saved book)."""

    threshold: float
    hours: float = 24.0
    model: str = NORMAL
    inputs: VolatilityInputs = field(default_factory=VolatilityInputs)
    every: float = 30.0
    paths: int = 10_000
    candles: Any = None
    keep_candles: Callable[[Any], None] | None = None


@dataclass(frozen=True)
class OddsAlert:
    """One subject's probability rose to or above the threshold. at: wall-clock seconds of the figure."""

    at: float
    subject: str
    odds: Odds
    threshold: float
    hours: float

    def line(self) -> str:
        """'P(liq 24h) rose above 5%: Binance main BTC/USDT:USDT long 6.12%' (± its standard error if any)."""
        rose = f"{column_title(self.hours)} rose above {self.threshold * 100:g}%"
        return f"{rose}: {self.subject} {probability_text(self.odds)}"


class OddsAlarm:
    """Tracks which subjects are above the threshold (module docstring) and says which just rose."""

    def __init__(self, threshold: float, hours: float) -> None:
        self.threshold, self.hours = threshold, hours
        self._above: dict[Hashable, bool] = {}

    def _rose(self, key: Hashable, p: float | None) -> bool:
        if p is None or not math.isfinite(p):
            return False
        above = self._above.get(key, False)
        if not above and p >= self.threshold:
            self._above[key] = True
            return True
        if above and p < REARM * self.threshold:
            self._above[key] = False
        return False

    def check(self, result: OddsResult, book: Book, now: float) -> list[OddsAlert]:
        """This result's new alerts (positions in book order, then accounts)."""
        alerts = []
        for i, (position, p) in enumerate(zip(book.positions, result.probability, strict=True)):
            key = ("position", position.account, position.symbol, position.side, i)
            if self._rose(key, float(p)):
                subject = f"{position.account} {position.symbol} {position.side.value}"
                alerts.append(OddsAlert(now, subject, Odds(float(p), model=result.model), self.threshold, self.hours))
        for name, o in zip(result.account_names, result.accounts, strict=False):
            if self._rose(("account", name), o.probability):
                alerts.append(OddsAlert(now, f"account {name} (cross)", o, self.threshold, self.hours))
        return alerts


def odds_job(book: Book, risk: BookRisk, marks: Mapping[PriceKey, float], watch: OddsWatch) -> OddsJob:
    """A worker job for the figures of `risk` (the book evaluated at `marks`; figures a missing mark hides are
    None there and NaN here)."""
    exchange_of = {a.name: a.exchange for a in book.accounts}
    rows = risk.positions
    keys = [(exchange_of[p.account], p.symbol) for p in book.positions]

    def column(values: list[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=float)

    mark = column([r.mark_price if not r.missing else None for r in rows])
    liquidation = column([r.liquidation_price for r in rows])
    distance = column([r.distance_to_liquidation for r in rows])
    return OddsJob(
        "watch", book, dict(marks), keys, mark, liquidation, distance, watch.inputs, watch.hours,
        paths=watch.paths, model=watch.model,
    )  # fmt: skip


class OddsWatcher:
    """Drives the worker and the alarm from the watch loop: alerts() returns those of a finished figure; due()
    says when `every` seconds have passed since the last figure was started (and none runs), start() starts one."""

    def __init__(self, book: Book, watch: OddsWatch) -> None:
        self.book, self.watch = book, watch
        self.worker = OddsWorker()
        self.alarm = OddsAlarm(watch.threshold, watch.hours)
        self._started = -math.inf

    def alerts(self, now: float) -> list[OddsAlert]:
        result = self.worker.take()
        return self.alarm.check(result, self.book, now) if result is not None else []

    def due(self, monotonic: float) -> bool:
        self._take_candles()
        return not self.worker.busy and monotonic - self._started >= self.watch.every

    def start(self, risk: BookRisk, marks: Mapping[PriceKey, float], monotonic: float) -> None:
        self._started = monotonic
        self.worker.submit(odds_job(self.book, risk, marks, self.watch))

    def _take_candles(self) -> None:
        """Candles the refresher fetched since the last look: kept (keep_candles), and the next figure, at
        once, from them."""
        if self.watch.candles is None:
            return
        for batch in self.watch.candles.take():
            if self.watch.keep_candles is not None:
                self.watch.keep_candles(batch)
            if batch.series:
                inputs = replace(self.watch.inputs, candles={**self.watch.inputs.candles, **batch.series})
                self.watch = replace(self.watch, inputs=inputs)
                self._started = -math.inf

    def stop(self) -> None:
        self.worker.join()
