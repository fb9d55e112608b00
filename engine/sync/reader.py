"""Read one account from its exchange through ccxt: fetch_positions and fetch_balance, and fetch_margin_mode where
the positions do not say their margin mode (Bybit's unified account: the mode is the account's), nothing else.

Read-only by construction: the ccxt client's request signer is wrapped so that any request other than a GET
(or a POST to an exchange's documented public read endpoint: Hyperliquid's /info) is refused before it is
signed or sent (SyncError READ_ONLY). Orders, cancels, leverage and margin changes, transfers and withdrawals
are all POST/PUT/DELETE on every exchange ccxt supports for futures, so none can leave this process. The
public calls ccxt needs (the markets, and the server's time when the exchange refuses our time stamp) pass.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import ccxt

from engine.market.feeds.exchange_config import deep_merge
from engine.sync.errors import SyncError, SyncFailure, translate
from engine.sync.exchange_state import ExchangeState, state_from_ccxt
from engine.sync.keys import ADDRESS_EXCHANGES, Credentials, scrub

BASE_CONFIG: Mapping[str, Any] = {
    "enableRateLimit": True,
    "timeout": 10_000,
    # Binance: load_markets would otherwise read /sapi/v1/capital/config/getall (a private spot call) once keys
    # are set; currencies are not needed to read positions.
    "options": {"fetchCurrencies": False},
}
CLIENT_SETTINGS: Mapping[str, Mapping[str, Any]] = {
    # Bybit: load_markets would otherwise read /v5/asset/coin/query-info (a private call) once keys are set.
    "bybit": {"has": {"fetchCurrencies": False}},
}
"""Per exchange, ccxt settings merged over BASE_CONFIG (and under the user's --exchange-config)."""
POSITION_PARAMS: Mapping[str, Mapping[str, Any]] = {
    # /fapi/v2/positionRisk carries leverage and marginType (v3 does not): the exchange's own figures, not derived.
    "binanceusdm": {"useV2": True},
}
BALANCE_PARAMS: Mapping[str, Mapping[str, Any]] = {
    # The perpetuals account's clearinghouseState, asked directly: without it ccxt first asks userAbstraction.
    "hyperliquid": {"enableUnifiedMargin": False},
}
PUBLIC_POSTS = {("hyperliquid", "info")}
"""(exchange id, path) of read endpoints an exchange serves over POST."""
ADDRESS_FORMS = {"hyperliquid": (re.compile(r"0x[0-9a-fA-F]{40}"), "0x and 40 hexadecimal digits")}
"""How a venue's wallet address is written (Hyperliquid: an EVM address), checked before anything is sent."""


class _RedactCredentials(logging.Filter):
    """ccxt logs each request with its headers at DEBUG (ccxt/base/exchange.py), the API key among them: every
    credential value of a reader is replaced by '***' in such a record before any handler sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.values: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.values:
            text = record.getMessage()
            clean = text
            for value in self.values:
                clean = clean.replace(value, "***")
            if clean != text:
                record.msg, record.args = clean, ()
        return True


_REDACT = _RedactCredentials()
_CCXT_LOG = logging.getLogger("ccxt.base.exchange")  # the logger ccxt's requests are logged to


def guard_read_only(exchange: Any, requests: list[tuple[str, str, str]] | None = None) -> None:
    """Refuse, in this ccxt client, every request that is not a read (see the module's docstring); each request
    let through is appended to `requests` as (api, method, path) when a list is given."""
    sign = exchange.sign

    def guarded(path: str, api: Any = "public", method: str = "GET", params: Any = None, *rest: Any) -> Any:
        if method != "GET" and (exchange.id, path) not in PUBLIC_POSTS:
            raise SyncError(SyncFailure.READ_ONLY, f"refused {method} {path}: sync only reads from {exchange.id}")
        if requests is not None:
            requests.append((str(api), method, path))
        return sign(path, api, method, {} if params is None else params, *rest)

    exchange.sign = guarded


class AccountReader:
    """A read-only ccxt client for one account (synchronous; use it from a worker thread or the command line).

    exchange: ccxt id; credentials: the API key (None for a venue read by wallet_address); settings: the
    --exchange-config 'ccxt' member (URLs, timeout, proxy), deep-merged over BASE_CONFIG. Raises SyncError
    (NOT_SUPPORTED) when ccxt has no such exchange or it cannot fetch positions and balances, and (NOT_LINKED)
    when neither a key nor, for a venue that publishes account state, an address is given.
    """

    def __init__(
        self,
        exchange: str,
        credentials: Credentials | None = None,
        wallet_address: str = "",
        settings: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        cls = getattr(ccxt, exchange, None) if exchange in ccxt.exchanges else None
        if cls is None:
            raise SyncError(SyncFailure.NOT_SUPPORTED, f"ccxt has no exchange '{exchange}'")
        if credentials is None and not (wallet_address and exchange.startswith(ADDRESS_EXCHANGES)):
            raise SyncError(SyncFailure.NOT_LINKED, f"{exchange}: no API key for this account")
        form = ADDRESS_FORMS.get(exchange)
        if credentials is None and form and not form[0].fullmatch(wallet_address):
            raise SyncError(
                SyncFailure.INVALID_ADDRESS, f"{exchange}: the wallet address '{wallet_address}' is not {form[1]}"
            )
        config = deep_merge(deep_merge(BASE_CONFIG, CLIENT_SETTINGS.get(exchange, {})), settings or {})
        if credentials is not None:
            if _REDACT not in _CCXT_LOG.filters:
                _CCXT_LOG.addFilter(_REDACT)
            _REDACT.values.update(credentials.secrets())
            config.update(apiKey=credentials.api_key, secret=credentials.secret)
            if credentials.passphrase:
                config["password"] = credentials.passphrase
        self.exchange_id = exchange
        self.credentials = credentials
        self.wallet_address = wallet_address
        self.clock = clock
        self.requests: list[tuple[str, str, str]] = []
        """(ccxt api, method, path) of every request sent, in order: what a sync asked of the exchange."""
        self._client = cls(config)
        has = self._client.has
        if not (has.get("fetchPositions") and has.get("fetchBalance")):
            raise SyncError(SyncFailure.NOT_SUPPORTED, f"ccxt cannot read positions and balances on {exchange}")
        guard_read_only(self._client, self.requests)

    def _params(self) -> dict[str, Any]:
        return {"user": self.wallet_address} if self.credentials is None else {}

    def fetch(self, currency: str) -> ExchangeState:
        """The account's positions and wallet in currency, now. Raises SyncError with the failure in words (a
        refused time stamp says by how much this clock is off when the exchange's time can be read)."""
        try:
            self._client.load_markets()
            positions = self._client.fetch_positions(
                None, {**POSITION_PARAMS.get(self.exchange_id, {}), **self._params()}
            )
            self._fill_margin_modes(positions)
            balance = self._client.fetch_balance({**BALANCE_PARAMS.get(self.exchange_id, {}), **self._params()})
        except SyncError:
            raise
        except ccxt.BaseError as e:
            error = translate(self.exchange_id, e)
            if error.kind is SyncFailure.CLOCK_SKEW:
                error = self._measured_skew(error)
            raise SyncError(error.kind, scrub(str(error), self.credentials), error.skew_s) from None
        return state_from_ccxt(self.exchange_id, positions, balance, currency, self.clock())

    def _fill_margin_modes(self, positions: Any) -> None:
        """Give the open positions that came without a marginMode the account's, asked once with ccxt's
        fetch_margin_mode (for one of their symbols) where the exchange has it. Bybit's unified account keeps one
        margin mode for the whole account (V5 "Get Account Info", GET /v5/account/info, marginMode
        ISOLATED_MARGIN / REGULAR_MARGIN / PORTFOLIO_MARGIN, read 2026-12-01) and ccxt 4.5's parse_position leaves
        marginMode None there ("tradeMode was deprecated"). A Bybit classic account (unifiedMarginStatus 1) keeps
        a mode per position, in each position's tradeMode: those are left to exchange_state. Raises SyncError
        (NOT_SUPPORTED) for portfolio margin, ccxt.BaseError from the call."""
        if not isinstance(positions, list) or not self._client.has.get("fetchMarginMode"):
            return
        missing = [
            p
            for p in positions
            if isinstance(p, dict) and not p.get("marginMode") and p.get("contracts") and p.get("symbol")
        ]
        if not missing:
            return
        answer = self._client.fetch_margin_mode(missing[0]["symbol"])
        info = answer.get("info") if isinstance(answer, dict) else None
        if isinstance(info, dict) and str(info.get("unifiedMarginStatus")) == "1":
            return
        mode = answer.get("marginMode") if isinstance(answer, dict) else None
        if mode == "portfolio":
            raise SyncError(
                SyncFailure.NOT_SUPPORTED,
                f"{self.exchange_id}: this account uses portfolio margin, which Margin Watch does not model "
                "(its liquidation follows the whole portfolio's risk); nothing was synced",
            )
        if mode in ("cross", "isolated"):
            for position in missing:
                position["marginMode"] = mode

    def _measured_skew(self, error: SyncError) -> SyncError:
        """The clock-skew error with its size: our clock against the exchange's public server time."""
        try:
            sent = self.clock()
            server_ms = self._client.fetch_time()
            local = (sent + self.clock()) / 2
        except (ccxt.BaseError, SyncError):
            return error
        if not server_ms:
            return error
        skew = local - server_ms / 1000
        window = self._client.options.get("recvWindow")
        limit = f"; it accepts requests within {window / 1000:g} s" if isinstance(window, int | float) else ""
        where = "ahead of" if skew > 0 else "behind"
        return SyncError(
            SyncFailure.CLOCK_SKEW,
            f"{error}: this computer's clock is {abs(skew):.1f} s {where} the exchange's{limit}; set it (NTP)",
            skew,
        )
