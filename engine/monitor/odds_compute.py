"""What the probability-of-liquidation worker computes (engine.monitor.odds_worker runs it on a thread,
engine.monitor.odds_process in a child process): what is derived once per book (prepare), and the figures
themselves (compute) of a job (engine.monitor.odds_job). Qt-free, and free of threads and processes.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import numpy as np

from engine.margin.account_odds import account_odds
from engine.margin.bootstrap_odds import bootstrap_account_odds, bootstrap_position_odds
from engine.margin.liquidation_odds import Odds, touch_probabilities
from engine.margin.model import Book
from engine.margin.vectorised import CompiledBook
from engine.margin.vectorised_stress import MoveSearch
from engine.market.volatility import MIN_RETURNS, MarketVolatility, Series, market_volatility
from engine.monitor.odds_job import BOOTSTRAP, OddsJob, OddsResult, VolatilityInputs


@dataclass
class Prepared:
    """What the worker derives once per (book, inputs)."""

    volatility: MarketVolatility
    compiled: CompiledBook
    search: MoveSearch
    vol: np.ndarray
    corr: np.ndarray
    series: list[Series | None]
    """Per compiled price key, the hourly series the bootstrap draws from (candles, else the mark history)."""


def prepare(book: Book, inputs: VolatilityInputs) -> Prepared:
    """The book's volatilities and correlations in its compiled price-key order, and its move search."""
    compiled = CompiledBook(book)
    keys = compiled.price_keys
    mv = market_volatility(keys, dict(inputs.typed), dict(inputs.candles), dict(inputs.history))
    series = [longest_series(inputs.candles.get(key), inputs.history.get(key)) for key in keys]
    return Prepared(mv, compiled, MoveSearch(compiled), mv.volatility, mv.correlation, series)


def longest_series(candles: Series | None, history: Series | None) -> Series | None:
    """The candles when there are a day of them, else the mark history, else None."""
    for series in (candles, history):
        if series is not None and len(series[0]) > MIN_RETURNS:
            return series
    return None


def compute(job: OddsJob, ready: Prepared) -> OddsResult:
    """The job's figures (ready: prepare(job.book, job.inputs), or that of an equal book and inputs)."""
    start = time.perf_counter()
    where = {key: i for i, key in enumerate(ready.volatility.keys)}
    volatility = np.array([ready.vol[where[key]] if key in where else np.nan for key in job.row_keys])
    marks = ready.compiled.prices_from(job.marks)
    accounts: list[Odds] = []
    if job.model == BOOTSTRAP:
        series = {key: s for key, s in zip(ready.compiled.price_keys, ready.series, strict=True) if s is not None}
        p, _ = bootstrap_position_odds(
            job.row_keys, job.mark, job.liquidation, job.distance, series, job.hours, paths=job.paths
        )
        if job.accounts:
            accounts = bootstrap_account_odds(
                ready.compiled, marks, ready.series, job.hours, paths=job.paths, search=ready.search
            )
    else:
        p = touch_probabilities(job.mark, job.liquidation, job.distance, volatility, job.hours)
        if job.accounts:
            accounts = account_odds(
                ready.compiled, marks, ready.vol, ready.corr, job.hours, paths=job.paths, search=ready.search
            )
    names = tuple(a.name for a in ready.compiled.book.accounts)
    seconds = time.perf_counter() - start
    return OddsResult(
        job.token, p, volatility, accounts, names, job.hours, threading.get_ident(), seconds, job.model, os.getpid()
    )
