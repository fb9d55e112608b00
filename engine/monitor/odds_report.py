"""The probability of liquidation of a whole book, for the reports: per position (closed form) and per cross
account (Monte Carlo), with the volatility used and the model in words.

`book_odds` computes both at the book's marks; `add_odds` puts them into the `risk --json` document and
`odds_columns` / `odds_notes` into the text report (engine.monitor.report.risk_to_text takes the columns).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.book.horizon import horizon_label
from engine.margin.account_odds import DEFAULT_PATHS, account_odds, default_steps
from engine.margin.bootstrap_odds import (
    bootstrap_account_odds,
    bootstrap_model,
    bootstrap_position_odds,
    no_history_reason,
)
from engine.margin.liquidation_odds import CLOSED_FORM, Odds, position_odds
from engine.margin.model import Book, MarginMode, PriceKey
from engine.margin.risk import BookRisk
from engine.margin.vectorised import CompiledBook
from engine.market.volatility import MarketVolatility, Series
from engine.monitor.odds_job import column_title, probability_text


@dataclass(frozen=True)
class BookOdds:
    """The probabilities of one book at one horizon: positions in book order, accounts as in book.accounts."""

    hours: float
    positions: list[Odds]
    accounts: list[Odds]
    volatility: MarketVolatility


def book_odds(
    book: Book,
    prices: Mapping[PriceKey, float],
    risk: BookRisk,
    volatility: MarketVolatility,
    hours: float,
    *,
    paths: int = DEFAULT_PATHS,
    seed: int = 0,
    bootstrap: Mapping[PriceKey, Series] | None = None,
) -> BookOdds:
    """Per position, P(its mark touches its liquidation price within `hours`); per cross account, P(it reaches its
    liquidation), by engine.margin.liquidation_odds and engine.margin.account_odds at `prices` (the marks `risk`
    was evaluated at) with the volatilities and correlations of `volatility` (keyed by price key); with
    `bootstrap` (each key's hourly series), by engine.margin.bootstrap_odds instead.
    Raises ValueError for a horizon that is not a positive number of hours."""
    if bootstrap is not None:
        return _bootstrap_odds(book, prices, risk, volatility, hours, bootstrap, paths, seed)
    typed = {key: v for key in volatility.keys if (v := volatility.of(key)) is not None}
    positions = position_odds(risk.positions, book, typed, hours)
    compiled = CompiledBook(book)
    index = {key: i for i, key in enumerate(volatility.keys)}
    order = np.array([index.get(key, -1) for key in compiled.price_keys], dtype=np.intp)
    known = order >= 0
    vol = np.where(known, volatility.volatility[order], np.nan)
    corr = np.where(known[:, None] & known[None, :], volatility.correlation[np.ix_(order, order)], np.nan)
    np.fill_diagonal(corr, 1.0)
    accounts = account_odds(compiled, compiled.prices_from(prices), vol, corr, hours, paths=paths, seed=seed)
    return BookOdds(hours, positions, accounts, volatility)


def _bootstrap_odds(
    book: Book,
    prices: Mapping[PriceKey, float],
    risk: BookRisk,
    volatility: MarketVolatility,
    hours: float,
    series: Mapping[PriceKey, Series],
    paths: int,
    seed: int,
) -> BookOdds:
    exchange_of = {a.name: a.exchange for a in book.accounts}
    keys = [(exchange_of[p.account], p.symbol) for p in book.positions]
    rows = risk.positions

    def column(values: list[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=float)

    mark = column([None if r.missing else r.mark_price for r in rows])
    liquidation = column([r.liquidation_price for r in rows])
    distance = column([r.distance_to_liquidation for r in rows])
    p, se = bootstrap_position_odds(keys, mark, liquidation, distance, series, hours, paths=paths, seed=seed)
    model = bootstrap_model(paths, default_steps(hours), hours)
    positions = [
        Odds(float(p[i]), standard_error=float(se[i]), model=model)
        if np.isfinite(p[i])
        else Odds(None, rows[i].missing or no_history_reason(keys[i]))
        for i in range(len(rows))
    ]
    compiled = CompiledBook(book)
    history = [series.get(key) for key in compiled.price_keys]
    accounts = bootstrap_account_odds(compiled, compiled.prices_from(prices), history, hours, paths=paths, seed=seed)
    return BookOdds(hours, positions, accounts, volatility)


def _number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def add_odds(document: dict[str, Any], book: Book, odds: BookOdds) -> None:
    """Add the probabilities to a `risk --json` document (engine.monitor.report.risk_to_dict of the same book),
    in place. Each position gains liquidation_probability (a fraction, or null), liquidation_probability_reason
    (why it is null, else null), horizon_hours, volatility (annualised, the one used; null when unknown),
    volatility_source ('portfolio file', 'candles', 'mark history' or null) and model (in words; null when
    there is no figure); each account the same but with liquidation_probability_standard_error after the
    probability, and volatility as {symbol: annualised volatility or null} over its cross symbols (no source)."""
    mv = odds.volatility
    for item, position, o in zip(document["positions"], book.positions, odds.positions, strict=True):
        key = (book.account(position.account).exchange, position.symbol)
        where = mv.keys.index(key) if key in mv.keys else -1
        item["liquidation_probability"] = _number(o.probability)
        item["liquidation_probability_reason"] = None if o.probability is not None else o.reason
        item["horizon_hours"] = odds.hours
        item["volatility"] = mv.of(key)
        item["volatility_source"] = (mv.source[where] or None) if where >= 0 else None
        item["model"] = o.model or None
    for item, account, o in zip(document["accounts"], book.accounts, odds.accounts, strict=True):
        cross = {p.symbol for p in book.positions if p.account == account.name and p.margin_mode is MarginMode.CROSS}
        item["liquidation_probability"] = _number(o.probability)
        item["liquidation_probability_standard_error"] = _number(o.standard_error)
        item["liquidation_probability_reason"] = None if o.probability is not None else o.reason
        item["horizon_hours"] = odds.hours
        item["volatility"] = {s: mv.of((account.exchange, s)) for s in sorted(cross)}
        item["model"] = o.model or None


def odds_columns(odds: BookOdds) -> tuple[list[str], list[str]]:
    """The text report's column cells: (one per position, one per account)."""
    return [probability_text(o) for o in odds.positions], [probability_text(o) for o in odds.accounts]


def odds_notes(odds: BookOdds) -> list[str]:
    """The lines under the text report that say what the figure is and why some are missing."""
    monte_carlo = next((o.model for o in odds.accounts if o.model), "")
    lines = [
        f"{column_title(odds.hours)}: the probability that the mark touches the liquidation price within "
        f"{horizon_label(odds.hours)} (positions: {CLOSED_FORM}; other marks held)"
        + (f"; accounts: {monte_carlo} (± one standard error)." if monte_carlo else "."),
        "It assumes a random walk at the symbol's volatility: no drift, jumps or fat tails; not a forecast.",
    ]
    reasons = sorted({o.reason for o in [*odds.positions, *odds.accounts] if o.probability is None and o.reason})
    return lines + [f"  no figure: {reason}" for reason in reasons]
