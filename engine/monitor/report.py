"""Risk reports: the `risk --json` document and the readable terminal table."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from engine.book.formats import money, percent, price
from engine.book.safe_text import printable
from engine.margin.crosscheck import check_liquidation
from engine.margin.model import Book
from engine.margin.risk import AccountRisk, BookRisk, PositionRisk, estimate_reason
from engine.margin.rules import profile_of
from engine.margin.stops import stop_figures

# The funding and tier parts are imported by the reports that write them, not with the window, which names only
# finite_or_none, price and account_ratio_text (start-up time).
if TYPE_CHECKING:
    from engine.monitor.funding_report import FundingFigures

__all__ = ["account_ratio_text", "money", "percent", "price", "risk_to_dict", "risk_to_text"]
"""The funding lines and fields (file_funding, funding_text) are engine.monitor.funding_report's."""


def finite_or_none(value: float | None) -> float | None:
    """A number for JSON: NaN and infinities (figures that could not be computed) become null."""
    return value if value is not None and math.isfinite(value) else None


def risk_to_dict(
    risk: BookRisk, book: Book | None = None, now: float | None = None, funding: FundingFigures | None = None
) -> dict[str, Any]:
    """The `marginwatch risk --json` shape: numbers as numbers, None as null, positions in book order.

    Accounts: margin_ratio is the cross margin ratio (engine.margin.risk; null when the account has no cross
    position, its cross balance is gone, or a mark is missing); `liquidated` says the cross account is
    at or past its liquidation point; `incomplete` is the reason figures are missing (else null).
    Positions: margin_ratio is an isolated position's own ratio or a cross position's account ratio;
    `incomplete` likewise; take_profit, stop_loss, stop_to_liquidation, stop_beyond_liquidation: stop_fields.
    `estimate` (with `estimate_reason`) marks figures from the generic rule. With `funding`, each account and
    position also has its funding fields (engine.monitor.funding_report).
    """
    estimate_of = {a.account.name: a.estimate for a in risk.accounts}
    reason_of = {a.account.name: estimate_reason(a.account.exchange) for a in risk.accounts}
    document = {
        "accounts": _account_rows(risk, funding),
        "positions": [
            {
                "account": r.position.account,
                "symbol": r.position.symbol,
                "side": r.position.side.value,
                "contracts": r.position.contracts,
                "entry_price": r.position.entry_price,
                "mark_price": finite_or_none(r.mark_price),
                "notional": finite_or_none(r.notional),
                "unrealized_pnl": finite_or_none(r.unrealized_pnl),
                "roe": finite_or_none(r.roe),
                "initial_margin": finite_or_none(r.initial_margin),
                "maintenance_margin": finite_or_none(r.maintenance_margin),
                "liquidation_price": finite_or_none(r.liquidation_price),
                "distance_to_liquidation": finite_or_none(r.distance_to_liquidation),
                "margin_ratio": finite_or_none(r.margin_ratio),
                "hypothetical": r.position.hypothetical,
                "incomplete": r.missing or None,
                "estimate": estimate_of[r.position.account],
                "estimate_reason": reason_of[r.position.account] or None,
                **exchange_figures(r),
                **stop_fields(r),
            }
            for r in risk.positions
        ],
    }
    if book is not None:
        from engine.monitor.tier_report import tier_fields

        for row, fields in zip(document["positions"], tier_fields(book, now), strict=True):
            row.update(fields)
    if funding is not None:
        from engine.monitor.funding_report import position_fields

        for i, row in enumerate(document["positions"]):
            row.update(position_fields(funding, i))
    return document


def _account_rows(risk: BookRisk, funding: FundingFigures | None) -> list[dict[str, Any]]:
    """risk_to_dict's accounts, in book order."""
    from engine.monitor.funding_report import account_fields

    reason_of = {a.account.name: estimate_reason(a.account.exchange) for a in risk.accounts}
    return [
        {
            "name": a.account.name,
            "exchange": a.account.exchange,
            "account_type": a.account.account_type.value,
            "rule_profile": profile_of(a.account).title,
            "wallet_balance": a.wallet_balance,
            "unrealized_pnl": finite_or_none(a.unrealized_pnl),
            "equity": finite_or_none(a.equity),
            "initial_margin": finite_or_none(a.initial_margin),
            "maintenance_margin": finite_or_none(a.maintenance_margin),
            "margin_ratio": finite_or_none(a.margin_ratio),
            "available_balance": finite_or_none(a.available_balance),
            "cross_margin_balance": finite_or_none(a.cross_margin_balance),
            "cross_maintenance_margin": finite_or_none(a.cross_maintenance_margin),
            "has_cross": a.has_cross,
            "liquidated": a.liquidated,
            "incomplete": a.missing or None,
            "estimate": a.estimate,
            "estimate_reason": reason_of[a.account.name] or None,
            **(account_fields(funding, risk, a.account.name) if funding else {}),
        }
        for a in risk.accounts
    ]


