"""The account form's check, free of widgets: validate_account_input() and its outcome, AccountCheck.

The form (desktop.dialogs.account_form) only shows what this says beside each field; check_link
(desktop.dialogs.account_link) adds the account's link to the exchange. An edit keeps the book consistent: a
renamed account renames it in its positions, and a changed exchange resolves its positions' markets on the new
exchange (refused, with the symbol named, where that exchange has no tiers for one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from desktop.dialogs.position_check import rules_label
from desktop.dialogs.typed_numbers import parse_number, shown
from engine.book.book_rules import build_book
from engine.book.venue_rules import NOT_IN_CCXT, SPOT_IDS, venue_problems
from engine.margin.model import Account, AccountType, Book, MarketSpec, PositionMode, settle_currency_of
from engine.margin.tiers import bundled_table

ACCOUNT_FIELDS = ("name", "exchange", "wallet_balance", "currency", "position_mode", "account_type")


@dataclass(frozen=True)
class AccountCheck:
    """The outcome of checking the form: an account and its book, or a message per field in trouble."""

    messages: Mapping[str, str]
    hints: Mapping[str, str] = field(default_factory=dict)
    account: Account | None = None
    book: Book | None = None
    """The book with the account added (at the end) or replaced (at its index), positions renamed."""
    index: int | None = None

    @property
    def ok(self) -> bool:
        return not self.messages and self.book is not None


def ccxt_exchange_ids() -> list[str]:
    """ccxt's exchange ids (imported here, not at module import: ccxt takes a while to load)."""
    import ccxt

    return list(ccxt.exchanges)


def exchange_hint(exchange: str) -> str:
    """The exchange field's hint: whose margin rules apply, and, where ccxt offers no public price call
    for the exchange (dYdX), that its prices must be typed: said when the account is made, not first
    by a feed that goes offline."""
    from engine.market.feeds.mark_source import price_method_problem

    problem = price_method_problem(exchange)
    return rules_label(exchange) + (f"; {problem}" if problem else "")


def default_currency(exchange: str) -> str:
    """The settlement currency most of the exchange's bundled markets use, else USDT."""
    table = bundled_table(exchange)
    settles = Counter(settle_currency_of(s) for s in table.markets) if table else Counter()
    settles.pop("", None)
    return settles.most_common(1)[0][0] if settles else "USDT"


def _exchange_check(exchange: str, known: set[str]) -> tuple[str, str]:
    """(message, hint) for the exchange field as typed: one of them is "" (a ccxt id with its rules, or why not)."""
    if not exchange:
        return "enter a ccxt exchange id, e.g. binanceusdm", ""
    if exchange.lower() in NOT_IN_CCXT or exchange in SPOT_IDS:  # BitMEX; 'binance' for 'binanceusdm'
        return venue_problems(Account("", exchange, 0.0))[0][1], ""
    if exchange not in known:
        close = next((e for e in known if e.lower() == exchange.lower()), None)
        return f"'{shown(exchange)}' is not a ccxt exchange id" + (f"; did you mean '{close}'?" if close else ""), ""
    return "", exchange_hint(exchange)


def _choice(typed: str, enum: type, default: object, refusal: str, messages: dict[str, str], name: str) -> Any:
    """The member of enum typed (default when nothing is typed, if there is one), or None with messages[name] set."""
    try:
        return enum(typed.strip().lower() or getattr(default, "value", ""))
    except ValueError:
        messages[name] = refusal
        return None


def validate_account_input(
    book: Book,
    fields: Mapping[str, object],
    *,
    index: int | None = None,
    exchanges: Sequence[str] | None = None,
    market_overrides: Mapping[str, MarketSpec] | None = None,
) -> AccountCheck:
    """Check the form's fields (strings, as typed) against the book; never raises on any text.

    index: the account being edited in book.accounts, None for a new one. exchanges: the exchange ids
    accepted (default: ccxt's). market_overrides: the portfolio file's `markets`, used to resolve the
    positions' markets when the exchange changes.
    """
    if index is not None and not 0 <= index < len(book.accounts):
        raise IndexError(f"the book has no account {index}")
    known = set(ccxt_exchange_ids() if exchanges is None else exchanges)
    old = book.accounts[index] if index is not None else None
    held = [(i, p) for i, p in enumerate(book.positions) if old is not None and p.account == old.name]
    messages: dict[str, str] = {}
    hints: dict[str, str] = {}
    account = _typed_account(fields, known, old, len(held), messages, hints)
    if account is None:
        return AccountCheck(messages, hints)
    return _judged_with_the_book(book, account, index, market_overrides, messages, hints)


