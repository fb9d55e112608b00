"""`marginwatch sync`: sync the linked accounts of the saved book and say what changed, in words or as JSON.

Text, one block per account:

    main (binanceusdm): synced 2026-12-01 01:10:05 UTC: 1 opened, 1 changed, 0 closed; wallet 10,000.00 USDT
    -> 10,250.00 USDT  (one line)
      opened  BTC/USDT:USDT long 0.5 @ 60,000.00 USDT, cross 10x
      changed ETH/USDT:USDT short: contracts 2 -> 3, entry_price 3,100 -> 3,080
      liquidation BTC/USDT:USDT long: ours 42,650.60 USDT, the exchange's 42,700.00 USDT (difference -49.40 USDT)
      CHECK ...  (beyond the tolerance: which figure is whose)

A failed account: "main (binanceusdm): sync FAILED: <why>; the book keeps the last good sync (12 min old)".
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from engine.book.formats import money
from engine.book.safe_text import printable
from engine.margin.crosscheck import DEFAULT_TOLERANCE
from engine.margin.model import Account, Book, quote_currency_of
from engine.storage.database import BookDatabase
from engine.sync.reconcile import Change
from engine.sync.run import AccountSync, link_problem, summary, sync_account

EXIT_SYNC_FAILED = 1
"""At least one account could not be synced (its book was left as it was)."""


class BadSelection(ValueError):
    """The accounts asked for cannot be synced: one line naming the account and what to do."""


def accounts_to_sync(book: Book, names: Sequence[str] | None) -> list[Account]:
    """The accounts `sync` works on: those named (each must exist and be linked), else every linked one.
    Raises BadSelection (an unknown or unlinked account, or none linked at all)."""
    by_name = {a.name: a for a in book.accounts}
    for name in names or ():
        if name not in by_name:
            known = ", ".join(f"'{printable(n)}'" for n in by_name) or "none"
            raise BadSelection(f"--account: the saved book has no account '{printable(name)}' (it has {known})")
        problem = link_problem(by_name[name])
        if problem:
            raise BadSelection(problem)
    if names:
        return [by_name[n] for n in dict.fromkeys(names)]
    linked = [a for a in book.accounts if link_problem(a) is None]
    if not linked:
        raise BadSelection("no account of the saved book is linked to an exchange (README: Sync)")
    return linked


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h" if seconds < 172800 else f"{seconds / 86400:.0f} days"


def _line(change: Change) -> str:
    p = change.after or change.before
    assert p is not None
    head = f"{printable(change.symbol)} {change.side.value}"
    if change.before is None:
        quote = quote_currency_of(p.symbol)
        return f"{head} {p.contracts:g} @ {p.entry_price:,.2f} {quote}, {p.margin_mode.value} {p.leverage:g}x"
    if change.after is None:
        return f"{head} {p.contracts:g} @ {p.entry_price:,.2f} (closed on the exchange; kept in the sync log)"
    if change.after.hypothetical and not change.before.hypothetical:
        return f"{head}: typed by hand and held on the exchange too; set aside as hypothetical, not merged"
    moved = ", ".join(f"{f} {getattr(change.before, f)!s} -> {getattr(change.after, f)!s}" for f in change.fields)
    return f"{head}: {moved}"


def sync_text(result: AccountSync, now: float) -> str:
    """One account's sync as the lines the command prints (see the module's docstring)."""
    head = f"{printable(result.account)} ({result.exchange})"
    if result.error is not None:
        age = "it was never synced" if result.last_good is None else f"{_age(now - result.last_good)} old"
        return f"{head}: sync FAILED: {result.error}; the book keeps its last good sync ({age})\n"
    outcome = result.outcome
    assert outcome is not None
    currency = outcome.book.account(result.account).currency
    wallet = f"wallet {money(outcome.wallet_before, currency)} -> {money(outcome.wallet_after, currency)}"
    counts = f"{len(outcome.opened)} opened, {len(outcome.changed)} changed, {len(outcome.closed)} closed"
    lines = [f"{head}: synced {_when(outcome.synced_at)}: {counts}; {wallet}"]
    for word, changes in (("opened", outcome.opened), ("changed", outcome.changed), ("closed", outcome.closed)):
        lines += [f"  {word:8} {_line(c)}" for c in changes]
    lines += [f"  conflict {_line(c)}" for c in outcome.conflicts]
    for (symbol, side), (check, _mark) in result.checks.items():
        if check is None:
            continue
        label = "CHECK" if check.check else "liq."
        words = check.words(quote_currency_of(symbol))
        lines.append(f"  {label:8} {printable(symbol)} {side.value}: {words}")
    return "\n".join(lines) + "\n"


def sync_to_dict(result: AccountSync) -> dict[str, Any]:
    """One account's sync for `sync --json`: account, exchange, ok, synced_at, error {kind, message} or null,
    and when it succeeded opened / changed / closed / conflicts / wallet / positions (engine.sync.run.summary)."""
    out: dict[str, Any] = {"account": result.account, "exchange": result.exchange, "ok": result.ok}
    if result.error is not None:
        out["error"] = {"kind": result.error.kind.value, "message": str(result.error)}
        out["last_good_sync"] = result.last_good
        return out
    assert result.outcome is not None
    return {**out, "synced_at": result.at, "error": None, **summary(result.outcome, result.checks)}


def run_sync(
    db: BookDatabase,
    names: Sequence[str],
    settings: Mapping[str, Any],
    out: TextIO,
    as_json: bool = False,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
) -> int:
    """Sync each named account in turn (each its own transaction) and print what happened; 0 when every one
    succeeded, EXIT_SYNC_FAILED otherwise. StorageError propagates (the caller's exit status 1)."""
    results = [sync_account(db, name, settings, tolerance=tolerance) for name in names]
    if as_json:
        out.write(json.dumps({"accounts": [sync_to_dict(r) for r in results]}, allow_nan=False) + "\n")
    else:
        now = time.time()
        out.write("".join(sync_text(r, now) for r in results))
    return 0 if all(r.ok for r in results) else EXIT_SYNC_FAILED
