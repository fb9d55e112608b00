"""What the probability-of-liquidation worker is asked and answers (engine.monitor.odds_worker): the job, its
result, the models offered, the column's title and a figure's text. Kept apart from the computation
(engine.monitor.odds_compute) so that the window's tables and menus name them without importing the odds
machinery, which the worker loads with its first job (start-up time). Qt-free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.book.horizon import horizon_label
from engine.margin.liquidation_odds import DEFAULT_PATHS

if TYPE_CHECKING:
    import numpy as np

    from engine.margin.liquidation_odds import Odds
    from engine.margin.model import Book, PriceKey
    from engine.market.volatility import Series

NORMAL, BOOTSTRAP = "normal", "bootstrap"
MODELS = {
    NORMAL: ("Normal model (random walk at the volatility)", "engine.margin.liquidation_odds, account_odds"),
    BOOTSTRAP: ("Historical bootstrap (the symbol's own hourly returns)", "engine.margin.bootstrap_odds"),
}
"""The models the window offers: key -> (title, where it is defined)."""


@dataclass(frozen=True)
class VolatilityInputs:
    """Where the volatilities come from, per price key: typed in the portfolio file (annualised, wins), hourly
    candles, the stored mark history resampled to hours (engine.market.volatility.market_volatility).
    The same object for the same book: the worker keeps what it derives from it."""

    typed: Mapping[PriceKey, float] = field(default_factory=dict)
    candles: Mapping[PriceKey, Series] = field(default_factory=dict)
    history: Mapping[PriceKey, Series] = field(default_factory=dict)


@dataclass(frozen=True)
class OddsJob:
    """What one refresh needs; row arrays float64, shape (rows,), in the book's position order.

    token: identifies the rows (the book's positions); the result is shown only on those rows. book: the
    book the rows are of; marks: the marks they were evaluated at; row_keys: each row's price key."""

    token: object
    book: Book
    marks: Mapping[PriceKey, float]
    row_keys: Sequence[PriceKey]
    mark: np.ndarray
    liquidation: np.ndarray
    distance: np.ndarray
    inputs: VolatilityInputs
    hours: float
    paths: int = DEFAULT_PATHS
    accounts: bool = True
    """False: the positions' figures only (no Monte Carlo)."""
    model: str = NORMAL
    """A key of MODELS."""


@dataclass(frozen=True)
class OddsResult:
    """A job's answer: probability per row (NaN: unknown) and the volatility used per row (NaN: unknown), per
    account (book order) an Odds (empty when the job asked for none), the thread it was computed on, and how
    long it took in seconds."""

    token: object
    probability: np.ndarray
    volatility: np.ndarray
    accounts: list[Odds]
    account_names: tuple[str, ...]
    """The accounts `accounts` is of (the job's book's, in its order)."""
    hours: float
    thread: int
    seconds: float
    model: str = NORMAL
    process: int = 0
    """The id of the process it was computed in."""


def column_title(hours: float) -> str:
    """'P(liq 24h)': the column's title at a horizon."""
    return f"P(liq {horizon_label(hours)})"


def probability_text(o: Odds) -> str:
    """'3.21%', '3.21% ±0.15%' for a Monte Carlo figure, '<0.01%' for a tiny one, '—' when there is none."""
    if o.probability is None:
        return "—"
    p = o.probability
    text = "<0.01%" if 0 < p < 5e-5 else f"{p * 100:.2f}%"
    if o.standard_error is not None and 0 < p < 1:
        text += f" ±{o.standard_error * 100:.2f}%"
    return text