def exchange_figures(r: PositionRisk) -> dict[str, Any]:
    """A position's sync fields for --json (engine.sync): synced_at (Unix s, null when typed by hand), the
    exchange's liquidation price as of that sync, ours minus it (quote currency) and the "check" flag
    (engine.margin.crosscheck, default tolerance 0.5% of the mark); null / false for a position typed by hand."""
    p = r.position
    check = None
    if p.synced:
        mark = r.mark_price if math.isfinite(r.mark_price) else None
        check = check_liquidation(finite_or_none(r.liquidation_price), p.exchange_liquidation_price, mark)
    return {
        "synced_at": p.synced_at,
        "exchange_liquidation_price": p.exchange_liquidation_price,
        "liquidation_price_difference": check.difference if check else None,
        "liquidation_check": bool(check and check.check),
    }


def stop_fields(r: PositionRisk) -> dict[str, Any]:
    """A position's take-profit and stop-loss for --json (quote currency, null when not set), the stop's signed
    distance to the liquidation price (a fraction of the mark, positive while the stop fires first; null without a
    stop, a liquidation price or a mark) and whether the stop lies beyond liquidation (engine.margin.stops)."""
    stops = stop_figures(r)
    return {
        "take_profit": stops.take_profit,
        "stop_loss": stops.stop_loss,
        "stop_to_liquidation": finite_or_none(stops.stop_to_liquidation),
        "stop_beyond_liquidation": stops.stop_beyond_liquidation,
    }


def account_ratio_text(a: AccountRisk) -> str:
    """The account's cross margin ratio as a trader reads it, or why there is none."""
    if a.liquidated and a.margin_ratio is None:
        return "liquidated (cross balance gone)"
    if a.margin_ratio is not None:
        return f"{a.margin_ratio * 100:.2f}%" + (" (liquidated)" if a.liquidated else "")
    if a.missing and a.has_cross:
        return "n/a (a mark is missing)"
    if not a.has_cross:
        return "no cross position"
    return "n/a (cross balance <= 0)"


def _table(headers: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    rows = [[printable(cell) for cell in row] for row in rows]  # names and notes never drive the terminal
    widths = [max(len(h), *(len(r[c]) for r in rows)) if rows else len(h) for c, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        out = []
        for c, cell in enumerate(cells):
            out.append(cell.ljust(widths[c]) if c < left else cell.rjust(widths[c]))
        return "  ".join(out).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


ACCOUNT_HEADERS = ["account", "exchange", "wallet", "uPnL", "equity", "cross balance", "cross maint."]
ACCOUNT_HEADERS += ["margin ratio", "available"]
POSITION_HEADERS = ["account", "symbol", "position", "contracts", "entry", "mark", "uPnL", "ROE", "maint. margin"]
POSITION_HEADERS += ["liq. price", "to liq."]


def risk_to_text(
    risk: BookRisk,
    book: Book | None = None,
    now: float | None = None,
    extra: tuple[str, list[str], list[str]] | None = None,
) -> str:
    """The `marginwatch risk` report: accounts, then positions in book order, money in each account's settlement
    currency, figures not computed as '—' with their reason; with the book, its tiers' source and age.

    extra: one more column for both tables, (title, a cell per account, a cell per position), e.g. the
    probability of liquidation (engine.monitor.odds_report.odds_columns)."""
    extra_title = [extra[0]] if extra else []
    currency = {a.account.name: a.account.currency for a in risk.accounts}
    account_rows = [_account_line(a, [extra[1][i]] if extra else []) for i, a in enumerate(risk.accounts)]
    position_rows = []
    for i, r in enumerate(risk.positions):
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
                *([extra[2][i]] if extra else []),
            ]
        )
    lines = ["Accounts"]
    lines += _table(ACCOUNT_HEADERS + extra_title, account_rows, left=2)
    lines += ["", "Positions"]
    lines += _table(POSITION_HEADERS + extra_title, position_rows, left=3)
    if estimates := sorted({a.account.exchange for a in risk.accounts if a.estimate}):
        lines += ["", f"Estimate: no rule profile for {printable(', '.join(estimates))}; the generic rule was used."]
    missing = [f"{r.position.account} {r.position.symbol}: {r.missing}" for r in risk.positions if r.missing]
    if missing:
        lines += ["", "Incomplete:", *(f"  {printable(line)}" for line in missing)]
    from engine.monitor.tier_report import tier_lines

    lines += [
        *(tier_lines(book, now) if book is not None else []),
        "",
        "Margin ratio: the cross account's maintenance margin / cross margin balance (isolated margins excluded);"
        " it liquidates at 100%.",
    ]
    return "\n".join(lines) + "\n"


def _account_line(a: AccountRisk, extra: list[str]) -> list[str]:
    """One account's cells in the text report, in ACCOUNT_HEADERS order, then `extra`."""
    cur = a.account.currency
    return [
        a.account.name,
        profile_of(a.account).title,
        money(a.wallet_balance, cur),
        money(a.unrealized_pnl, cur),
        money(a.equity, cur),
        money(a.cross_margin_balance, cur) if a.has_cross else "none",
        money(a.cross_maintenance_margin, cur) if a.has_cross else "none",
        account_ratio_text(a),
        money(a.available_balance, cur),
        *extra,
    ]
