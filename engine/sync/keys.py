"""API keys of linked accounts: in the operating system's keyring (the `keyring` package), or in environment
variables for headless use. Never in the database, the portfolio file, a log, an export or a crash report,
and never a plain-text file written by Margin Watch: without a keyring backend the user is told to use the
environment variables instead.

Keyring entries: service "marginwatch", user "<account name>:api_key", ":secret" and ":passphrase" (the
passphrase only where the exchange needs one: OKX, Bitget, KuCoin). Environment variables (checked first):
MARGINWATCH_<ACCOUNT>_API_KEY, MARGINWATCH_<ACCOUNT>_SECRET, MARGINWATCH_<ACCOUNT>_PASSPHRASE, where
<ACCOUNT> is the account's name in capitals with every run of other characters than A-Z and 0-9 as one "_"
("Binance main" -> MARGINWATCH_BINANCE_MAIN_API_KEY).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import keyring
import keyring.errors
from keyring.backends import chainer, fail, null

from engine.margin.model import Account
from engine.sync.errors import SyncError, SyncFailure

ADDRESS_EXCHANGES = ("hyperliquid", "dydx")
"""Venues whose account state is public: read with the account's wallet_address, no key."""

SERVICE = "marginwatch"
_PARTS = ("api_key", "secret", "passphrase")


@dataclass(frozen=True)
class Credentials:
    """An API key, its secret and (where the exchange has one) passphrase. Never printed: repr hides them."""

    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    passphrase: str = field(default="", repr=False)
    source: str = "keyring"
    """Where they came from: 'keyring' or 'environment' (said in messages; the values never are)."""

    def secrets(self) -> tuple[str, ...]:
        """The values themselves, to scrub them from any text that might leave the process."""
        return tuple(v for v in (self.api_key, self.secret, self.passphrase) if v)


def env_names(account: str) -> tuple[str, str, str]:
    """The environment variables for an account's key, secret and passphrase (see the module's docstring)."""
    stem = re.sub(r"[^A-Z0-9]+", "_", account.upper()).strip("_") or "ACCOUNT"
    return tuple(f"MARGINWATCH_{stem}_{part.upper()}" for part in _PARTS)  # type: ignore[return-value]


def keyring_problem() -> str | None:
    """Why no usable keyring backend exists on this system (in words), or None when one does."""
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring) or (
        isinstance(backend, chainer.ChainerBackend) and not backend.backends
    ):
        return "no keyring on this system"
    return None


def _no_keyring(account: str, why: str) -> SyncError:
    key, secret, passphrase = env_names(account)
    return SyncError(
        SyncFailure.NO_KEYRING,
        f"{why}: use the environment variables {key} and {secret} (and {passphrase} where the exchange "
        "needs one) for this account",
    )


def load_credentials(account: str, environ: Mapping[str, str] | None = None) -> Credentials | None:
    """The account's credentials: the environment's when its key and secret are both set, else the keyring's;
    None when neither holds a key. Raises SyncError (NO_KEYRING) when there is no keyring backend or it
    refuses to answer (locked), naming the environment variables to use instead."""
    env = os.environ if environ is None else environ
    key, secret, passphrase = (env.get(name, "") for name in env_names(account))
    if key and secret:
        return Credentials(key, secret, passphrase, source="environment")
    problem = keyring_problem()
    if problem:
        raise _no_keyring(account, problem)
    try:
        values = [keyring.get_password(SERVICE, f"{account}:{part}") or "" for part in _PARTS]
    except keyring.errors.KeyringError as e:
        raise _no_keyring(account, f"the keyring did not answer ({type(e).__name__})") from None
    if not values[0] or not values[1]:
        return None
    return Credentials(*values, source="keyring")


def store_credentials(account: str, credentials: Credentials) -> None:
    """Put the account's credentials in the keyring (an empty passphrase removes a stored one). Raises SyncError
    (NO_KEYRING) when there is no keyring backend: nothing is written anywhere else."""
    problem = keyring_problem()
    if problem:
        raise _no_keyring(account, problem)
    try:
        for part, value in zip(_PARTS, (credentials.api_key, credentials.secret, credentials.passphrase), strict=True):
            if value:
                keyring.set_password(SERVICE, f"{account}:{part}", value)
            elif keyring.get_password(SERVICE, f"{account}:{part}") is not None:
                keyring.delete_password(SERVICE, f"{account}:{part}")
    except keyring.errors.KeyringError as e:
        raise _no_keyring(account, f"the keyring refused to store the key ({type(e).__name__})") from None


def forget_credentials(account: str) -> None:
    """Remove the account's credentials from the keyring (the environment is the user's own)."""
    if keyring_problem():
        return
    for part in _PARTS:
        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            keyring.delete_password(SERVICE, f"{account}:{part}")


def scrub(text: str, credentials: Credentials | None) -> str:
    """text with every credential value replaced by '***' (a message about to leave the process)."""
    for value in credentials.secrets() if credentials else ():
        text = text.replace(value, "***")
    return text


def link_problem(account: Account, environ: Mapping[str, str] | None = None) -> str | None:
    """Why the account cannot be synced, in one sentence, or None when it can: a wallet address on a venue that
    publishes account state, or a key in the environment or the keyring (here, not in engine.sync.run, so that
    asking does not load ccxt: the window's automatic sync asks on the GUI thread)."""
    if account.wallet_address and account.exchange.startswith(ADDRESS_EXCHANGES):
        return None
    try:
        return None if load_credentials(account.name, environ) is not None else not_linked_message(account)
    except SyncError as e:
        return f"account '{account.name}': {e}"


def not_linked_message(account: Account) -> str:
    key, secret, _ = env_names(account.name)
    return (
        f"account '{account.name}' is not linked to {account.exchange}: store its read-only API key in the keyring "
        f"(keyring set marginwatch '{account.name}:api_key', then ':secret') or set {key} and {secret}"
        + (", or give it a wallet_address" if account.exchange.startswith(ADDRESS_EXCHANGES) else "")
    )
