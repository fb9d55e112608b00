"""The rules that make a book valid: one Qt-free check that every door asks.

The portfolio file, CSV import, the position and account forms, what-if and the command line all build
typed accounts and positions from what they read, then ask check_book() (through build_book()) for every
violation. Each door only turns its own text into numbers and shows what the rules say where the user typed
it; none keeps a rule of its own, so they cannot drift apart again (issue 13: a 100x BTC long of 6,000,000
USDT notional was refused by the form and accepted by the file, CSV import and What-if ▸ Apply as real).

The bounds on numbers (prices, sizes, leverage, margins, wallets) are engine.book.number_bounds'; the rest:

- text (names, symbols, notes, currencies) must be encodable as UTF-8: a lone surrogate ("\\ud800")
  cannot be stored in SQLite nor printed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from engine.book.formats import money
from engine.book.number_bounds import MAX_LEVERAGE as MAX_LEVERAGE  # re-exported: the doors import them from here
from engine.book.number_bounds import MAX_NOTIONAL as MAX_NOTIONAL
from engine.book.number_bounds import MAX_WALLET, bound_problem, position_number_violations
from engine.book.number_bounds import price_problem as price_problem
from engine.book.safe_text import printable
from engine.book.venue_rules import market_rate_problem, venue_problems
from engine.book.violation import Violation
from engine.margin.exposure import initial_margin_at_entry
from engine.margin.market_choice import MarketEntry, resolve_market
from engine.margin.model import Account, Book, MarginMode, MarketSpec, Position, PositionMode, PriceKey
from engine.margin.tiers import bundled_exchanges

POSITION_KEYS = (
    "account",
    "symbol",
    "side",
    "contracts",
    "entry_price",
    "margin_mode",
    "leverage",
    "isolated_margin",
    *("hypothetical", "note", "take_profit", "stop_loss"),  # the trader's stops last: older CSVs keep their columns
    *("synced_at", "exchange_liquidation_price"),  # written by a sync (engine.sync), not in CSV
)
ACCOUNT_KEYS = ("name", "exchange", "wallet_balance", "currency", "position_mode", "account_type", "wallet_address")
MARKET_KEYS = (
    "contract_size",
    "inverse",
    "taker_fee",
    "max_leverage",
    "tick_size",
    "lot_size",
    "min_contracts",
    "tiers",
    "volatility",
)
TIER_KEYS = ("min_notional", "max_notional", "maintenance_margin_rate", "maintenance_amount", "max_leverage")
TOP_KEYS = ("version", "accounts", "positions", "prices", "markets", "price_alerts")

_CURRENCY = re.compile(r"[A-Za-z0-9._-]{1,32}", re.ASCII)


@dataclass(frozen=True)
class BookCheck:
    """What build_book() made: the book (None unless every rule holds) and every violation.

    draft: the book as built whatever the violations, when every position has an account and a market
    (None otherwise): a door that judges one position may use it when only other positions break rules
    (a book saved under older rules).
    """

    book: Book | None
    violations: list[Violation]
    draft: Book | None = None

    @property
    def ok(self) -> bool:
        return self.book is not None and not self.violations


# --- small checks every door uses ---------------------------------------------------------------------


def unknown_key(key: str, known: Sequence[str], what: str) -> str:
    """The message for a key that is not a field: "'isolated_margn' is not a field of a position; did you
    mean 'isolated_margin'?" (difflib's closest match, else the list of fields)."""
    import difflib  # here: only a misspelt key needs it (start-up time)

    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f" (its fields: {', '.join(known)})"
    return f"'{printable(key)}' is not a field of {what}{hint}"


def text_problem(value: str, *, empty_ok: bool = False) -> str | None:
    """Why a text field cannot be kept (empty, or not encodable as UTF-8), or None."""
    if value.isascii():  # the common case: always encodable; blank when empty or all whitespace, as strip() takes it
        return "must not be empty" if not empty_ok and (not value or value.isspace()) else None
    if not empty_ok and not value.strip():
        return "must not be empty"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        return (
            f"holds a character that is not text ({printable(value[e.start])} at character {e.start + 1}); "
            "it cannot be saved or shown"
        )
    return None


# --- the book -----------------------------------------------------------------------------------------


