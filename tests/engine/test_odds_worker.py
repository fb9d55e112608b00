"""engine.monitor.odds_worker: the live window's figures are computed on a thread of their own, one job at a
time, handed over once, and equal to the report's (engine.monitor.odds_report) for the same book and marks."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from engine.margin.liquidation_odds import horizon_years, touch_probability
from engine.margin.model import Side
from engine.margin.risk import evaluate_book
from engine.market.volatility import market_volatility
from engine.monitor.odds_report import book_odds
from engine.monitor.odds_worker import OddsJob, OddsWorker, VolatilityInputs
from tests.engine.books import book, market, pos

KEY_BTC, KEY_ETH = ("binance", "BTC/USDT:USDT"), ("binance", "ETH/USDT:USDT")


def walk(seed: int, hours: int = 600) -> tuple[np.ndarray, np.ndarray]:
    steps = np.random.default_rng(seed).standard_normal(hours) * 0.8 / np.sqrt(8760)
    return np.arange(hours, dtype=np.int64), 100.0 * np.exp(np.cumsum(steps))


def job_for(the_book, marks, inputs: VolatilityInputs, token: object = "rows", paths: int = 2_000) -> OddsJob:
    risk = evaluate_book(the_book, marks)
    keys = [(the_book.account(p.account).exchange, p.symbol) for p in the_book.positions]
    rows = risk.positions
    mark = np.array([r.mark_price for r in rows])
    liquidation = np.array([np.nan if r.liquidation_price is None else r.liquidation_price for r in rows])
    distance = np.array([np.nan if r.distance_to_liquidation is None else r.distance_to_liquidation for r in rows])
    return OddsJob(token, the_book, marks, keys, mark, liquidation, distance, inputs, 24.0, paths=paths)


def two_symbol_book():
    positions = [
        pos(KEY_BTC[1], Side.LONG, 2.0, 60_000.0, leverage=20.0),
        pos(KEY_ETH[1], Side.LONG, 30.0, 3_000.0, leverage=20.0),
    ]
    return book("binance", 15_000.0, positions, [market(KEY_BTC[1], 0.01), market(KEY_ETH[1], 0.01)])


def test_a_job_runs_off_the_calling_thread_and_gives_the_reports_figures():
    the_book = two_symbol_book()
    marks = {KEY_BTC: 58_000.0, KEY_ETH: 2_900.0}
    inputs = VolatilityInputs({KEY_BTC: 0.6}, {KEY_BTC: walk(1), KEY_ETH: walk(2)}, {})
    worker = OddsWorker()
    assert worker.take() is None
    assert worker.submit(job_for(the_book, marks, inputs))
    worker.join()
    result = worker.take()
    assert result is not None and result.token == "rows" and result.hours == 24.0
    assert result.thread != threading.get_ident()
    assert worker.take() is None  # handed over once
    risk = evaluate_book(the_book, marks)
    volatility = market_volatility(sorted(marks), inputs.typed, inputs.candles, inputs.history)
    expected = book_odds(the_book, marks, risk, volatility, 24.0, paths=2_000)
    assert result.volatility[0] == 0.6  # typed wins over the candles
    for p, o in zip(result.probability, expected.positions, strict=True):
        assert p == o.probability
    assert result.accounts == expected.accounts and result.account_names == ("acct",)
    assert 0 < result.accounts[0].probability < 1 and result.accounts[0].standard_error > 0


def test_without_volatility_the_figures_are_unknown_never_made_up():
    the_book = two_symbol_book()
    worker = OddsWorker()
    worker.submit(job_for(the_book, {KEY_BTC: 58_000.0, KEY_ETH: 2_900.0}, VolatilityInputs()))
    worker.join()
    result = worker.take()
    assert np.isnan(result.probability).all() and np.isnan(result.volatility).all()
    assert result.accounts[0].probability is None and "no volatility" in result.accounts[0].reason


def test_a_job_is_refused_while_another_runs():
    gate = threading.Event()
    worker = OddsWorker()
    worker._run = lambda job: gate.wait(5)  # a job that takes as long as the test wants
    job = job_for(two_symbol_book(), {KEY_BTC: 58_000.0, KEY_ETH: 2_900.0}, VolatilityInputs())
    assert worker.submit(job)
    assert worker.busy and not worker.submit(job)
    gate.set()
    worker.join()
    assert not worker.busy


def test_closed_form_rows_match_the_scalar_figure():
    the_book = two_symbol_book()
    marks = {KEY_BTC: 58_000.0, KEY_ETH: 2_900.0}
    worker = OddsWorker()
    job = job_for(the_book, marks, VolatilityInputs({KEY_BTC: 0.6, KEY_ETH: 0.9}), paths=200)
    worker.submit(job)
    worker.join()
    result = worker.take()
    for i, sigma in enumerate((0.6, 0.9)):
        expected = touch_probability(job.mark[i], job.liquidation[i], sigma, horizon_years(24.0))
        assert result.probability[i] == expected


def test_the_child_process_gives_the_threads_figures_and_a_lost_child_falls_back_to_a_thread(monkeypatch):
    from engine.monitor import odds_process

    monkeypatch.setattr(odds_process, "_CHILD", None)  # a child of this test's own
    the_book = two_symbol_book()
    marks = {KEY_BTC: 58_000.0, KEY_ETH: 2_900.0}
    inputs = VolatilityInputs({KEY_BTC: 0.6}, {KEY_BTC: walk(1), KEY_ETH: walk(2)}, {})
    results = []
    for in_process in (True, False, False):  # the second job in the child reuses the book it holds
        worker = OddsWorker(in_process=in_process)
        worker.submit(job_for(the_book, marks, inputs, token=f"rows {len(results)}"))
        deadline = time.monotonic() + 60
        while (result := worker.take()) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        results.append(result)
    thread, child, again = results
    assert thread.process == os.getpid() and child.process != os.getpid() and again.process == child.process
    assert (child.token, again.token) == ("rows 1", "rows 2")  # the rows' token never left this process
    for result in (child, again):
        assert np.array_equal(result.probability, thread.probability) and result.accounts == thread.accounts
    gone = odds_process.child().process
    gone.kill()
    gone.join(10)
    worker = OddsWorker(in_process=False)
    worker.submit(job_for(the_book, marks, inputs))
    worker.join()
    deadline = time.monotonic() + 10
    while (result := worker.take()) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert result is not None and result.process == os.getpid() and worker.in_process


def test_sending_a_big_first_job_never_waits_for_the_child_to_read_it():
    """The first job carries the whole book, more than the pipe holds; the child reads it only once it has started
    (here LATE_S seconds late). Sending returns at once: the GUI thread is not held until the child reads."""
    from engine.monitor.odds_process import OddsChild
    from tests.engine.odds_late_child import LATE_S, late_serve

    symbols = [f"C{i}/USDT:USDT" for i in range(500)]  # about 0.6 MB pickled: more than the pipe holds
    positions = [pos(s, Side.LONG, 1.0, 100.0, leverage=10.0) for s in symbols for _ in range(10)]
    the_book = book("binance", 1e6, positions, [market(s, 0.01) for s in symbols])
    marks = {("binance", s): 95.0 for s in symbols}
    inputs = VolatilityInputs({("binance", s): 0.5 for s in symbols}, {}, {})
    job = job_for(the_book, marks, inputs, paths=100)
    child = OddsChild(target=late_serve)
    try:
        started = time.monotonic()
        number = child.submit(job)
        assert time.monotonic() - started < LATE_S / 2  # not held until the child reads
        deadline = time.monotonic() + 60
        while (result := child.collect(number)) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert result is not None and result.process == child.process.pid
        expected = OddsWorker(in_process=True)
        expected.submit(job)
        expected.join()
        assert np.array_equal(result.probability, expected.take().probability, equal_nan=True)
    finally:
        child.process.kill()
        child.process.join(10)


def test_a_job_that_failed_in_the_child_is_over_once_said(monkeypatch):
    """The child's traceback is raised once; the worker is then free for the next job (it stayed busy for ever,
    and the window polled for figures five times a second that never came)."""
    from types import SimpleNamespace

    import engine.monitor.odds_process as odds_process

    class FailingChild:
        def submit(self, job):
            return 7

        def collect(self, number):
            raise RuntimeError("Traceback: ZeroDivisionError in the child")

    monkeypatch.setattr(odds_process, "child", lambda: FailingChild())
    worker = OddsWorker(in_process=False)
    assert worker.submit(SimpleNamespace(token=object()))
    assert worker.busy
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        worker.take()
    assert not worker.busy and worker.take() is None
