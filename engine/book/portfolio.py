"""The portfolio file (JSON, version 1): the one format for import, export and the command line.

Every problem is reported as a PortfolioError whose message names the field and, where there is
one, the position or account it belongs to, so a user can fix the file from the message alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.book.book_rules import (
    ACCOUNT_KEYS,
    MAX_WALLET,
    POSITION_KEYS,
    TOP_KEYS,
    Violation,
    build_book,
    price_problem,
    text_problem,
)
from engine.book.book_rules import MAX_LEVERAGE as MAX_LEVERAGE  # re-exported: the doors import them from here
from engine.book.book_rules import market_rate_problem as market_rate_problem
from engine.book.book_rules import resolve_market as resolve_market
from engine.book.document_reader import Reader, json_int, json_object, shown
from engine.book.funding_fields import FileFunding, merge_funding, split_funding
from engine.book.market_entries import entry_to_dict, parse_market
from engine.book.market_volatility import volatilities_of
from engine.book.price_alert_rules import PriceAlert, price_alerts_to_list, read_price_alerts
from engine.book.safe_text import printable
from engine.book.threshold_fields import KEY, read_overrides, write_overrides
from engine.book.thresholds import ThresholdOverrides
from engine.margin.listed_increments import Increments
from engine.margin.market_choice import MarketEntry, MarketSources
from engine.margin.model import (
    Account,
    AccountType,
    Book,
    MarginMode,
    MarketSpec,
    Position,
    PositionMode,
    PriceKey,
    Side,
)

FORMAT_VERSION = 1


class PortfolioError(ValueError):
    """The file cannot be used as it is; the message says where and why.

    violations: every problem found, each as (field, position index or account name, message) (see
    engine.book.book_rules.Violation); str() is the first one, located ("position 3 (BTC/USDT:USDT): ..."), with
    a count of the others, so a command line prints one line; lines() gives one line per problem.
    """

    def __init__(self, message: str, violations: Sequence[Violation] = (), located: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.violations = list(violations)
        self._lines = list(located) or [message]

    def lines(self) -> list[str]:
        """Every problem, one located line each."""
        return list(self._lines)


@dataclass(frozen=True)
class Portfolio:
    """A book with the marks written in the file (symbol -> mark, for every exchange).

    market_overrides: the file's `markets` entries as written (partial ones too), with the fetched tables the
    book was resolved with (MarketSources.fetched); every door passes it on to resolve a new symbol alike.
    """

    book: Book
    prices: Mapping[str, float] = field(default_factory=dict)
    market_overrides: MarketSources = field(default_factory=MarketSources)
    funding: Mapping[str, FileFunding] = field(default_factory=dict)  # by markets key (engine.book.funding_fields)
    volatilities: Mapping[str, float] = field(default_factory=dict)
    """Market key -> the annualised volatility typed in its `markets` entry (engine.book.market_volatility)."""
    threshold_overrides: ThresholdOverrides = field(default_factory=ThresholdOverrides)
    """The accounts' and positions' own risk thresholds (their `thresholds` objects, engine.book.threshold_fields)."""
    price_alerts: tuple[PriceAlert, ...] = ()
    """The file's `price_alerts` (engine.book.price_alert_rules); a saved book's come from its setting."""

    def price_map(self) -> dict[PriceKey, float]:
        """The file's marks keyed by (exchange, symbol) for each key the book needs."""
        return {key: self.prices[key[1]] for key in self.book.price_keys() if key[1] in self.prices}


def _section(reader: Reader, data: Mapping[str, Any], key: str, kind: type, words: str) -> Any:
    empty: Any = {} if kind is Mapping else kind()
    value = data.get(key, empty)
    if not isinstance(value, kind):
        reader.add(key, None, f"'{key}' must be {words}")
        return empty
    return value


