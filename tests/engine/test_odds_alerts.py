"""Alerts on the probability of liquidation (engine.monitor.odds_alerts) and `watch`'s lines for them."""

from __future__ import annotations

import io
import math

import numpy as np

from engine.book.portfolio import parse_portfolio
from engine.margin.liquidation_odds import Odds
from engine.margin.model import Side
from engine.market.prices import PriceStore
from engine.monitor.odds_alerts import REARM, OddsAlarm, OddsWatch
from engine.monitor.odds_worker import OddsResult, VolatilityInputs
from engine.monitor.watch import Monitor, WatchOptions
from tests.engine.books import book, market, pos
from tests.portfolio_docs import portfolio_doc, position_doc

B = book("binance", 1_000.0, [pos("BTC/USDT:USDT", Side.LONG, 1.0, 100.0)], [market("BTC/USDT:USDT", 0.01)])


def result(p: float, account: float | None = None) -> OddsResult:
    accounts = [Odds(account, standard_error=0.001, model="Monte Carlo")] if account is not None else []
    names = ("acct",) if account is not None else ()
    return OddsResult("t", np.array([p]), np.array([0.8]), accounts, names, 24.0, 0, 0.0)


def test_a_rise_alerts_once_and_again_only_after_falling_back_below_the_rearm_level():
    alarm = OddsAlarm(0.05, 24.0)
    seen = [len(alarm.check(result(p), B, 0.0)) for p in (0.01, 0.06, 0.07, 0.045, 0.06, 0.03, 0.05, math.nan)]
    assert 0.045 > REARM * 0.05 > 0.03
    assert seen == [0, 1, 0, 0, 0, 0, 1, 0]
    (alert,) = OddsAlarm(0.05, 24.0).check(result(0.0612), B, 0.0)
    assert alert.line() == "P(liq 24h) rose above 5%: acct BTC/USDT:USDT long 6.12%"
    (account,) = OddsAlarm(0.05, 24.0).check(result(0.0, account=0.08), B, 0.0)
    assert account.line() == "P(liq 24h) rose above 5%: account acct (cross) 8.00% ±0.10%"


def test_watch_prints_the_alert_from_its_worker_thread():
    doc = portfolio_doc(position_doc(), wallet_balance=1_500, prices={"BTC/USDT:USDT": 59_000})
    doc["markets"] = {"BTC/USDT:USDT": {"volatility": 0.9}}
    portfolio = parse_portfolio(doc)
    store = PriceStore()
    store.set_manual(("binanceusdm", "BTC/USDT:USDT"), 59_000.0)
    out = io.StringIO()
    odds = OddsWatch(0.01, 24.0, inputs=VolatilityInputs({("binanceusdm", "BTC/USDT:USDT"): 0.9}), every=0.0)
    options = WatchOptions(interval=0.3, count=2, as_json=False, check_every=0.05, odds=odds)
    assert Monitor(portfolio, store, [], options, out).run() == 0
    lines = [line for line in out.getvalue().splitlines() if "PROBABILITY" in line]
    # Once per subject, though every figure is above the threshold: the position and its cross account.
    assert len(lines) == 2, out.getvalue()
    assert "P(liq 24h) rose above 1%: main BTC/USDT:USDT long" in lines[0]
    assert "P(liq 24h) rose above 1%: account main (cross)" in lines[1] and "±" in lines[1]
