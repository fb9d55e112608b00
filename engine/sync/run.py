"""One account's sync: read it from the exchange, reconcile, check with the book rules, cross-check the
liquidation prices, save the book and the log entry in one transaction. A failure saves nothing but its log
entry: the last good book stays, and its age is known (BookDatabase.last_good_sync)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from engine.book.portfolio import Portfolio, PortfolioError, parse_portfolio, portfolio_to_dict
from engine.margin.crosscheck import DEFAULT_TOLERANCE, LiquidationCheck, check_liquidation
from engine.margin.market_choice import resolve_market
from engine.margin.model import Account, MarketSpec, Position, PriceKey, Side
from engine.margin.risk import evaluate_book
from engine.storage.database import BookDatabase
from engine.sync.errors import SyncError, SyncFailure
from engine.sync.exchange_state import ExchangeState
from engine.sync.keys import ADDRESS_EXCHANGES, Credentials, link_problem, load_credentials, not_linked_message
from engine.sync.reader import AccountReader
from engine.sync.reconcile import Change, SyncOutcome, reconcile

__all__ = ["AccountSync", "apply_state", "link_problem", "not_linked_message", "read_account", "sync_account"]

ReaderFactory = Callable[[Account, Credentials | None], Any]
"""(account, credentials) -> an object with fetch(currency) -> ExchangeState (AccountReader by default)."""


@dataclass(frozen=True)
class AccountSync:
    """What one account's sync did: outcome and checks when it succeeded, error when it failed (then
    last_good is the Unix time of the last good sync, None when there was none). checks: (symbol, side) ->
    the cross-check of each synced position at the exchange's marks, with that mark."""

    account: str
    exchange: str
    at: float
    outcome: SyncOutcome | None = None
    checks: Mapping[tuple[str, Side], tuple[LiquidationCheck | None, float | None]] = field(default_factory=dict)
    error: SyncError | None = None
    last_good: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _default_reader(settings: Mapping[str, Any]) -> ReaderFactory:
    def make(account: Account, credentials: Credentials | None) -> AccountReader:
        return AccountReader(account.exchange, credentials, account.wallet_address, settings.get(account.exchange))

    return make


