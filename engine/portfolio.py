"""The portfolio file (JSON, version 1): the one format for import, export and the command line.

Every problem is reported as a PortfolioError whose message names the field and, where there is
one, the position or account it belongs to, so a user can fix the file from the message alone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.exposure import initial_margin_at_entry
from engine.model import (
    Account,
    Book,
    MarginMode,
    MarketSpec,
    Position,
    PositionMode,
    PriceKey,
    Side,
    Tier,
    settle_currency_of,
)
from engine.rules import profile_for
from engine.tiers import TierTableError, bundled_exchanges, bundled_market, check_tiers

FORMAT_VERSION = 1
MAX_LEVERAGE = 1_000.0


class PortfolioError(ValueError):
    """The file cannot be used as it is; the message says where and why."""


@dataclass(frozen=True)
class Portfolio:
    """A book with the marks written in the file (symbol -> mark, for every exchange)."""

    book: Book
    prices: Mapping[str, float] = field(default_factory=dict)
    market_overrides: Mapping[str, MarketSpec] = field(default_factory=dict)

    def price_map(self) -> dict[PriceKey, float]:
        """The file's marks keyed by (exchange, symbol) for each key the book needs."""
        return {key: self.prices[key[1]] for key in self.book.price_keys() if key[1] in self.prices}


def _where(kind: str, index: int, item: Mapping[str, Any] | None) -> str:
    label = f"{kind} {index + 1}"
    if isinstance(item, Mapping):
        name = item.get("symbol") if kind == "position" else item.get("name")
        if isinstance(name, str) and name:
            label += f" ({name})"
    return label


def _number(
    item: Mapping[str, Any],
    key: str,
    where: str,
    *,
    positive: bool = False,
    non_negative: bool = False,
    default: float | None = None,
) -> float:
    if key not in item or item[key] is None:
        if default is not None:
            return default
        raise PortfolioError(f"{where}: missing field '{key}'")
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PortfolioError(f"{where}: '{key}' must be a number, not {json.dumps(value)}")
    try:
        value = float(value)
    except OverflowError:
        raise PortfolioError(f"{where}: '{key}' must be a finite number") from None
    if not math.isfinite(value):
        raise PortfolioError(f"{where}: '{key}' must be a finite number")
    if positive and value <= 0:
        raise PortfolioError(f"{where}: '{key}' must be greater than 0 (got {value:g})")
    if non_negative and value < 0:
        raise PortfolioError(f"{where}: '{key}' must not be negative (got {value:g})")
    return value


