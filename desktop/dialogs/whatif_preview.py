"""The what-if dialog's before -> after table, as rows of text (no widgets): what the preview shows of a plan.

rows() takes the account's risk before and after the trade (engine.margin.risk.evaluate_book of
engine.book.whatif.account_book at the same marks) and the plan (engine.book.trade_plan), and gives
[title, before, after] per row: the traded position, the account, and the other cross positions it moves.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop.dialogs.whatif_fees import fee_rows
from desktop.tables.position_columns import position_ratio_text
from engine.book.formats import contracts as contract_count
from engine.book.formats import money, percent, quoted_price
from engine.book.trade_checks import PRICE_BAND, TradeMargin
from engine.book.trade_plan import TradePlan, margin_refusal
from engine.book.whatif import index_in_account
from engine.margin.model import Account, Book, MarginMode, MarketSpec, Position, PositionMode, quote_currency_of
from engine.margin.risk import BookRisk, PositionRisk
from engine.monitor.report import account_ratio_text

NOTHING = "—"


def contracts_text(position: Position) -> str:
    return f"{position.side.value} {contract_count(position.contracts)}"


def contracts_unit(market: MarketSpec) -> str:
    """What one contract is: base units for a linear contract, USD for an inverse one."""
    base = "USD" if market.inverse else market.symbol.split("/", 1)[0]
    return f"contracts × {market.contract_size:g} {base}"


def position_label(position: Position) -> str:
    return f"{position.symbol} {position.side.value}" + (" (hypothetical)" if position.hypothetical else "")


def moved(before: float | None, after: float | None) -> bool:
    if before is None or after is None:
        return before is not after
    return abs(after - before) > 1e-9 * max(abs(before), abs(after))


def rows(
    book: Book,
    index: int | None,
    before: BookRisk,
    after: BookRisk | None,
    plan: TradePlan | None,
    margin: TradeMargin | None,
    currency: str,
    quote: str,
) -> list[list[str]]:
    """The preview of a trade on book.positions[index] (None: an opening) as [title, before, after] rows.

    after and plan are None while the trade as typed cannot be evaluated: the after column is then empty.
    Money is in `currency` (the account's settlement currency), prices in `quote`."""
    cur = currency
    b_target = index_in_account(book, index) if index is not None else None
    a_target = None
    if plan is not None and plan.target is not None:
        a_target = index_in_account(plan.after, plan.target)

    def cell(risk: BookRisk | None, k: int | None, text: Callable[[PositionRisk], str]) -> str:
        if risk is None:
            return ""
        return NOTHING if k is None else text(risk.positions[k])

    def both(title: str, text: Callable[[PositionRisk], str], closed: str = NOTHING) -> list[str]:
        after_text = cell(after, a_target, text)
        if after is not None and a_target is None and b_target is not None:
            after_text = closed
        return [title, cell(before, b_target, text), after_text]

    shown = [
        both("Contracts", lambda r: contracts_text(r.position), closed="closed"),
        both("Entry price", lambda r: quoted_price(r.position.entry_price, quote)),
    ]
    if any(
        risk.positions[k].position.margin_mode is MarginMode.ISOLATED
        for risk, k in ((before, b_target), (after, a_target))
        if risk is not None and k is not None
    ):
        shown.append(both("Isolated margin", lambda r: _isolated_margin(r.position, cur)))
    shown += [
        both("Liquidation price", lambda r: quoted_price(r.liquidation_price, quote)),
        both("Distance to liquidation", lambda r: percent(r.distance_to_liquidation)),
        both("Margin ratio", position_ratio_text),  # an isolated position's own, a cross one's account's
    ]
    if plan is not None and plan.action in ("reduce", "close", "flip"):
        realized = money(plan.realized_pnl, cur) + ("" if plan.credited else " (not credited)")
        shown.append(["Realized PnL", NOTHING, realized])
    shown += fee_rows(book, index, plan, cur)
    shown += _account_rows(before, after, margin, cur)
    if after is not None:
        shown += other_rows(before, after, b_target, a_target)
    return shown


def _isolated_margin(p: Position, currency: str) -> str:
    return money(p.isolated_margin, currency) if p.margin_mode is MarginMode.ISOLATED else "cross"


def _account_rows(before: BookRisk, after: BookRisk | None, margin: TradeMargin | None, cur: str) -> list[list[str]]:
    a_before = before.accounts[0]
    a_after = after.accounts[0] if after is not None else None
    shown = []
    for title, text in (
        ("Wallet balance", lambda a: money(a.wallet_balance, cur)),
        ("Equity", lambda a: money(a.equity, cur)),
        ("Available balance", lambda a: money(a.available_balance, cur)),
        ("Cross margin ratio", lambda a: account_ratio_text(a).replace("<=", "≤")),
    ):
        shown.append([title, text(a_before), text(a_after) if a_after is not None else ""])
        if title == "Available balance" and margin is not None and margin.refused:
            shown[-1][2] = f"{money(0.0, cur)}: short by {money(-margin.after, cur)}"
    return shown


def other_rows(before: BookRisk, after: BookRisk, b_target: int | None, a_target: int | None) -> list[list[str]]:
    """Liquidation prices of the account's other cross positions that the trade moves."""
    others_before = [k for k in range(len(before.positions)) if k != b_target]
    others_after = [k for k in range(len(after.positions)) if k != a_target]
    shown = []
    cross = 0
    for kb, ka in zip(others_before, others_after, strict=True):
        rb, ra = before.positions[kb], after.positions[ka]
        if rb.position.margin_mode is not MarginMode.CROSS:
            continue
        cross += 1
        if moved(rb.liquidation_price, ra.liquidation_price):
            quote = quote_currency_of(rb.position.symbol)
            shown.append(
                [
                    f"{position_label(rb.position)} liq. price",
                    quoted_price(rb.liquidation_price, quote),
                    quoted_price(ra.liquidation_price, quote),
                ]
            )
    if cross and not shown:
        shown.append(["Other cross positions", "", "liq. prices unchanged"])
    return shown


def subject(account: Account, position: Position | None, mark: float | None) -> str:
    """The dialog's first line: the traded position as it stands (mark in its quote currency, 'unknown' without
    one), or the account a position is opened in."""
    mode = "hedge" if account.position_mode is PositionMode.HEDGE else "one-way"
    if position is None:
        return f"Open a position in {account.name} ({account.exchange}, {mode} mode, {account.currency})"
    p, quote = position, quote_currency_of(position.symbol)
    return (
        f"{account.name} ({account.exchange}, {mode} mode): {p.symbol} {contracts_text(p)}, "
        f"{p.margin_mode.value} {p.leverage:g}x, entry {quoted_price(p.entry_price, quote)}, "
        f"mark {quoted_price(mark, quote) if mark is not None else 'unknown'}"
        + (" — hypothetical" if p.hypothetical else "")
    )


def notes(
    plan: TradePlan | None,
    margin: TradeMargin | None,
    currency: str,
    refused: tuple[str, str],
    away: float | None,
    unpriced: bool,
) -> list[str]:
    """The notes under the preview, one per line. refused: why (hypothetical, real) are refused, "" if offered;
    away: the trade price's signed distance from the mark when beyond PRICE_BAND; unpriced: the symbol opened
    has no mark yet."""
    shown: list[str] = []
    if unpriced:
        shown.append("No mark price for this symbol yet: it is evaluated with the mark at the trade price.")
    if margin is not None and margin.refused and not refused[0]:
        shown.append(
            f"{margin_refusal(margin, currency)} Applied as hypothetical it stays a what-if the account cannot fund."
        )
    if away is not None:
        shown.append(
            f"The trade price is {abs(away) * 100:.1f}% {'above' if away > 0 else 'below'} the mark (more than "
            f"{PRICE_BAND * 100:g}%): applying asks you to confirm it."
        )
    if plan is not None and not plan.credited and plan.realized_pnl:
        shown.append("A trade on a hypothetical position realizes nothing: the wallet is left as it is.")
    return shown + [reason for reason in refused if reason]
