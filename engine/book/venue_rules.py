"""The book rules that depend on the venue: exchanges the installed ccxt lacks, account types, fee-inclusive rates.

engine.book.book_rules asks these for every account and market, so every door (file, CSV, forms, what-if, the
command line) refuses the same things in the same words.
"""

from __future__ import annotations

from functools import lru_cache

from engine.book.safe_text import printable
from engine.margin.model import Account, AccountType, MarketSpec
from engine.margin.rules import ACCOUNT_TYPE_EXCHANGES, RuleProfile, profile_for

NOT_IN_CCXT: dict[str, str] = {"bitmex": "BitMEX"}
"""Major venues the installed ccxt (4.5.90) has no exchange class for (tests check they are still missing): a
book that names one is refused with a sentence, not taken for an unknown exchange and judged by the generic rule."""


SPOT_IDS: dict[str, str] = {
    "binance": "'binanceusdm' for USDⓈ-M futures or 'binancecoinm' for COIN-M futures",
    "kucoin": "'kucoinfutures' for KuCoin's futures",
}
"""ccxt ids of a venue's spot exchange that traders take for its futures (a common mistake): the futures id to
use instead. Their futures rules and tier tables live under the futures id, so the book is refused with it."""


def venue_problems(account: Account) -> list[tuple[str, str]]:
    """What the account's venue makes wrong, as (field, message) pairs; [] when nothing."""
    out = []
    futures = SPOT_IDS.get(account.exchange.strip())
    if futures is not None:
        out.append(("exchange", f"'{account.exchange.strip()}' is the spot exchange in ccxt: use {futures}"))
    venue = NOT_IN_CCXT.get(account.exchange.strip().lower())
    if venue is not None:
        out.append(
            (
                "exchange",
                f"{venue} is not in the installed ccxt: Margin Watch can neither read its prices nor apply its rules",
            )
        )
    if account.account_type is not AccountType.UNIFIED and account.exchange not in ACCOUNT_TYPE_EXCHANGES:
        out.append(
            (
                "account_type",
                f"'account_type' '{account.account_type.value}' is a Bybit account type; "
                f"{printable(account.exchange)} accounts are 'unified'",
            )
        )
    return out


def market_rate_problem(market: MarketSpec, exchange: str) -> str | None:
    """Why the market cannot be used on this exchange (a tier's rate, as its profile applies it, is not a
    fraction below 100%), or None when it can. Bybit's classic profile adds the fee on inverse contracts, which its
    unified one does not: both are checked."""
    for profile in _profiles(exchange):
        if profile.maintenance_share_of_max_leverage_margin is None:  # effective_rate's rates, which cannot raise
            fee = market.taker_fee if profile.adds_fee(market) else None
            for tier in market.tiers:
                rate = tier.maintenance_margin_rate if fee is None else tier.maintenance_margin_rate + fee
                if not 0 <= rate < 1:
                    return _rate_problem(exchange, rate)
            continue
        for tier in market.tiers:
            try:
                rate = profile.effective_rate(tier, market)
            except ValueError as e:
                return str(e)
            if not 0 <= rate < 1:
                return _rate_problem(exchange, rate)
    return None


def _rate_problem(exchange: str, rate: float) -> str:
    return (
        f"the maintenance rate on {exchange} comes to {rate:.4g} (fee included), "
        f"which is not below 100%; check 'maintenance_margin_rate', 'taker_fee' and 'max_leverage'"
    )


@lru_cache(maxsize=64)
def _profiles(exchange: str) -> tuple[RuleProfile, ...]:
    """The exchange's distinct rule profiles over the account types, in the order their set gives (hashing the
    profiles once per exchange, not once per market)."""
    return tuple({profile_for(exchange, kind) for kind in AccountType})
