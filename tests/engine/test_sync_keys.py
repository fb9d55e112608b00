"""Keys of linked accounts: the keyring (a test backend here), the environment for headless use, and a clear
refusal, never a file, when the system has no keyring."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from engine.sync.errors import SyncError, SyncFailure
from engine.sync.keys import Credentials, env_names, forget_credentials, load_credentials, store_credentials


def test_keys_go_to_the_keyring_and_come_back(test_keyring):
    store_credentials("Binance main", Credentials("k-123", "s-456"))
    assert test_keyring.passwords == {
        ("marginwatch", "Binance main:api_key"): "k-123",
        ("marginwatch", "Binance main:secret"): "s-456",
    }
    loaded = load_credentials("Binance main", environ={})
    assert (loaded.api_key, loaded.secret, loaded.passphrase, loaded.source) == ("k-123", "s-456", "", "keyring")
    forget_credentials("Binance main")
    assert load_credentials("Binance main", environ={}) is None and test_keyring.passwords == {}


def test_the_environment_wins_for_headless_use(test_keyring):
    store_credentials("Binance main", Credentials("k-keyring", "s-keyring"))
    env = {
        "MARGINWATCH_BINANCE_MAIN_API_KEY": "k-env",
        "MARGINWATCH_BINANCE_MAIN_SECRET": "s-env",
        "MARGINWATCH_BINANCE_MAIN_PASSPHRASE": "p-env",
    }
    loaded = load_credentials("Binance main", environ=env)
    assert (loaded.api_key, loaded.secret, loaded.passphrase, loaded.source) == (
        "k-env",
        "s-env",
        "p-env",
        "environment",
    )


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("main", "MARGINWATCH_MAIN_API_KEY"),
        ("Binance main", "MARGINWATCH_BINANCE_MAIN_API_KEY"),
        ("okx/swing-2", "MARGINWATCH_OKX_SWING_2_API_KEY"),
        ("état", "MARGINWATCH_TAT_API_KEY"),
    ],
)
def test_environment_variable_names(name, key):
    assert env_names(name)[0] == key
    assert env_names(name)[1] == key.replace("_API_KEY", "_SECRET")


def test_no_keyring_is_a_clear_message_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(SyncError) as error:
        store_credentials("main", Credentials("k-123", "s-456"))
    assert error.value.kind is SyncFailure.NO_KEYRING
    assert str(error.value) == (
        "no keyring on this system: use the environment variables MARGINWATCH_MAIN_API_KEY and "
        "MARGINWATCH_MAIN_SECRET (and MARGINWATCH_MAIN_PASSPHRASE where the exchange needs one) for this account"
    )
    with pytest.raises(SyncError, match="no keyring on this system"):
        load_credentials("main", environ={})
    assert list(tmp_path.iterdir()) == []  # no plain-text fallback anywhere
    env = {"MARGINWATCH_MAIN_API_KEY": "k", "MARGINWATCH_MAIN_SECRET": "s"}
    assert load_credentials("main", environ=env).source == "environment"  # headless still works


def test_credentials_never_print_their_values():
    shown = repr(Credentials("k-123", "s-456", "p-789"))
    assert "k-123" not in shown and "s-456" not in shown and "p-789" not in shown
