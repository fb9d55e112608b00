"""Risk reports: the `risk --json` document and the readable terminal table."""

from __future__ import annotations

from typing import Any

from engine.risk import BookRisk
from engine.rules import profile_for
from engine.safe_text import printable


def risk_to_dict(risk: BookRisk) -> dict[str, Any]:
    """The `marginwatch risk --json` shape: numbers as numbers, None as null, positions in book order."""
    return {
        "accounts": [
            {
                "name": a.account.name,
                "exchange": a.account.exchange,
                "wallet_balance": a.wallet_balance,
                "unrealized_pnl": a.unrealized_pnl,
                "equity": a.equity,
                "initial_margin": a.initial_margin,
                "maintenance_margin": a.maintenance_margin,
                "margin_ratio": a.margin_ratio,
                "available_balance": a.available_balance,
            }
            for a in risk.accounts
        ],
        "positions": [
            {
                "account": r.position.account,
                "symbol": r.position.symbol,
                "side": r.position.side.value,
                "contracts": r.position.contracts,
                "entry_price": r.position.entry_price,
                "mark_price": r.mark_price,
                "notional": r.notional,
                "unrealized_pnl": r.unrealized_pnl,
                "roe": r.roe,
                "initial_margin": r.initial_margin,
                "maintenance_margin": r.maintenance_margin,
                "liquidation_price": r.liquidation_price,
                "distance_to_liquidation": r.distance_to_liquidation,
                "hypothetical": r.position.hypothetical,
            }
            for r in risk.positions
        ],
    }


def money(value: float, currency: str) -> str:
    decimals = 2 if currency.upper() in {"USDT", "USDC", "USD", "BUSD", "FDUSD"} else 6
    return f"{value:,.{decimals}f} {currency}"


def price(value: float | None) -> str:
    if value is None:
        return "none"
    return f"{value:,.2f}" if value >= 100 else f"{value:,.6g}"


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.2f}%"


def _table(headers: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    rows = [[printable(cell) for cell in row] for row in rows]  # names and notes never drive the terminal
    widths = [max(len(h), *(len(r[c]) for r in rows)) if rows else len(h) for c, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        out = []
        for c, cell in enumerate(cells):
            out.append(cell.ljust(widths[c]) if c < left else cell.rjust(widths[c]))
        return "  ".join(out).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def risk_to_text(risk: BookRisk) -> str:
    currency = {a.account.name: a.account.currency for a in risk.accounts}
    account_rows = []
    for a in risk.accounts:
        cur = a.account.currency
        ratio = "n/a (equity <= 0)" if a.margin_ratio is None else f"{a.margin_ratio * 100:.2f}%"
        exchange = profile_for(a.account.exchange).title
        account_rows.append(
            [
                a.account.name,
                exchange,
                money(a.wallet_balance, cur),
                money(a.unrealized_pnl, cur),
                money(a.equity, cur),
                money(a.maintenance_margin, cur),
                ratio,
                money(a.available_balance, cur),
            ]
        )
    position_rows = []
    for r in risk.positions:
        p = r.position
        cur = currency[p.account]
        position_rows.append(
            [
                p.account,
                p.symbol + (" (hyp)" if p.hypothetical else ""),
                f"{p.side.value} {p.margin_mode.value} {p.leverage:g}x",
                f"{p.contracts:g}",
                price(p.entry_price),
                price(r.mark_price),
                money(r.unrealized_pnl, cur),
                percent(r.roe),
                money(r.maintenance_margin, cur),
                price(r.liquidation_price),
                percent(r.distance_to_liquidation),
            ]
        )
    lines = ["Accounts"]
    lines += _table(
        ["account", "exchange", "wallet", "uPnL", "equity", "maint. margin", "margin ratio", "available"],
        account_rows,
        left=2,
    )
    lines += ["", "Positions"]
    lines += _table(
        [
            "account",
            "symbol",
            "position",
            "contracts",
            "entry",
            "mark",
            "uPnL",
            "ROE",
            "maint. margin",
            "liq. price",
            "to liq.",
        ],
        position_rows,
        left=3,
    )
    estimates = sorted({a.account.exchange for a in risk.accounts if a.estimate})
    if estimates:
        lines += ["", f"Estimate: no rule profile for {printable(', '.join(estimates))}; the generic rule was used."]
    return "\n".join(lines) + "\n"