def _account_violations(account: Account, seen: set[str]) -> list[Violation]:
    out = []
    name = account.name
    problem = text_problem(name)
    if problem:
        out.append(Violation("name", name, f"'name' {problem}"))
    elif name in seen:
        out.append(Violation("name", name, f"another account is already named '{printable(name)}'"))
    seen.add(name)
    problem = text_problem(account.exchange)
    if problem:
        out.append(Violation("exchange", name, f"'exchange' {problem}"))
    if account.currency and not _CURRENCY.fullmatch(account.currency):
        out.append(Violation("currency", name, f"'currency' '{printable(account.currency)}' is not a currency code"))
    problem = bound_problem(account.wallet_balance, 0.0, MAX_WALLET)
    if problem:
        out.append(Violation("wallet_balance", name, f"'wallet_balance' {problem}"))
    out += [Violation(field_name, name, message) for field_name, message in venue_problems(account)]
    return out


@dataclass
class _MarketsMet:
    """The markets met while a book is built: where each position's market comes from, checked once per market.

    known: markets already known (a book's own, then each one resolved); used: the markets of the book being
    built; rate_problem: market_rate_problem() of each market met (once per market, not per position).
    """

    known: dict[PriceKey, MarketSpec]
    overrides: Mapping[str, MarketEntry | MarketSpec] | None
    used: dict[PriceKey, MarketSpec] = field(default_factory=dict)
    rate_problem: dict[PriceKey, str | None] = field(default_factory=dict)

    def market_of(self, i: int, p: Position, exchange: str) -> tuple[MarketSpec | None, list[Violation]]:
        """The market of book.positions[i] on its account's exchange, or None with the violation that says why."""
        key = (exchange, p.symbol)
        market = self.known.get(key) or resolve_market(exchange, p.symbol, self.overrides)
        if market is None:
            return None, [
                Violation(
                    "symbol",
                    i,
                    f"unknown symbol '{printable(p.symbol)}' on {printable(exchange)}: no tier table for it "
                    f"(bundled: {', '.join(bundled_exchanges())}); add its tiers under 'markets' in a portfolio file",
                )
            ]
        if key not in self.rate_problem:
            self.rate_problem[key] = market_rate_problem(market, exchange)
        if self.rate_problem[key] is not None:
            return None, [Violation("symbol", i, f"{p.symbol} on {exchange}: {self.rate_problem[key]}")]
        self.known[key] = self.used[key] = market
        return market, []


def build_book(
    accounts: Sequence[Account],
    positions: Sequence[Position],
    overrides: Mapping[str, MarketEntry | MarketSpec] | None = None,
    *,
    markets: Mapping[PriceKey, MarketSpec] | None = None,
    opening: Collection[int] = (),
    margin_floor: bool = True,
) -> BookCheck:
    """The book of these accounts and positions, and every rule it breaks.

    markets: markets already known (a book's own), then overrides (a file's `markets` and fetched tables in a
    MarketSources: engine.margin.market_choice.resolve_market). An account with currency "" takes its first
    position's settlement currency (USDT without one). An isolated position with isolated_margin 0 gets its
    initial margin at entry. opening: indexes of positions being opened now (a form's new or changed position, a what-if
    trade): their isolated margin must cover the initial margin at entry (a held position's may be lower,
    funding is paid out of it), and a one-way conflict or a wallet overrun is charged to them rather than
    to the position they conflict with (margin_floor=False: not the margin rule, for a trade that adds to a
    held position, whose margin may already be below its entry IM after funding). Time is linear in the
    number of accounts and positions.
    """
    violations: list[Violation] = []
    seen: set[str] = set()
    for account in accounts:
        violations += _account_violations(account, seen)
    by_name: dict[str, Account] = {}
    for account in accounts:
        by_name.setdefault(account.name, account)
    opening = set(opening)

    met = _MarketsMet(dict(markets or {}), overrides)
    currency_of: dict[str, str] = {a.name: a.currency for a in accounts}
    held: dict[tuple[str, str], int] = {}
    filled: list[Position] = list(positions)
    for i, p in enumerate(positions):
        before = len(violations)
        account = by_name.get(p.account)
        problem = text_problem(p.note, empty_ok=True)
        if problem:
            violations.append(Violation("note", i, f"'note' {problem}"))
        if account is None:
            violations.append(Violation("account", i, f"'account' names an unknown account '{printable(p.account)}'"))
            continue
        problem = text_problem(p.symbol)
        if problem:
            violations.append(Violation("symbol", i, f"'symbol' {problem}"))
            continue
        market, refused = met.market_of(i, p, account.exchange)
        violations += refused
        if market is not None:
            violations += _settlement_violations(i, p, account, market, currency_of)
        if len(violations) == before:
            filled[i] = p = _with_entry_margin(p, market)
        currency = currency_of[account.name] or "USDT"
        violations += position_number_violations(i, p, market, currency, margin_floor and i in opening)
        if account.position_mode is PositionMode.ONEWAY:
            violations += _one_way(i, p, held, filled, opening)

    bad = {v.where for v in violations if isinstance(v.where, int)}
    violations += _wallets(filled, by_name, currency_of, bad, opening)
    final_accounts = tuple(
        a if a.currency else replace(a, currency=currency_of.get(a.name) or "USDT") for a in accounts
    )
    complete = all(p.account in by_name and (by_name[p.account].exchange, p.symbol) in met.used for p in filled)
    draft = Book(final_accounts, tuple(filled), met.used) if complete else None
    return BookCheck(None if violations else draft, violations, draft)


