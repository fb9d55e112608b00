"""Domain types of the margin engine: accounts, positions, markets and their tiers.

All values are plain floats in the units named by the field. Money is in the account's settlement
currency (USDT for a linear USDT-settled contract, the coin for an inverse coin-settled one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Side(StrEnum):
    """The direction of a position: a long gains when the mark rises, a short when it falls."""

    LONG = "long"
    SHORT = "short"

    @property
    def sign(self) -> int:
        """+1 for a long, -1 for a short: the sign of the PnL per unit rise of the mark (linear contracts)."""
        return 1 if self is Side.LONG else -1

    @property
    def opposite(self) -> Side:
        """The other side (what a flip turns a position into)."""
        return Side.SHORT if self is Side.LONG else Side.LONG


class MarginMode(StrEnum):
    """Isolated: the position's own isolated_margin is its collateral. Cross: the account's wallet (less
    the isolated margins) backs every cross position of the account together."""

    ISOLATED = "isolated"
    CROSS = "cross"


class PositionMode(StrEnum):
    """One-way: at most one side per symbol and account. Hedge: a long and a short of one symbol side by
    side (in cross they share one liquidation price, engine.margin.layout)."""

    ONEWAY = "oneway"
    HEDGE = "hedge"


class AccountType(StrEnum):
    """Bybit's two account types, with different rules (engine.margin.rules.CLASSIC_PROFILES): the Unified Trading
    Account (the default, and the only kind other exchanges have) and the classic account."""

    UNIFIED = "unified"
    CLASSIC = "classic"


@dataclass(frozen=True, slots=True)
class Tier:
    """One maintenance-margin tier: applies while min_notional <= notional < max_notional.

    Maintenance margin in the tier = notional * maintenance_margin_rate - maintenance_amount
    (Binance's "cum", Bybit's "mmDeduction"; 0 where an exchange has none). Notional is in the
    settlement currency.
    """

    min_notional: float
    max_notional: float
    maintenance_margin_rate: float
    maintenance_amount: float = 0.0
    max_leverage: float = 0.0


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """What the engine needs to know of one contract on one exchange.

    symbol: ccxt unified ('BTC/USDT:USDT'); tiers: ascending, contiguous from notional 0 (checked by
    engine.margin.tiers.check_tiers where tables are read); contract_size: base units (linear) or USD
    (inverse) per contract; taker_fee: a fraction of the notional (0.0005 = 0.05%); max_leverage: the
    market's cap, 0 when unknown; source: where the tiers were read, and when, in words.
    tiers_from: 'file' (the portfolio file's `markets` entry), 'fetched' (from the exchange, stored with its
    fetch time), 'bundled' (resources/tiers), '' when not said; tiers_at: when the table was read (Unix
    seconds; a bundled table's date), None when unknown; fee_note: why the taker fee is not the exchange's
    own figure (an assumed default), '' when it is (engine.margin.market_choice).
    tick_size: the price increment (quote currency); lot_size: the contracts increment; min_contracts: the
    smallest order (contracts); each 0 when unknown (ccxt's market `precision.price`, `precision.amount` and
    `limits.amount.min`, engine.market.feeds.market_increments; engine.book.increments rounds to them).
    """

    symbol: str
    tiers: tuple[Tier, ...]
    contract_size: float = 1.0
    inverse: bool = False
    taker_fee: float = 0.0
    max_leverage: float = 0.0
    source: str = ""
    tiers_from: str = ""
    tiers_at: float | None = None
    fee_note: str = ""
    tick_size: float = 0.0
    lot_size: float = 0.0
    min_contracts: float = 0.0

    @property
    def settle_currency(self) -> str:
        """The currency its margin and PnL are in: 'BTC/USDT:USDT' -> 'USDT', 'BTC/USD:BTC' -> 'BTC'."""
        return settle_currency_of(self.symbol)


@dataclass(frozen=True, slots=True)
class Account:
    """An exchange account; wallet_balance is the whole wallet, isolated margins included; account_type picks
    the exchange's rules where it has more than one kind of account (Bybit).

    wallet_address: the public address whose account state a venue publishes (Hyperliquid): a link to
    the exchange that needs no key ("" when none; keys live in the keyring, engine.sync.keys)."""

    name: str
    exchange: str
    wallet_balance: float
    currency: str = "USDT"
    position_mode: PositionMode = PositionMode.ONEWAY
    account_type: AccountType = AccountType.UNIFIED
    wallet_address: str = ""


@dataclass(frozen=True, slots=True)
class Position:
    """A position as the trader holds it (or imagines it, when hypothetical).

    contracts is always > 0; side gives the direction. For a linear contract the base quantity is
    contracts * contract_size; for an inverse one contracts * contract_size is the size in USD.
    isolated_margin is the collateral of an isolated position (ignored for cross).
    synced_at: Unix time (s, UTC) of the sync that last wrote it from the exchange, None for a position
    typed by hand (engine.sync.reconcile); exchange_liquidation_price: the liquidation price the exchange
    reported then (quote currency; None when it reported none), kept beside ours for the cross-check.
    take_profit / stop_loss: the trader's take-profit and stop-loss prices (quote currency), None when not set;
    engine.margin.stops measures the stop against the liquidation price.
    """

    account: str
    symbol: str
    side: Side
    contracts: float
    entry_price: float
    margin_mode: MarginMode
    leverage: float
    isolated_margin: float = 0.0
    hypothetical: bool = False
    note: str = ""
    synced_at: float | None = None
    exchange_liquidation_price: float | None = None
    take_profit: float | None = None
    stop_loss: float | None = None

    @property
    def synced(self) -> bool:
        """True when the position came from the exchange (a sync), False when typed by hand."""
        return self.synced_at is not None


PriceKey = tuple[str, str]
"""(exchange id, symbol): marks differ between exchanges for the same unified symbol."""


@dataclass(frozen=True, slots=True)
class Book:
    """Everything the engine evaluates: accounts, positions, and the market of every position."""

    accounts: tuple[Account, ...]
    positions: tuple[Position, ...]
    markets: Mapping[PriceKey, MarketSpec] = field(default_factory=dict)
    _by_name: dict[str, Account] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # account() is asked once per position (market_of): a scan of the accounts each time made reading and
        # evaluating a book of many accounts quadratic. The first account of a name wins, as the scan had it.
        object.__setattr__(self, "_by_name", {a.name: a for a in reversed(self.accounts)})

    def account(self, name: str) -> Account:
        """The account of that name; KeyError when the book has none."""
        return self._by_name[name]

    def market_of(self, position: Position) -> MarketSpec:
        """The market of a position: markets[(its account's exchange, its symbol)].

        Raises KeyError when the book has no such account or no market for that key (a book that passed
        engine.book.book_rules has both)."""
        return self.markets[(self.account(position.account).exchange, position.symbol)]

    def price_keys(self) -> list[PriceKey]:
        """Every (exchange, symbol) the book needs a mark for, in first-use order.

        Raises KeyError when a position names an account the book does not have."""
        exchange_of = {a.name: a.exchange for a in self.accounts}
        keys = dict.fromkeys((exchange_of[p.account], p.symbol) for p in self.positions)
        return list(keys)

    def without_hypothetical(self) -> Book:
        """The real book: the same accounts and markets, the positions flagged hypothetical left out."""
        return Book(self.accounts, tuple(p for p in self.positions if not p.hypothetical), self.markets)


def settle_currency_of(symbol: str) -> str:
    """The settlement currency of a ccxt unified contract symbol: 'BTC/USDT:USDT' -> 'USDT'."""
    if ":" not in symbol:
        return ""
    return symbol.split(":", 1)[1].split("-", 1)[0]


def quote_currency_of(symbol: str) -> str:
    """The currency a ccxt unified symbol's price is quoted in: 'BTC/USDT:USDT' -> 'USDT', 'BTC/USD:BTC' -> 'USD'."""
    if "/" not in symbol:
        return ""
    return symbol.split("/", 1)[1].split(":", 1)[0]


def base_currency_of(symbol: str) -> str:
    """The base currency of a ccxt unified symbol: 'BTC/USD:BTC' -> 'BTC'."""
    return symbol.split("/", 1)[0] if "/" in symbol else ""


def inverse_by_symbol(symbol: str) -> bool | None:
    """Whether a ccxt unified contract symbol names an inverse contract: settled in its base currency
    ('BTC/USD:BTC', True) or in its quote currency ('BTC/USDT:USDT', False); None when it says neither
    (a quanto contract, or no settlement currency in the symbol)."""
    settle = settle_currency_of(symbol)
    if settle and settle == base_currency_of(symbol):
        return True
    if settle and settle == quote_currency_of(symbol):
        return False
    return None
