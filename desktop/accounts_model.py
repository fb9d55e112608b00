"""A read-only table model over the engine's account figures, in each account's settlement currency."""

from __future__ import annotations

from desktop.text_table_model import TextTableModel
from engine.report import money
from engine.risk import AccountRisk, BookRisk
from engine.rules import profile_for


def _ratio(a: AccountRisk) -> str:
    return "n/a (equity ≤ 0)" if a.margin_ratio is None else f"{a.margin_ratio * 100:.2f}%"


COLUMNS = (
    ("Account", lambda a: a.account.name),
    ("Exchange", lambda a: profile_for(a.account.exchange).title + (" (estimate)" if a.estimate else "")),
    ("Wallet", lambda a: money(a.wallet_balance, a.account.currency)),
    ("uPnL", lambda a: money(a.unrealized_pnl, a.account.currency)),
    ("Equity", lambda a: money(a.equity, a.account.currency)),
    ("Maint. margin", lambda a: money(a.maintenance_margin, a.account.currency)),
    ("Margin ratio", _ratio),
    ("Available", lambda a: money(a.available_balance, a.account.currency)),
)


class AccountsModel(TextTableModel):
    def __init__(self, risk: BookRisk) -> None:
        super().__init__(
            [title for title, _ in COLUMNS],
            [c >= 2 for c in range(len(COLUMNS))],
            [[text(a) for _, text in COLUMNS] for a in risk.accounts],
        )

    def set_risk(self, risk: BookRisk) -> None:
        self.replace_cells([[text(a) for _, text in COLUMNS] for a in risk.accounts])