def parse_portfolio(
    data: Any,
    fetched: Mapping[PriceKey, MarketSpec] | None = None,
    increments: Mapping[PriceKey, Increments] | None = None,
) -> Portfolio:
    """Validate a decoded portfolio document and build the book it describes.

    fetched: tables fetched from the exchanges, used after the file's `markets` (engine.margin.market_choice);
    increments: the ticks, lots and minimum orders the exchanges' market lists gave, likewise.

    Raises PortfolioError carrying every violation (bad or unknown keys, duplicated keys, the book rules of
    engine.book.book_rules); str() of it is the first, located. Time is linear in the size of the document.
    """
    if not isinstance(data, Mapping):
        raise PortfolioError("the file must hold a JSON object with 'accounts' and 'positions'")
    reader = Reader()
    reader.keys(data, TOP_KEYS, "a portfolio file", None)
    version = data.get("version", FORMAT_VERSION)
    if isinstance(version, bool) or version != FORMAT_VERSION:
        reader.add("version", None, f"'version' {shown(version)} is not supported (this build reads version 1)")

    accounts, account_index, refused_accounts, stand_ins = _read_accounts(reader, data)
    markets = _section(reader, data, "markets", Mapping, "an object of symbol -> market")
    funding, markets = split_funding(reader, markets)  # an entry of funding fields only keeps the known market
    entries: dict[str, MarketEntry] = {k: m for k, i in markets.items() if (m := parse_market(reader, k, i))}
    overrides = MarketSources(entries, fetched, increments)

    prices = _read_prices(reader, data)
    price_alerts, problems = read_price_alerts(data.get("price_alerts"))
    reader.violations += problems
    positions, doc_index, symbols = _read_positions(reader, data, refused_accounts)
    thresholds = read_overrides(reader, data)

    checked = build_book(accounts, positions, overrides)
    violations = reader.violations + [
        v._replace(where=doc_index[v.where], other=None if v.other is None else doc_index[v.other])
        if isinstance(v.where, int)
        else v
        for v in checked.violations
        if v.where not in stand_ins  # its own problems were reported as read
    ]
    if violations:
        violations.sort(key=_order)
        located = [_located(v, account_index, symbols) for v in violations]
        more = f" (and {len(located) - 1} more problems)" if len(located) > 1 else ""
        raise PortfolioError(located[0] + more, violations, located)
    assert checked.book is not None
    return Portfolio(checked.book, prices, overrides, funding, volatilities_of(data), thresholds, tuple(price_alerts))


def _read_accounts(reader: Reader, data: Mapping[str, Any]) -> tuple[list[Account], dict[str, int], set[str], set[str]]:
    """The accounts as read (violations into reader): (accounts, document index by name, names of accounts refused
    outright, names of accounts kept with a stand-in for what could not be read)."""
    accounts: list[Account] = []
    account_index: dict[str, int] = {}
    refused_accounts: set[str] = set()
    stand_ins: set[str] = set()
    for i, item in enumerate(_section(reader, data, "accounts", list, "a list")):
        where: str = _where("account", i, item)  # a readable name stands for the account, else its place
        if not isinstance(item, Mapping):
            reader.add("", where, "must be an object")
            continue
        raw_name = item.get("name")
        if isinstance(raw_name, str) and raw_name.strip() and text_problem(raw_name) is None:
            where = raw_name
            account_index.setdefault(raw_name, i)
        before = len(reader.violations)
        reader.keys(item, (*ACCOUNT_KEYS, KEY), "an account", where)
        name = reader.text(item, "name", where)
        exchange = reader.text(item, "exchange", where)
        wallet = reader.number(item, "wallet_balance", where, non_negative=True)
        currency = reader.text(item, "currency", where, default="")
        mode = reader.choice(item, "position_mode", where, PositionMode, PositionMode.ONEWAY)
        kind = reader.choice(item, "account_type", where, AccountType, AccountType.UNIFIED)
        address = reader.text(item, "wallet_address", where, default="")
        if len(reader.violations) > before:
            if name is None or exchange is None:
                # Its positions are judged once the account is fixed, not as "unknown account".
                if isinstance(item.get("name"), str):
                    refused_accounts.add(item["name"])
                continue
            # Its positions are still judged, against a stand-in for what could not be read (a wallet that
            # holds any margin, a one-way account, the currency of its first position).
            wallet = MAX_WALLET if wallet is None else wallet
            currency, mode, kind = currency or "", mode or PositionMode.ONEWAY, kind or AccountType.UNIFIED
            stand_ins.add(name)
        assert name is not None and exchange is not None and wallet is not None and currency is not None
        accounts.append(Account(name, exchange, wallet, currency, mode, kind, address or ""))
    return accounts, account_index, refused_accounts, stand_ins


