"""The rules that make a book valid: one Qt-free check that every door asks.

The portfolio file, CSV import, the position and account forms, what-if and the command line all build
typed accounts and positions from what they read, then ask check_book() (through build_book()) for every
violation. Each door only turns its own text into numbers and shows what the rules say where the user typed
it; none keeps a rule of its own, so they cannot drift apart again (issue 13: a 100x BTC long of 6,000,000
USDT notional was refused by the form and accepted by the file, CSV import and What-if ▸ Apply as real).

Bounds on numbers (issue 14: extreme values crashed the engine or reached the screen as `inf`):

- entry price in [MIN_PRICE, MAX_PRICE] = [1e-12, 1e12] in the quote currency. The cheapest listed
  perpetuals trade near 1e-6 and the dearest near 1e5, so this leaves six orders of magnitude either way;
  a price of 5e-324 (a subnormal) made the notional, hence the initial margin, 0 and ROE divide by zero,
  and 1/price for an inverse contract overflowed.
- entry notional (contracts x contract size x price, settlement currency) in [MIN_NOTIONAL, MAX_NOTIONAL] =
  [1e-12, 1e15] and, for a market with tiers, below the last tier's max_notional: the exchange takes no
  order beyond it (Binance BTC/USDT:USDT stops at 1.8e9 USDT). 1e15 is far above any exchange's largest
  tier and keeps every product the engine forms (notional x rate, PnL at a 1000x move) finite.
- leverage in [MIN_LEVERAGE, MAX_LEVERAGE] = [0.01, 1000]: no exchange offers more than 1000x (nor less
  than 1x, but a market whose max leverage is below 1 exists in the Hyperliquid rate math); 0.01 keeps the
  initial margin (notional / leverage) within 100x the notional. Within those bounds, the market's own
  maximum and the maximum of the tier at the entry notional apply (Binance "Leverage & Margin" table,
  https://www.binance.com/en/futures/trading-rules/perpetual/leverage-margin, read 2026-11-30).
- wallet balance and isolated margin finite, in [0, MAX_WALLET] = 1e15.
- text (names, symbols, notes, currencies) must be encodable as UTF-8: a lone surrogate ("\\ud800")
  cannot be stored in SQLite nor printed.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from engine.book.safe_text import printable
from engine.book.venue_rules import market_rate_problem, venue_problems
from engine.margin.exposure import exposure, initial_margin_at_entry
from engine.margin.model import Account, Book, MarginMode, MarketSpec, Position, PositionMode, PriceKey
from engine.margin.tiers import bundled_exchanges, bundled_market, max_leverage_at

MAX_LEVERAGE = 1_000.0
MIN_LEVERAGE = 0.01
MIN_PRICE = 1e-12
MAX_PRICE = 1e12
MIN_NOTIONAL = 1e-12
MAX_NOTIONAL = 1e15
MAX_WALLET = 1e15

POSITION_KEYS = (
    "account",
    "symbol",
    "side",
    "contracts",
    "entry_price",
    "margin_mode",
    "leverage",
    "isolated_margin",
    "hypothetical",
    "note",
)
ACCOUNT_KEYS = ("name", "exchange", "wallet_balance", "currency", "position_mode", "account_type")
MARKET_KEYS = ("contract_size", "inverse", "taker_fee", "max_leverage", "tiers", "volatility")
TIER_KEYS = ("min_notional", "max_notional", "maintenance_margin_rate", "maintenance_amount", "max_leverage")
TOP_KEYS = ("version", "accounts", "positions", "prices", "markets")

_CURRENCY = re.compile(r"[A-Za-z0-9._-]{1,32}", re.ASCII)


class Violation(NamedTuple):
    """One broken rule.

    field: the input it is about ('leverage', 'wallet_balance', 'symbol'; a key path such as
    'markets.X/USDT:USDT.tiers[2].min_notional' at the top level). where: the position's index in the book
    (int), the account's name (str), or None for the document itself. message: one sentence, starting with
    the quoted field where it names one; '{other}' in it stands for another position, `other` (its index),
    which each door names its own way (position 3, line 7 of the CSV, position 3 of the book).
    """

    field: str
    where: int | str | None
    message: str
    other: int | None = None

    def text(self, other_label: str | None = None) -> str:
        """The message with {other} filled in (default: 'position N')."""
        if self.other is None:
            return self.message
        return self.message.replace("{other}", other_label or f"position {self.other + 1}")

    def bare(self, other_label: str | None = None) -> str:
        """The message without its leading "'field' ", for a door that shows it beside that field."""
        return self.text(other_label).removeprefix(f"'{self.field}' ")


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
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f" (its fields: {', '.join(known)})"
    return f"'{printable(key)}' is not a field of {what}{hint}"


def text_problem(value: str, *, empty_ok: bool = False) -> str | None:
    """Why a text field cannot be kept (empty, or not encodable as UTF-8), or None."""
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


def _bound(value: float, low: float, high: float, *, low_open: bool = False) -> str | None:
    if not math.isfinite(value):
        return "must be a finite number"
    if low_open and value <= low:
        return f"must be greater than {low:g} (got {value:g})"
    if value < low:
        return f"must be at least {low:g} (got {value:g})" if low else f"must not be negative (got {value:g})"
    if value > high:
        return f"is out of range: at most {high:g} (got {value:g})"
    return None


def price_problem(value: float) -> str | None:
    """Why a price (an entry or a mark, quote currency) is out of bounds, or None (see the module's bounds)."""
    return _bound(value, MIN_PRICE, MAX_PRICE)


def resolve_market(exchange: str, symbol: str, overrides: Mapping[str, MarketSpec] | None = None) -> MarketSpec | None:
    """The market of `symbol` on `exchange`, or None when nothing has it.

    overrides are a portfolio file's `markets` (Portfolio.market_overrides): an `exchange:symbol` entry wins
    over a plain `symbol` entry, which wins over the bundled table of the exchange.
    """
    overrides = overrides or {}
    return overrides.get(f"{exchange}:{symbol}") or overrides.get(symbol) or bundled_market(exchange, symbol)


def _money(value: float, currency: str) -> str:
    decimals = 2 if currency.upper() in {"USDT", "USDC", "USD", "BUSD", "FDUSD"} else 6
    return f"{value:,.{decimals}f} {currency}"


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
    problem = _bound(account.wallet_balance, 0.0, MAX_WALLET)
    if problem:
        out.append(Violation("wallet_balance", name, f"'wallet_balance' {problem}"))
    out += [Violation(field_name, name, message) for field_name, message in venue_problems(account)]
    return out


def _position_numbers(i: int, p: Position, market: MarketSpec | None, currency: str, opening: bool) -> list[Violation]:
    """The position's own numbers: sizes, prices, leverage against the market and its tiers, margin."""
    out = []
    if not (math.isfinite(p.contracts) and p.contracts > 0):
        out.append(Violation("contracts", i, "'contracts' must be a finite number greater than 0"))
    problem = price_problem(p.entry_price)
    if problem:
        out.append(Violation("entry_price", i, f"'entry_price' {problem}"))
    problem = _bound(p.leverage, MIN_LEVERAGE, MAX_LEVERAGE)
    if problem and p.leverage > MAX_LEVERAGE and math.isfinite(p.leverage):
        problem = f"{p.leverage:g}× is above {MAX_LEVERAGE:g}×, more than any exchange offers"
    if problem:
        out.append(Violation("leverage", i, f"'leverage' {problem}"))
    if p.margin_mode is MarginMode.CROSS and p.isolated_margin:
        out.append(Violation("isolated_margin", i, "'isolated_margin' applies to isolated positions only"))
    if p.margin_mode is MarginMode.ISOLATED:
        problem = _bound(p.isolated_margin, 0.0, MAX_WALLET, low_open=True)
        if problem:
            out.append(Violation("isolated_margin", i, f"'isolated_margin' {problem}"))
    if out or market is None:
        return out
    notional = exposure(p, market).entry_notional
    last = market.tiers[-1].max_notional
    if not (math.isfinite(notional) and MIN_NOTIONAL <= notional <= MAX_NOTIONAL):
        return [
            Violation(
                "contracts",
                i,
                f"'contracts' × entry price comes to a notional of {notional:g} {currency}, outside "
                f"[{MIN_NOTIONAL:g}, {MAX_NOTIONAL:g}]: not a position any exchange holds",
            )
        ]
    if notional >= last:
        return [
            Violation(
                "contracts",
                i,
                f"'contracts' × entry price comes to {_money(notional, currency)} notional, beyond the last tier "
                f"of {p.symbol} (up to {_money(last, currency)}): the exchange takes no position that large",
            )
        ]
    if market.max_leverage and p.leverage > market.max_leverage:
        out.append(
            Violation(
                "leverage", i, f"'leverage' {p.leverage:g}× is above the market's maximum {market.max_leverage:g}×"
            )
        )
    else:
        bound = max_leverage_at(market, notional)
        if bound and p.leverage > bound:
            out.append(
                Violation(
                    "leverage",
                    i,
                    f"'leverage' {p.leverage:g}× is above the maximum {bound:g}× at "
                    f"{_money(notional, currency)} notional",
                )
            )
    if opening and p.margin_mode is MarginMode.ISOLATED and not out:
        required = notional / p.leverage
        if p.isolated_margin < required * (1 - 1e-12):
            out.append(
                Violation(
                    "isolated_margin",
                    i,
                    f"'isolated_margin' is below the initial margin at entry of {_money_up(required, currency)} "
                    "(entry notional / leverage)",
                )
            )
    return out


def _money_up(value: float, currency: str) -> str:
    """_money rounded up, so that typing the amount shown always meets the minimum."""
    decimals = 2 if currency.upper() in {"USDT", "USDC", "USD", "BUSD", "FDUSD"} else 6
    rounded = round(value, decimals)
    if rounded < value:
        rounded += 10.0**-decimals
    return _money(rounded, currency)


def build_book(
    accounts: Sequence[Account],
    positions: Sequence[Position],
    overrides: Mapping[str, MarketSpec] | None = None,
    *,
    markets: Mapping[PriceKey, MarketSpec] | None = None,
    opening: Collection[int] = (),
    margin_floor: bool = True,
) -> BookCheck:
    """The book of these accounts and positions, and every rule it breaks.

    markets: markets already known (a book's own), looked up before overrides (a portfolio file's
    `markets`) and the bundled tables. An account with currency "" takes its first position's settlement
    currency (USDT without one). An isolated position with isolated_margin 0 gets its initial margin at
    entry. opening: indexes of positions being opened now (a form's new or changed position, a what-if
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

    known: dict[PriceKey, MarketSpec] = dict(markets or {})
    used: dict[PriceKey, MarketSpec] = {}
    rate_checked: dict[PriceKey, str | None] = {}
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
        key = (account.exchange, p.symbol)
        market = known.get(key) or resolve_market(account.exchange, p.symbol, overrides)
        if market is None:
            violations.append(
                Violation(
                    "symbol",
                    i,
                    f"unknown symbol '{printable(p.symbol)}' on {printable(account.exchange)}: no tier table for it "
                    f"(bundled: {', '.join(bundled_exchanges())}); add its tiers under 'markets' in a portfolio file",
                )
            )
        else:
            if key not in rate_checked:  # once per market, not per position
                rate_checked[key] = market_rate_problem(market, account.exchange)
            if rate_checked[key] is not None:
                violations.append(Violation("symbol", i, f"{p.symbol} on {account.exchange}: {rate_checked[key]}"))
                market = None
        if market is not None:
            known[key] = used[key] = market
            settle = market.settle_currency
            # One account is one wallet: without a stated currency, its first position sets it.
            if not currency_of[account.name]:
                currency_of[account.name] = settle
            currency = currency_of[account.name]
            if settle and currency != settle:
                # Its field is the account's currency: a door where that is typed shows it there.
                held_in = f"account '{printable(account.name)}' is in {printable(currency)}"
                violations.append(Violation("currency", i, f"{printable(p.symbol)} settles in {settle} but {held_in}"))
        currency = currency_of[account.name] or "USDT"
        defaulted = market is not None and p.margin_mode is MarginMode.ISOLATED and p.isolated_margin == 0
        if defaulted and len(violations) == before and math.isfinite(p.leverage) and p.leverage > 0:
            filled[i] = p = replace(p, isolated_margin=initial_margin_at_entry(p, market))
        violations += _position_numbers(i, p, market, currency, margin_floor and i in opening)
        if account.position_mode is PositionMode.ONEWAY:
            violations += _one_way(i, p, held, filled, opening)

    bad = {v.where for v in violations if isinstance(v.where, int)}
    violations += _wallets(filled, by_name, currency_of, bad, opening)
    final_accounts = tuple(
        a if a.currency else replace(a, currency=currency_of.get(a.name) or "USDT") for a in accounts
    )
    complete = all(p.account in by_name and (by_name[p.account].exchange, p.symbol) in used for p in filled)
    draft = Book(final_accounts, tuple(filled), used) if complete else None
    return BookCheck(None if violations else draft, violations, draft)


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
                    f"isolated margins ({_money(total, cur)}) exceed 'wallet_balance' "
                    f"({_money(account.wallet_balance, cur)}) of account '{printable(account.name)}'; "
                    "wallet_balance is the whole wallet, isolated margins included",
                )
            )
            continue
        locked[p.account] = total
    out.sort(key=lambda v: v.where if isinstance(v.where, int) else -1)
    return out


def check_book(
    book: Book, overrides: Mapping[str, MarketSpec] | None = None, *, opening: Collection[int] = ()
) -> list[Violation]:
    """Every rule the book breaks (empty when it is valid); see build_book."""
    return build_book(book.accounts, book.positions, overrides, markets=book.markets, opening=opening).violations
