"""The secrets of alert channels: in the operating system's keyring (the `keyring` package), or in environment
variables for headless use (`marginwatch watch` under systemd). Never in the database, the alerts config
file, a log or an error message (Dispatcher scrubs them from every error text).

Which secret each channel has (the same pattern as the exchange keys, engine.sync.keys):

    webhook    the URL                (keyring user "<channel>:url",   env MARGINWATCH_ALERT_<CHANNEL>_URL)
    ntfy       the topic URL          (keyring user "<channel>:url",   env MARGINWATCH_ALERT_<CHANNEL>_URL)
               and an access token, optional (":token", MARGINWATCH_ALERT_<CHANNEL>_TOKEN)
    telegram   the bot token          (keyring user "<channel>:token", env MARGINWATCH_ALERT_<CHANNEL>_TOKEN)
    heartbeat  the heartbeat URL      (keyring user "heartbeat:url",   env MARGINWATCH_HEARTBEAT_URL)

Keyring service: "marginwatch-alerts" (its own, beside the exchange keys' "marginwatch"). <CHANNEL> is the
channel's name in capitals with every run of characters other than A-Z and 0-9 one "_" ("my phone" ->
MARGINWATCH_ALERT_MY_PHONE_URL). The environment wins over the keyring.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping

SERVICE = "marginwatch-alerts"
HEARTBEAT = "heartbeat"
"""The keyring name of the heartbeat URL (a channel may not be called this)."""


def keyring_problem() -> str | None:
    """Why no usable keyring backend exists on this system (in words), or None when one does (as
    engine.sync.keys.keyring_problem, which this layer does not import: it would load ccxt). keyring is imported
    when a secret is first needed, not with the window (it costs ~80 ms of start-up)."""
    import keyring
    from keyring.backends import chainer, fail, null

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring) or (
        isinstance(backend, chainer.ChainerBackend) and not backend.backends
    ):
        return "no keyring on this system"
    return None


class SecretMissing(LookupError):
    """A channel's secret is neither in the environment nor in the keyring: one line naming both places."""


def env_name(channel: str, part: str) -> str:
    """The environment variable of a channel's secret part ('url' or 'token'); see the module's docstring."""
    if channel == HEARTBEAT:
        return f"MARGINWATCH_HEARTBEAT_{part.upper()}"
    stem = re.sub(r"[^A-Z0-9]+", "_", channel.upper()).strip("_") or "CHANNEL"
    return f"MARGINWATCH_ALERT_{stem}_{part.upper()}"


def keyring_user(channel: str, part: str) -> str:
    """The keyring user name of a channel's secret part: '<channel>:url' or '<channel>:token'."""
    return f"{channel}:{part}"


def where(channel: str, part: str) -> str:
    """Where a secret is looked for, in words (for messages; never the value)."""
    user = keyring_user(channel, part)
    return f"the environment variable {env_name(channel, part)} or the keyring ({SERVICE}, '{user}')"


def load_secret(channel: str, part: str, environ: Mapping[str, str] | None = None) -> str | None:
    """A channel's secret part: the environment's when set, else the keyring's, else None (also None when
    there is no keyring on this system or it refuses to answer: the caller names both places)."""
    env = os.environ if environ is None else environ
    value = env.get(env_name(channel, part), "").strip()
    if value:
        return value
    if keyring_problem():
        return None
    import keyring.errors

    try:
        return keyring.get_password(SERVICE, keyring_user(channel, part)) or None
    except keyring.errors.KeyringError:
        return None


def require_secret(channel: str, part: str, environ: Mapping[str, str] | None = None) -> str:
    """load_secret, or SecretMissing naming where it was looked for."""
    value = load_secret(channel, part, environ)
    if value is None:
        raise SecretMissing(f"no {part} for '{channel}': set {where(channel, part)}")
    return value


def store_secret(channel: str, part: str, value: str) -> None:
    """Put a channel's secret in the keyring ('' removes it). Raises SecretMissing when there is no keyring
    (nothing is written anywhere else: the environment variable is the way then)."""
    problem = keyring_problem()
    if problem:
        raise SecretMissing(f"{problem}: set {env_name(channel, part)} in the environment instead")
    import keyring.errors

    try:
        if value:
            keyring.set_password(SERVICE, keyring_user(channel, part), value)
        else:
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                keyring.delete_password(SERVICE, keyring_user(channel, part))
    except keyring.errors.KeyringError as e:
        raise SecretMissing(f"the keyring refused to store it ({type(e).__name__})") from None