def _read_prices(reader: Reader, data: Mapping[str, Any]) -> dict[str, float]:
    """The `prices` section: symbol (or 'exchange:symbol') -> mark price, each checked (violations into reader)."""
    prices_raw = _section(reader, data, "prices", Mapping, "an object of symbol -> mark price")
    prices = {}
    for symbol in prices_raw:
        value = reader.number(prices_raw, symbol, None, positive=True, prefix="prices: ")
        problem = None if value is None else price_problem(value)
        if problem:
            reader.add(symbol, None, f"prices: '{printable(symbol)}' {problem}")
        elif value is not None:
            prices[symbol] = value
    for key in getattr(prices_raw, "duplicates", ()):
        reader.add(key, None, f"prices: '{printable(key)}' is given twice; keep one")
    return prices


def _read_positions(
    reader: Reader, data: Mapping[str, Any], refused_accounts: set[str]
) -> tuple[list[Position], list[int], dict[int, str]]:
    """The positions as read (violations into reader; those of a refused account are left out): (positions,
    the document index of each, the symbol named at each document index)."""
    positions: list[Position] = []
    doc_index: list[int] = []
    symbols: dict[int, str] = {}
    known = (*POSITION_KEYS, KEY)
    for i, item in enumerate(_section(reader, data, "positions", list, "a list")):
        if type(item) is not dict and not isinstance(item, Mapping):  # a dict first: no ABC check per position
            reader.add("", i, "must be an object")
            continue
        if isinstance(item.get("symbol"), str):
            symbols[i] = item["symbol"]
        before = len(reader.violations)
        reader.keys(item, known, "a position", i)
        account = reader.text(item, "account", i)
        symbol = reader.text(item, "symbol", i)
        side = reader.choice(item, "side", i, Side)
        contracts = reader.number(item, "contracts", i, positive=True)
        entry = reader.number(item, "entry_price", i, positive=True)
        mode = reader.choice(item, "margin_mode", i, MarginMode)
        leverage = reader.number(item, "leverage", i, positive=True)
        tail = _position_tail(reader, item, i)
        margin: float | None = 0.0
        if "isolated_margin" in item:
            if mode is MarginMode.CROSS:
                reader.add("isolated_margin", i, "'isolated_margin' applies to isolated positions only")
            else:
                margin = reader.number(item, "isolated_margin", i, positive=True)
        if len(reader.violations) > before or account in refused_accounts:
            continue
        doc_index.append(i)
        positions.append(
            Position(account, symbol, side, contracts, entry, mode, leverage, margin, *tail)  # type: ignore[arg-type]
        )
    return positions, doc_index, symbols


def _position_tail(reader: Reader, item: Mapping[str, Any], i: int) -> tuple[Any, ...]:
    """A position's last fields, in Position's order: hypothetical, note, what a sync wrote (engine.sync): synced_at
    (Unix s) and the exchange's own liquidation price, then take_profit and stop_loss (quote currency); the optional
    numbers None when absent (or null)."""
    synced = [
        reader.number(item, key, i, positive=True) if key in item else None
        for key in ("synced_at", "exchange_liquidation_price")
    ]
    # null is "not set" for the trader's own prices (a spreadsheet or script may write it).
    stops = [
        reader.number(item, key, i, positive=True) if item.get(key) is not None else None
        for key in ("take_profit", "stop_loss")
    ]
    return (reader.flag(item, "hypothetical", i), reader.text(item, "note", i, default=""), *synced, *stops)


def _order(v: Violation) -> tuple[int, int]:
    # The document's order: top level and markets, accounts, positions.
    if v.where is None:
        return (0, 0)
    if isinstance(v.where, int):
        return (2, v.where)
    return (1, 0)


def _where(kind: str, index: int, item: Any) -> str:
    label = f"{kind} {index + 1}"
    if isinstance(item, Mapping):
        name = item.get("symbol") if kind == "position" else item.get("name")
        if isinstance(name, str) and name:
            label += f" ({printable(name)})"
    return label


