"""The pure merge of what an exchange says an account holds into the book (no I/O; engine.sync.run saves it).

Rules (issue 17):
- a position the exchange holds is in the book flagged synced (Position.synced_at = the sync's time), with
  the exchange's contracts, entry price, margin mode, leverage, isolated margin and liquidation price; a note
  the user wrote on it is kept;
- a synced position the exchange no longer holds leaves the book (it is reported as closed, and the log of
  syncs keeps it: engine.storage.sync_log);
- a position typed by hand on the account is kept; where the exchange holds the same symbol and side (in a
  one-way account: the same symbol) it is a conflict: never merged into the synced one, it is kept, unchanged
  but set aside as hypothetical (so it is not counted twice in the real figures) with a note that says so;
- hypothetical positions are untouched; other accounts are untouched;
- the account's wallet balance (and position mode, when the positions tell it) come from the exchange.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from engine.margin.model import Book, Position, PositionMode, Side
from engine.sync.exchange_state import ExchangePosition, ExchangeState

SYNCED_FIELDS = ("contracts", "entry_price", "margin_mode", "leverage", "isolated_margin")
CONFLICT_NOTE = "sync conflict"


@dataclass(frozen=True, slots=True)
class Change:
    """One position the sync opened, changed, closed or found in conflict: before / after (None where there is
    none), and for a change the names of the fields that moved (SYNCED_FIELDS)."""

    symbol: str
    side: Side
    before: Position | None
    after: Position | None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """The book after one account's sync and what moved. wallet_before / wallet_after in the account's currency."""

    book: Book
    account: str
    synced_at: float
    opened: tuple[Change, ...]
    changed: tuple[Change, ...]
    closed: tuple[Change, ...]
    conflicts: tuple[Change, ...]
    wallet_before: float
    wallet_after: float

    @property
    def unchanged(self) -> bool:
        """True when nothing but the sync time moved."""
        moved = self.opened or self.changed or self.closed or self.conflicts
        return not moved and self.wallet_before == self.wallet_after


def _from_exchange(p: Position, e: ExchangePosition, now: float) -> Position:
    return replace(
        p,
        contracts=e.contracts,
        entry_price=e.entry_price,
        margin_mode=e.margin_mode,
        leverage=e.leverage,
        isolated_margin=e.isolated_margin,
        hypothetical=False,
        synced_at=now,
        exchange_liquidation_price=e.liquidation_price,
    )


def _conflict_note(p: Position, e: ExchangePosition, now: float) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(now))
    held = f"the exchange holds {e.side.value} {e.contracts:g} @ {e.entry_price:g}"
    return f"{CONFLICT_NOTE} {when}: {held}; typed by hand, set aside" + (f" · {p.note}" if p.note else "")


def _opened(account: str, state: ExchangeState, seen: set[tuple[str, Side]]) -> list[Change]:
    """The exchange's positions the book does not hold yet, as new synced positions, in the exchange's order."""
    opened = []
    for e in state.positions:
        if (e.symbol, e.side) in seen:
            continue
        seen.add((e.symbol, e.side))
        stub = Position(account, e.symbol, e.side, e.contracts, e.entry_price, e.margin_mode, e.leverage)
        opened.append(Change(e.symbol, e.side, None, _from_exchange(stub, e, state.fetched_at)))
    return opened


def reconcile(book: Book, account: str, state: ExchangeState) -> SyncOutcome:
    """The book with `account` brought to `state`, and what moved (see the module's docstring for the rules).

    book: the saved book (it must hold the account: KeyError otherwise); the result's markets are the input's,
    so a caller resolves the markets of newly opened symbols by passing the book through the book rules
    (engine.book.portfolio.parse_portfolio), as every door does. Positions keep their order; opened ones are
    appended in the exchange's order.
    """
    old_account = book.account(account)
    now = state.fetched_at
    one_way = (state.position_mode or old_account.position_mode) is PositionMode.ONEWAY
    held = {(e.symbol, e.side): e for e in state.positions}
    held_symbols = {e.symbol: e for e in state.positions}
    positions: list[Position] = []
    seen: set[tuple[str, Side]] = set()
    changed: list[Change] = []
    closed: list[Change] = []
    conflicts: list[Change] = []
    for p in book.positions:
        if p.account != account or p.hypothetical:
            positions.append(p)
            continue
        key = (p.symbol, p.side)
        if p.synced:
            e = held.get(key)
            if e is None or key in seen:
                closed.append(Change(p.symbol, p.side, p, None))
                continue
            seen.add(key)
            updated = _from_exchange(p, e, now)
            moved = tuple(f for f in SYNCED_FIELDS if getattr(p, f) != getattr(updated, f))
            if moved:
                changed.append(Change(p.symbol, p.side, p, updated, moved))
            positions.append(updated)
            continue
        e = held.get(key) or (held_symbols.get(p.symbol) if one_way else None)
        if e is None:
            positions.append(p)  # typed by hand, not on the exchange: kept as typed
            continue
        aside = replace(p, hypothetical=True, note=_conflict_note(p, e, now))
        conflicts.append(Change(p.symbol, p.side, p, aside))
        positions.append(aside)
    opened = _opened(account, state, seen)
    positions += [c.after for c in opened if c.after is not None]
    new_account = replace(
        old_account,
        wallet_balance=state.wallet_balance,
        position_mode=state.position_mode or old_account.position_mode,
        currency=old_account.currency or state.currency,
    )
    accounts = tuple(new_account if a.name == account else a for a in book.accounts)
    return SyncOutcome(
        Book(accounts, tuple(positions), book.markets),
        account,
        now,
        tuple(opened),
        tuple(changed),
        tuple(closed),
        tuple(conflicts),
        old_account.wallet_balance,
        state.wallet_balance,
    )