def _text(item: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = item.get(key, default)
    if value is None:
        raise PortfolioError(f"{where}: missing field '{key}'")
    if not isinstance(value, str) or (not value.strip() and default is None):
        raise PortfolioError(f"{where}: '{key}' must be a non-empty string")
    return value


def _choice(item: Mapping[str, Any], key: str, where: str, enum: type, default: Any = None) -> Any:
    raw = item.get(key, default.value if default is not None else None)
    if raw is None:
        raise PortfolioError(f"{where}: missing field '{key}'")
    try:
        return enum(raw)
    except ValueError:
        allowed = " or ".join(f"'{e.value}'" for e in enum)
        raise PortfolioError(f"{where}: '{key}' must be {allowed}, not {json.dumps(raw)}") from None


def _flag(item: Mapping[str, Any], key: str, where: str) -> bool:
    value = item.get(key, False)
    if not isinstance(value, bool):
        raise PortfolioError(f"{where}: '{key}' must be true or false, not {json.dumps(value)}")
    return value


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise PortfolioError(f"'{key}' must be a list")
    return value


def market_key_symbol(key: str) -> str:
    """'bybit:ETH/USDT:USDT' -> 'ETH/USDT:USDT'; a plain unified symbol is returned as it is.

    A ccxt unified symbol always has its '/' before the first ':', so a prefix without '/' is an
    exchange id: such an entry applies on that exchange only, and wins over a plain symbol entry.
    """
    prefix, sep, rest = key.partition(":")
    return rest if sep and "/" not in prefix and "/" in rest else key


def _parse_market(key: str, item: Any) -> MarketSpec:
    symbol = market_key_symbol(key)
    where = f"markets.{key}"
    if not isinstance(item, Mapping):
        raise PortfolioError(f"{where}: must be an object")
    tiers_raw = item.get("tiers")
    if not isinstance(tiers_raw, list) or not tiers_raw:
        raise PortfolioError(f"{where}: 'tiers' must be a non-empty list")
    tiers = []
    for k, t in enumerate(tiers_raw):
        tw = f"{where}.tiers[{k + 1}]"
        if not isinstance(t, Mapping):
            raise PortfolioError(f"{tw}: must be an object")
        tiers.append(
            Tier(
                min_notional=_number(t, "min_notional", tw, non_negative=True),
                max_notional=_number(t, "max_notional", tw, positive=True),
                maintenance_margin_rate=_number(t, "maintenance_margin_rate", tw, non_negative=True),
                maintenance_amount=_number(t, "maintenance_amount", tw, default=0.0),
                max_leverage=_number(t, "max_leverage", tw, non_negative=True, default=0.0),
            )
        )
    try:
        ordered = check_tiers(tiers, where)
    except TierTableError as e:
        raise PortfolioError(str(e)) from e
    return MarketSpec(
        symbol=symbol,
        tiers=ordered,
        contract_size=_number(item, "contract_size", where, positive=True, default=1.0),
        inverse=_flag(item, "inverse", where),
        taker_fee=_number(item, "taker_fee", where, non_negative=True, default=0.0),
        max_leverage=_number(item, "max_leverage", where, non_negative=True, default=ordered[0].max_leverage),
        source="portfolio file",
    )


def parse_portfolio(data: Any) -> Portfolio:
    """Validate a decoded portfolio document and build the book it describes."""
    if not isinstance(data, Mapping):
        raise PortfolioError("the file must hold a JSON object with 'accounts' and 'positions'")
    version = data.get("version", FORMAT_VERSION)
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise PortfolioError(f"'version' {json.dumps(version)} is not supported (this build reads version 1)")

    accounts: list[Account] = []
    for i, item in enumerate(_list(data, "accounts")):
        where = _where("account", i, item)
        if not isinstance(item, Mapping):
            raise PortfolioError(f"{where}: must be an object")
        name = _text(item, "name", where)
        if any(a.name == name for a in accounts):
            raise PortfolioError(f"{where}: another account is already named '{name}'")
        accounts.append(
            Account(
                name=name,
                exchange=_text(item, "exchange", where),
                wallet_balance=_number(item, "wallet_balance", where, non_negative=True),
                currency=_text(item, "currency", where, default=""),
                position_mode=_choice(item, "position_mode", where, PositionMode, PositionMode.ONEWAY),
            )
        )
    by_name = {a.name: a for a in accounts}

    overrides_raw = data.get("markets", {})
    if not isinstance(overrides_raw, Mapping):
        raise PortfolioError("'markets' must be an object of symbol -> market")
    overrides = {symbol: _parse_market(symbol, item) for symbol, item in overrides_raw.items()}

    prices_raw = data.get("prices", {})
    if not isinstance(prices_raw, Mapping):
        raise PortfolioError("'prices' must be an object of symbol -> mark price")
    prices = {symbol: _number(prices_raw, symbol, "prices", positive=True) for symbol in prices_raw}

    positions: list[Position] = []
    markets: dict[PriceKey, MarketSpec] = {}
    sides_held: dict[tuple[str, str], tuple[Side, MarginMode, int]] = {}
    account_currency: dict[str, str] = {}
    for i, item in enumerate(_list(data, "positions")):
        where = _where("position", i, item)
        if not isinstance(item, Mapping):
            raise PortfolioError(f"{where}: must be an object")
        account_name = _text(item, "account", where)
        if account_name not in by_name:
            raise PortfolioError(f"{where}: 'account' names an unknown account '{account_name}'")
        account = by_name[account_name]
        symbol = _text(item, "symbol", where)
        market = resolve_market(account.exchange, symbol, overrides)
        if market is None:
            raise PortfolioError(
                f"{where}: unknown symbol '{symbol}' on {account.exchange}: no bundled tiers "
                f"(bundled: {', '.join(bundled_exchanges())}); add it under 'markets' in the file"
            )
        if markets.get((account.exchange, symbol)) is not market:  # once per market, not per position
            _check_rates(market, account.exchange, where)
        markets[(account.exchange, symbol)] = market
        settle = settle_currency_of(symbol)
        # One account is one wallet: without a stated currency, its first position sets it.
        currency = account.currency or account_currency.setdefault(account_name, settle)
        if settle and currency != settle:
            raise PortfolioError(
                f"{where}: '{symbol}' settles in {settle} but account '{account.name}' is in {currency}"
            )
        side = _choice(item, "side", where, Side)
        contracts = _number(item, "contracts", where, positive=True)
        entry = _number(item, "entry_price", where, positive=True)
        mode = _choice(item, "margin_mode", where, MarginMode)
        leverage = _number(item, "leverage", where, positive=True)
        max_leverage = market.max_leverage
        if leverage > MAX_LEVERAGE:
            raise PortfolioError(
                f"{where}: 'leverage' {leverage:g} is above {MAX_LEVERAGE:g}, more than any exchange offers"
            )
        if max_leverage and leverage > max_leverage:
            raise PortfolioError(f"{where}: 'leverage' {leverage:g} is above the market's maximum {max_leverage:g}")
        hypothetical = item.get("hypothetical", False)
        if not isinstance(hypothetical, bool):
            raise PortfolioError(f"{where}: 'hypothetical' must be true or false")
        note = item.get("note", "")
        if not isinstance(note, str):
            raise PortfolioError(f"{where}: 'note' must be a string")
        position = Position(account_name, symbol, side, contracts, entry, mode, leverage, 0.0, hypothetical, note)
        isolated_margin = 0.0
        if mode is MarginMode.ISOLATED:
            isolated_margin = _number(
                item,
                "isolated_margin",
                where,
                positive=True,
                default=initial_margin_at_entry(position, market),
            )
        elif "isolated_margin" in item:
            raise PortfolioError(f"{where}: 'isolated_margin' applies to isolated positions only")
        if account.position_mode is PositionMode.ONEWAY:
            # One-way: the exchange holds one position per symbol, so one side and one margin mode,
            # hypothetical positions included (they stand for trades on that same position).
            held = sides_held.get((account_name, symbol))
            if held is not None and held[0] is not side:
                raise PortfolioError(
                    f"{where}: account '{account_name}' is in one-way mode and position {held[2] + 1} "
                    f"is already {held[0].value} {symbol}; use position_mode 'hedge' to hold both sides"
                )
            if held is not None and held[1] is not mode:
                raise PortfolioError(
                    f"{where}: account '{account_name}' is in one-way mode and position {held[2] + 1} holds "
                    f"{symbol} in {held[1].value} margin; one symbol has one margin mode"
                )
            sides_held.setdefault((account_name, symbol), (side, mode, i))
        positions.append(
            Position(
                account_name,
                symbol,
                side,
                contracts,
                entry,
                mode,
                leverage,
                isolated_margin,
                hypothetical,
                note,
            )
        )

    accounts = [a if a.currency else _with_currency(a, positions, markets) for a in accounts]
    for account in accounts:
        locked = sum(p.isolated_margin for p in positions if p.account == account.name)
        if locked > account.wallet_balance * (1 + 1e-12):
            raise PortfolioError(
                f"account '{account.name}': isolated margins ({locked:g}) exceed 'wallet_balance' "
                f"({account.wallet_balance:g}); wallet_balance is the whole wallet, isolated margins included"
            )
    return Portfolio(Book(tuple(accounts), tuple(positions), markets), prices, overrides)


def resolve_market(exchange: str, symbol: str, overrides: Mapping[str, MarketSpec] | None = None) -> MarketSpec | None:
    """The market of `symbol` on `exchange` as a portfolio file resolves it, or None when nothing has it.

    overrides are the file's `markets` (Portfolio.market_overrides): an `exchange:symbol` entry wins over a
    plain `symbol` entry, which wins over the bundled table of the exchange.
    """
    overrides = overrides or {}
    return overrides.get(f"{exchange}:{symbol}") or overrides.get(symbol) or bundled_market(exchange, symbol)


def market_rate_problem(market: MarketSpec, exchange: str) -> str | None:
    """Why the market cannot be used on this exchange (a tier's rate, as its profile applies it, is not a
    fraction below 100%), or None when it can."""
    profile = profile_for(exchange)
    for tier in market.tiers:
        try:
            rate = profile.effective_rate(tier, market)
        except ValueError as e:
            return str(e)
        if not 0 <= rate < 1:
            return (
                f"the maintenance rate on {exchange} comes to {rate:.4g} (fee included), "
                f"which is not below 100%; check 'maintenance_margin_rate', 'taker_fee' and 'max_leverage'"
            )
    return None


def _check_rates(market: MarketSpec, exchange: str, where: str) -> None:
    problem = market_rate_problem(market, exchange)
    if problem is not None:
        raise PortfolioError(f"{where}: {problem}")


def _with_currency(account: Account, positions: list[Position], markets: Mapping[PriceKey, MarketSpec]) -> Account:
    settles = [markets[(account.exchange, p.symbol)].settle_currency for p in positions if p.account == account.name]
    currency = next((c for c in settles if c), "USDT")
    return Account(account.name, account.exchange, account.wallet_balance, currency, account.position_mode)


def loads_portfolio(text: str) -> Portfolio:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise PortfolioError(f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from e
    return parse_portfolio(data)


def load_portfolio(path: str | Path) -> Portfolio:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise PortfolioError(f"cannot read {path}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise PortfolioError(f"{path} is not UTF-8 text") from e
    return loads_portfolio(text)


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
        doc["positions"].append(item)
    if portfolio.prices:
        doc["prices"] = dict(portfolio.prices)
    if portfolio.market_overrides:
        doc["markets"] = {
            key: {
                "contract_size": m.contract_size,
                "inverse": m.inverse,
                "taker_fee": m.taker_fee,
                "max_leverage": m.max_leverage,
                "tiers": [
                    {
                        "min_notional": t.min_notional,
                        "max_notional": t.max_notional,
                        "maintenance_margin_rate": t.maintenance_margin_rate,
                        "maintenance_amount": t.maintenance_amount,
                        "max_leverage": t.max_leverage,
                    }
                    for t in m.tiers
                ],
            }
            for key, m in portfolio.market_overrides.items()
        }
    return doc


def dumps_portfolio(portfolio: Portfolio) -> str:
    return json.dumps(portfolio_to_dict(portfolio), indent=2, ensure_ascii=False) + "\n"