def _located(v: Violation, account_index: Mapping[str, int], symbols: Mapping[int, str]) -> str:
    """The violation as one line of a portfolio file's message: where, then what."""
    if v.where is None:
        return v.text()
    if isinstance(v.where, int):
        symbol = symbols.get(v.where)
        label = f"position {v.where + 1}" + (f" ({printable(symbol)})" if symbol else "")
        return f"{label}: {v.text()}"
    index = account_index.get(v.where)
    if index is None and v.where.startswith("account "):  # an account without a readable name: its place
        return f"{v.where}: {v.text()}"
    label = f"account {index + 1} ({printable(v.where)})" if index is not None else f"account '{printable(v.where)}'"
    return f"{label}: {v.text()}"


def decode_json(text: str) -> Any:
    """The JSON document of a portfolio file, or PortfolioError saying in one line why it is not one.

    Repeated keys are kept for the parser to name (see parse_portfolio); integer literals too long for
    Python to convert and nesting too deep for its decoder are errors here instead of tracebacks.
    """
    try:
        return json.loads(text, object_pairs_hook=json_object, parse_int=json_int)
    except json.JSONDecodeError as e:
        raise PortfolioError(f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from e
    except RecursionError:
        raise PortfolioError(
            "the JSON is nested too deeply (lists or objects inside each other about 1,000 levels): "
            "not a portfolio file"
        ) from None


def loads_portfolio(
    text: str,
    fetched: Mapping[PriceKey, MarketSpec] | None = None,
    increments: Mapping[PriceKey, Increments] | None = None,
) -> Portfolio:
    """The portfolio of a file's text; PortfolioError for anything wrong with it (see parse_portfolio)."""
    return parse_portfolio(decode_json(text), fetched, increments)


def load_portfolio(
    path: str | Path,
    fetched: Mapping[PriceKey, MarketSpec] | None = None,
    increments: Mapping[PriceKey, Increments] | None = None,
) -> Portfolio:
    """The portfolio file at path, its markets resolved with these fetched tables and market lists' increments
    (see parse_portfolio)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise PortfolioError(f"cannot read {path}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise PortfolioError(f"{path} is not UTF-8 text") from e
    return loads_portfolio(text, fetched, increments)


def portfolio_to_dict(portfolio: Portfolio) -> dict[str, Any]:
    """The version-1 document for a portfolio: what load_portfolio reads back unchanged."""
    book = portfolio.book
    doc: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "accounts": [
            {
                "name": a.name,
                "exchange": a.exchange,
                "wallet_balance": a.wallet_balance,
                "currency": a.currency,
                "position_mode": a.position_mode.value,
                "account_type": a.account_type.value,
                **({"wallet_address": a.wallet_address} if a.wallet_address else {}),
            }
            for a in book.accounts
        ],
        "positions": [],
    }
    for p in book.positions:
        item: dict[str, Any] = {
            "account": p.account,
            "symbol": p.symbol,
            "side": p.side.value,
            "contracts": p.contracts,
            "entry_price": p.entry_price,
            "margin_mode": p.margin_mode.value,
            "leverage": p.leverage,
        }
        if p.margin_mode is MarginMode.ISOLATED:
            item["isolated_margin"] = p.isolated_margin
        if p.hypothetical:
            item["hypothetical"] = True
        if p.note:
            item["note"] = p.note
        optional = {
            "take_profit": p.take_profit,
            "stop_loss": p.stop_loss,
            "synced_at": p.synced_at,
            "exchange_liquidation_price": p.exchange_liquidation_price,
        }
        item.update({key: value for key, value in optional.items() if value is not None})
        doc["positions"].append(item)
    if portfolio.prices:
        doc["prices"] = dict(portfolio.prices)
    if portfolio.market_overrides:
        doc["markets"] = {key: entry_to_dict(m) for key, m in portfolio.market_overrides.items()}
    for key, volatility in portfolio.volatilities.items():
        doc.setdefault("markets", {}).setdefault(key, {})["volatility"] = volatility
    if portfolio.price_alerts:
        doc["price_alerts"] = price_alerts_to_list(portfolio.price_alerts)
    return write_overrides(merge_funding(doc, portfolio.funding), portfolio.threshold_overrides)


def dumps_portfolio(portfolio: Portfolio) -> str:
    return json.dumps(portfolio_to_dict(portfolio), indent=2, ensure_ascii=False) + "\n"