def read_account(
    account: Account,
    settings: Mapping[str, Any] | None = None,
    *,
    reader: ReaderFactory | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> ExchangeState:
    """The account's state on its exchange, read now (the network part of a sync: run it off the GUI thread).
    settings: exchange id -> ccxt constructor settings (the --exchange-config 'ccxt' members). overrides: the
    book's market_overrides, when given the tier tables its positions lack are fetched with it (missing_tables).
    Raises SyncError."""
    credentials = None
    if not (account.wallet_address and account.exchange.startswith(ADDRESS_EXCHANGES)):
        credentials = load_credentials(account.name, environ)
        if credentials is None:
            raise SyncError(SyncFailure.NOT_LINKED, not_linked_message(account))
    state = (reader or _default_reader(settings or {}))(account, credentials).fetch(account.currency)
    if overrides is None:
        return state
    return dataclasses.replace(state, markets=missing_tables(account.exchange, state, overrides, settings or {}))


def missing_tables(
    exchange: str, state: ExchangeState, overrides: Mapping[str, Any], settings: Mapping[str, Any]
) -> dict[PriceKey, MarketSpec]:
    """Tier tables for the state's positions that no table gives yet (not in the file's markets, the fetched
    tables or the bundled ones), fetched now through ccxt's public calls as `watch` does: Bybit's risk limits
    are only fetched, so a first sync would otherwise refuse every Bybit symbol. {} when none is missing or the
    exchange does not answer (then the book rules say which symbol has no table)."""
    keys = [(exchange, p.symbol) for p in state.positions if resolve_market(exchange, p.symbol, overrides) is None]
    if not keys:
        return {}
    from engine.market.feeds.tier_fetch import fetch_tables_now  # asyncio and ccxt's async side: only when needed

    result = fetch_tables_now(keys, {exchange: settings.get(exchange) or {}}).get(exchange)
    return {(exchange, symbol): market for symbol, market in (result.markets if result else {}).items()}


def apply_state(
    db: BookDatabase | None, portfolio: Portfolio, name: str, state: ExchangeState, tolerance: float = DEFAULT_TOLERANCE
) -> tuple[AccountSync, Portfolio]:
    """Reconcile `state` into the account `name` of portfolio, check the result with the book rules, cross-check
    the liquidation prices, and save book and log entry in one transaction when db is given (with the tier
    tables fetched with the state, stored as a live feed stores them). Returns what the
    sync did and the new portfolio. Raises SyncError (REFUSED_BY_RULES; nothing saved) and StorageError."""
    if state.markets:
        portfolio = dataclasses.replace(
            portfolio, market_overrides=portfolio.market_overrides.with_fetched(state.markets)
        )
    outcome = reconcile(portfolio.book, name, state)
    checked = _checked(portfolio, outcome)
    checks = cross_checks(checked.book.positions, checked, name, state, tolerance)
    exchange = checked.book.account(name).exchange
    if db is not None:
        if state.markets:
            db.save_fetched_markets(exchange, {symbol: market for (_, symbol), market in state.markets.items()})
        db.save_synced_book(checked, name, outcome.synced_at, summary(outcome, checks))
    return AccountSync(name, exchange, outcome.synced_at, outcome, checks), checked


def sync_account(
    db: BookDatabase,
    name: str,
    settings: Mapping[str, Any] | None = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    reader: ReaderFactory | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
) -> AccountSync:
    """Sync the saved book's account `name` (see the module's docstring): read_account, then apply_state on the
    book as saved once the exchange has answered. Raises KeyError for an account the book does not have and
    StorageError when the book cannot be read or saved; every other failure is the result's error (logged)."""
    saved = db.load()
    account = saved.book.account(name)
    try:
        state = read_account(account, settings, reader=reader, environ=environ, overrides=saved.market_overrides)
        return apply_state(db, db.load(), name, state, tolerance)[0]
    except SyncError as e:
        return failed_sync(db, account, e, clock())


def failed_sync(db: BookDatabase | None, account: Account, error: SyncError, at: float) -> AccountSync:
    """Log a failed sync (when db is given) and say so, with the age of the account's last good sync."""
    if db is None:
        return AccountSync(account.name, account.exchange, at, error=error)
    db.log_failed_sync(account.name, at, {"kind": error.kind.value, "error": str(error)})
    return AccountSync(account.name, account.exchange, at, error=error, last_good=db.last_good_sync(account.name))


def _checked(portfolio: Portfolio, outcome: SyncOutcome) -> Portfolio:
    """The outcome through the one validator (markets of new symbols resolved as the saved book's were, with
    its fetched tables: Bybit's risk limits are only fetched); SyncError naming the rule."""
    overrides = portfolio.market_overrides
    try:
        return parse_portfolio(
            portfolio_to_dict(replace(portfolio, book=outcome.book)),
            overrides.fetched,  # funding rates kept
            overrides.increments,
        )
    except PortfolioError as e:
        raise SyncError(
            SyncFailure.REFUSED_BY_RULES, f"the exchange's positions break a rule of the book, nothing saved: {e}"
        ) from None


def cross_checks(
    positions: tuple[Position, ...], portfolio: Portfolio, name: str, state: ExchangeState, tolerance: float
) -> dict[tuple[str, Side], tuple[LiquidationCheck | None, float | None]]:
    """Each synced position of the account: our liquidation price at the exchange's marks beside the
    exchange's, and that mark (engine.sync.crosscheck)."""
    exchange = portfolio.book.account(name).exchange
    marks = {(exchange, e.symbol): e.mark_price for e in state.positions if e.mark_price}
    risk = evaluate_book(portfolio.book, marks, missing_ok=True)
    out = {}
    for r in risk.positions:
        p = r.position
        if p.account == name and p.synced and not p.hypothetical:
            mark = marks.get((exchange, p.symbol))
            out[(p.symbol, p.side)] = (
                check_liquidation(r.liquidation_price, p.exchange_liquidation_price, mark, tolerance),
                mark,
            )
    return out


def change_to_dict(change: Change) -> dict[str, Any]:
    """A change as JSON: symbol, side, before / after ({contracts, entry_price, margin_mode, leverage,
    isolated_margin} or null) and the fields that moved."""

    def figures(p: Position | None) -> dict[str, Any] | None:
        if p is None:
            return None
        return {
            "contracts": p.contracts,
            "entry_price": p.entry_price,
            "margin_mode": p.margin_mode.value,
            "leverage": p.leverage,
            "isolated_margin": p.isolated_margin,
            "hypothetical": p.hypothetical,
        }

    return {
        "symbol": change.symbol,
        "side": change.side.value,
        "before": figures(change.before),
        "after": figures(change.after),
        "fields": list(change.fields),
    }


def summary(
    outcome: SyncOutcome, checks: Mapping[tuple[str, Side], tuple[LiquidationCheck | None, float | None]]
) -> dict[str, Any]:
    """The sync as JSON (the log's entry and `sync --json`): what moved, the wallet, and each position's check."""
    return {
        "opened": [change_to_dict(c) for c in outcome.opened],
        "changed": [change_to_dict(c) for c in outcome.changed],
        "closed": [change_to_dict(c) for c in outcome.closed],
        "conflicts": [change_to_dict(c) for c in outcome.conflicts],
        "wallet": {"before": outcome.wallet_before, "after": outcome.wallet_after},
        "positions": [
            {
                "symbol": symbol,
                "side": side.value,
                "mark_price": mark,
                "liquidation_price": check.ours if check else None,
                "exchange_liquidation_price": check.exchange if check else None,
                "liquidation_price_difference": check.difference if check else None,
                "liquidation_check": bool(check and check.check),
            }
            for (symbol, side), (check, mark) in checks.items()
        ],
    }