def _typed(fields: Mapping[str, object], name: str) -> str:
    """The field as typed ("" when absent)."""
    value = fields.get(name, "")
    return value if isinstance(value, str) else str(value)


def _typed_account(
    fields: Mapping[str, object],
    known: set[str],
    old: Account | None,
    held: int,
    messages: dict[str, str],
    hints: dict[str, str],
) -> Account | None:
    """The account the fields describe, each field read on its own (messages and hints filled in), or None when
    one of them cannot be read. old: the account being edited (None for a new one), holding `held` positions."""
    name = _typed(fields, "name").strip()
    if not name:
        messages["name"] = "enter a name for the account"
    elif old is not None and name != old.name and held:
        hints["name"] = f"its {held} position(s) follow the new name"

    exchange = _typed(fields, "exchange").strip()
    problem, hint = _exchange_check(exchange, known)
    messages.update({"exchange": problem} if problem else {})
    hints.update({"exchange": hint} if hint else {})

    currency = _typed(fields, "currency").strip()
    if not currency:
        messages["currency"] = "enter the settlement currency, e.g. USDT"

    wallet, problem = parse_number(_typed(fields, "wallet_balance"), "the wallet balance")
    if problem:
        messages["wallet_balance"] = problem
    elif wallet is not None and wallet < 0:
        messages["wallet_balance"] = "the wallet balance must not be negative"
        wallet = None
    elif wallet is not None:
        hints["wallet_balance"] = f"the whole wallet in {currency or 'USDT'}, isolated margins included"

    mode_typed, kind_typed = _typed(fields, "position_mode"), _typed(fields, "account_type")
    mode = _choice(mode_typed, PositionMode, None, "choose one-way or hedge", messages, "position_mode")
    kind = _choice(kind_typed, AccountType, AccountType.UNIFIED, "choose unified or classic", messages, "account_type")
    if messages or wallet is None or mode is None or kind is None:
        return None
    return Account(name, exchange, wallet, currency, mode, kind, _typed(fields, "wallet_address").strip())


def _judged_with_the_book(
    book: Book,
    account: Account,
    index: int | None,
    market_overrides: Mapping[str, MarketSpec] | None,
    messages: dict[str, str],
    hints: dict[str, str],
) -> AccountCheck:
    """The account added to the book (index None) or put in place of book.accounts[index], its positions
    following a new name, judged by engine.book.book_rules with the whole book."""
    accounts = list(book.accounts)
    positions = book.positions
    name = account.name
    if index is None:
        accounts.append(account)
        where = len(accounts) - 1
    else:
        old = accounts[index]
        accounts[index] = account
        where = index
        if old.name != name:
            positions = tuple(replace(p, account=name) if p.account == old.name else p for p in positions)
    # engine.book.book_rules judges the account with its positions, as it judges a portfolio file. A position's
    # violation is shown beside what the form changes that breaks it: the currency it settles in, the
    # wallet its isolated margin comes from, the one-way mode, else the exchange (no tiers, leverage).
    result = build_book(accounts, positions, market_overrides, markets=book.markets)
    mine = {i for i, p in enumerate(positions) if p.account == name}
    for v in result.violations:
        if v.where == name and v.field in ACCOUNT_FIELDS:
            messages.setdefault(v.field, v.bare())
        elif isinstance(v.where, int) and v.where in mine:
            p = positions[v.where]
            field_name = _POSITION_FIELD_IN_FORM.get(v.field, "exchange")
            messages.setdefault(field_name, f"position {v.where + 1} ({p.symbol}): {v.text()}")
    # Violations of other accounts only (a book saved under older rules) are not this form's doing.
    built = result.book or result.draft
    if messages or built is None:
        return AccountCheck(messages, hints)
    return AccountCheck(
        messages, hints, account, Book(built.accounts, built.positions, {**book.markets, **built.markets}), where
    )


_POSITION_FIELD_IN_FORM = {
    "currency": "currency",
    "isolated_margin": "wallet_balance",
    "side": "position_mode",
    "margin_mode": "position_mode",
}
"""The account form's field for a violation of one of its positions (others: 'exchange')."""
