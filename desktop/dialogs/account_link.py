"""The account's link to the exchange (engine.sync), checked as typed: a public wallet address where the venue
publishes account state (Hyperliquid), or an API key with its secret (and passphrase) for the keyring. Free of
widgets, like validate_account_input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from desktop.dialogs.account_check import AccountCheck

LINK_FIELDS = ("wallet_address", "api_key", "secret", "passphrase")
"""The link to the exchange (engine.sync): a public address, or a key that goes to the keyring, never the book."""


def check_link(check: AccountCheck, fields: Mapping[str, str]) -> AccountCheck:
    """The account's check with its link to the exchange checked too (engine.sync): an address only where the
    venue publishes account state, in its form; a key with its secret; a key only where a keyring exists."""
    from engine.sync.keys import keyring_problem
    from engine.sync.reader import ADDRESS_EXCHANGES, ADDRESS_FORMS

    messages, hints = dict(check.messages), dict(check.hints)
    exchange, address = fields.get("exchange", "").strip(), fields.get("wallet_address", "").strip()
    key, secret, passphrase = (fields.get(name, "") for name in LINK_FIELDS[1:])

    form = ADDRESS_FORMS.get(exchange)
    if address and not exchange.startswith(ADDRESS_EXCHANGES):
        messages["wallet_address"] = f"{exchange or 'this exchange'} is read with an API key, not an address"
    elif address and form and not form[0].fullmatch(address):
        messages["wallet_address"] = f"a {exchange} address is {form[1]}"
    elif exchange.startswith(ADDRESS_EXCHANGES):
        hints["wallet_address"] = "its account state is public: synced from this address, no key needed"
    if bool(key) != bool(secret):
        messages["secret" if key else "api_key"] = "an API key needs its secret, and a secret its key"
    elif passphrase and not key:
        messages["api_key"] = "a passphrase goes with an API key"
    elif key and (problem := keyring_problem()):
        messages["api_key"] = f"{problem}: keys are only kept there; use the MARGINWATCH_… environment variables"
    else:
        hints["api_key"] = "kept in the system keyring, never in the book; give a read-only key"
    if len(messages) > len(check.messages):
        return AccountCheck(messages, hints)
    return replace(check, hints=hints)
