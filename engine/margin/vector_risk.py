"""The vectorised engine's result: per-position and per-account arrays (engine.margin.vectorised)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class VectorRisk:
    """Per-position and per-account arrays, in book order (accounts as in book.accounts).

    Position arrays have shape (n_positions,), account arrays (n_accounts,); float64 unless marked bool.
    Units as engine.margin.risk.PositionRisk / AccountRisk; NaN where a mark is missing or a figure overflows.
    """

    mark_price: np.ndarray
    notional: np.ndarray
    unrealized_pnl: np.ndarray
    roe: np.ndarray
    initial_margin: np.ndarray
    maintenance_margin: np.ndarray
    liquidation_price: np.ndarray
    """NaN where no positive price liquidates."""
    distance_to_liquidation: np.ndarray
    account_unrealized_pnl: np.ndarray
    account_equity: np.ndarray
    account_initial_margin: np.ndarray
    account_maintenance_margin: np.ndarray
    account_margin_ratio: np.ndarray
    """The cross margin ratio (cross maintenance / cross margin balance); NaN where the account has no cross
    position, its cross balance is <= 0 or unknown (engine.margin.risk explains the ratio and its sources)."""
    account_available_balance: np.ndarray
    position_margin_ratio: np.ndarray
    """Isolated: own maintenance / (own margin + uPnL); cross: the account's cross ratio; NaN where none."""
    account_cross_margin_balance: np.ndarray
    """Cross wallet + cross uPnL (NaN where the account has no cross position or a cross mark is missing)."""
    account_cross_maintenance_margin: np.ndarray
    account_liquidated: np.ndarray
    """bool: the cross account is at or past its liquidation point."""
    account_cross_known: np.ndarray
    """bool: every cross mark of the account is in and its cross figures are finite (or it has no cross leg)."""
    account_has_cross: np.ndarray
    """bool: the account holds at least one cross position."""