def _settlement_violations(
    i: int, p: Position, account: Account, market: MarketSpec, currency_of: dict[str, str]
) -> list[Violation]:
    """The position's settlement currency against its account's (currency_of, which it sets when still "")."""
    settle = market.settle_currency
    # One account is one wallet: without a stated currency, its first position sets it.
    if not currency_of[account.name]:
        currency_of[account.name] = settle
    currency = currency_of[account.name]
    if settle and currency != settle:
        # Its field is the account's currency: a door where that is typed shows it there.
        held_in = f"account '{printable(account.name)}' is in {printable(currency)}"
        return [Violation("currency", i, f"{printable(p.symbol)} settles in {settle} but {held_in}")]
    return []


def _with_entry_margin(p: Position, market: MarketSpec | None) -> Position:
    """An isolated position with isolated_margin 0, given its initial margin at entry (when it has a market and
    a usable leverage); any other position as it is."""
    defaulted = market is not None and p.margin_mode is MarginMode.ISOLATED and p.isolated_margin == 0
    if defaulted and math.isfinite(p.leverage) and p.leverage > 0:
        return replace(p, isolated_margin=initial_margin_at_entry(p, market))
    return p


def _one_way(
    i: int, p: Position, held: dict[tuple[str, str], int], positions: Sequence[Position], opening: set[int]
) -> list[Violation]:
    """One-way mode: the exchange holds one position per symbol, so one side and one margin mode,
    hypothetical positions included (they stand for trades on that same position)."""
    first = held.setdefault((p.account, p.symbol), i)
    if first == i:
        return []
    q = positions[first]
    # Charged to the position being opened when it is the earlier one.
    at, other = (first, i) if first in opening and i not in opening else (i, first)
    mine = positions[at]
    theirs = positions[other]
    if q.side is not p.side:
        return [
            Violation(
                "side",
                at,
                f"account '{p.account}' is in one-way mode and {{other}} is already {theirs.side.value} {p.symbol}; "
                "trade against that position, or use position_mode 'hedge' to hold both sides",
                other,
            )
        ]
    if q.margin_mode is not p.margin_mode:
        return [
            Violation(
                "margin_mode",
                at,
                f"account '{p.account}' is in one-way mode and {{other}} holds {p.symbol} in "
                f"{theirs.margin_mode.value} margin; one symbol has one margin mode (this one is "
                f"{mine.margin_mode.value})",
                other,
            )
        ]
    return []


def _wallets(
    positions: Sequence[Position],
    by_name: Mapping[str, Account],
    currency_of: Mapping[str, str],
    bad: set[int | str | None],
    opening: set[int],
) -> list[Violation]:
    """Isolated margins are part of the wallet: their sum may not exceed wallet_balance. The position
    that takes the sum past it is charged (positions being opened first), and left out of the sum."""
    locked: dict[str, float] = {}
    order = [i for i in range(len(positions)) if i not in opening] + sorted(opening)
    out = []
    for i in order:
        p = positions[i]
        if i in bad or p.margin_mode is not MarginMode.ISOLATED or p.account not in by_name:
            continue
        account = by_name[p.account]
        total = locked.get(p.account, 0.0) + p.isolated_margin
        if total > account.wallet_balance * (1 + 1e-12):
            cur = currency_of.get(p.account) or "USDT"
            out.append(
                Violation(
                    "isolated_margin",
                    i,
                    f"isolated margins ({money(total, cur)}) exceed 'wallet_balance' "
                    f"({money(account.wallet_balance, cur)}) of account '{printable(account.name)}'; "
                    "wallet_balance is the whole wallet, isolated margins included",
                )
            )
            continue
        locked[p.account] = total
    out.sort(key=lambda v: v.where if isinstance(v.where, int) else -1)
    return out


def check_book(
    book: Book, overrides: Mapping[str, MarketEntry | MarketSpec] | None = None, *, opening: Collection[int] = ()
) -> list[Violation]:
    """Every rule the book breaks (empty when it is valid); see build_book."""
    return build_book(book.accounts, book.positions, overrides, markets=book.markets, opening=opening).violations
