"""A read-only table model over the engine's account figures, in each account's settlement currency."""

from __future__ import annotations

from collections.abc import Mapping

from desktop.text_table_model import TextTableModel
from engine.report import money
from engine.risk import AccountRisk, BookRisk
from engine.rules import profile_for


def _ratio(a: AccountRisk, move: float | None) -> str:
    return "n/a (equity ≤ 0)" if a.margin_ratio is None else f"{a.margin_ratio * 100:.2f}%"


def _move(a: AccountRisk, move: float | None) -> str:
    """The uniform move of all cross marks that liquidates the account: '-23.4% to liquidation'."""
    if move is None:
        return "none"
    return f"{move * 100:+.1f}% to liquidation"


COLUMNS = (
    ("Account", lambda a, m: a.account.name),
    ("Exchange", lambda a, m: profile_for(a.account.exchange).title + (" (estimate)" if a.estimate else "")),
    ("Wallet", lambda a, m: money(a.wallet_balance, a.account.currency)),
    ("uPnL", lambda a, m: money(a.unrealized_pnl, a.account.currency)),
    ("Equity", lambda a, m: money(a.equity, a.account.currency)),
    ("Maint. margin", lambda a, m: money(a.maintenance_margin, a.account.currency)),
    ("Margin ratio", _ratio),
    ("Available", lambda a, m: money(a.available_balance, a.account.currency)),
    ("All cross marks move", _move),
)


def _cells(risk: BookRisk, moves: Mapping[str, float | None]) -> list[list[str]]:
    return [[text(a, moves.get(a.account.name)) for _, text in COLUMNS] for a in risk.accounts]


class AccountsModel(TextTableModel):
    def __init__(self, risk: BookRisk, moves: Mapping[str, float | None] | None = None) -> None:
        super().__init__(
            [title for title, _ in COLUMNS], [c >= 2 for c in range(len(COLUMNS))], _cells(risk, moves or {})
        )

    def set_risk(self, risk: BookRisk, moves: Mapping[str, float | None] | None = None) -> None:
        self.replace_cells(_cells(risk, moves or {}))
