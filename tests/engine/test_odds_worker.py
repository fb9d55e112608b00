"""engine.monitor.odds_worker: the live column's figures are computed on a thread of their own, one job at a
time, and handed over once."""

from __future__ import annotations

import threading

import numpy as np

from engine.margin.liquidation_odds import horizon_years, touch_probability
from engine.monitor.odds_worker import OddsJob, OddsWorker


def job(token: object = "rows") -> OddsJob:
    one = np.ones(3)
    return OddsJob(token, 100.0 * one, np.array([90.0, 120.0, np.nan]), 0.1 * one, np.full(3, 0.7), 24.0)


def test_a_job_runs_off_the_calling_thread_and_its_result_is_taken_once():
    worker = OddsWorker()
    assert worker.take() is None
    assert worker.submit(job())
    worker.join()
    result = worker.take()
    assert result is not None and result.token == "rows" and result.hours == 24.0
    assert result.thread != threading.get_ident()
    assert result.probability[0] == touch_probability(100.0, 90.0, 0.7, horizon_years(24.0))
    assert result.probability[2] == 0.0
    assert worker.take() is None  # handed over once


def test_a_job_is_refused_while_another_runs():
    gate = threading.Event()
    worker = OddsWorker()
    worker._run = lambda j: gate.wait(5)  # a job that takes as long as the test wants
    assert worker.submit(job())
    assert worker.busy and not worker.submit(job("fresher"))
    gate.set()
    worker.join()
    assert not worker.busy
