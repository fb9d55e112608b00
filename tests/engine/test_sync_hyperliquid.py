"""Sync of a Hyperliquid account by its wallet address alone (no key), with real ccxt against the fake
Hyperliquid's public info endpoint (tests/fake_exchange/hyperliquid_account.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.book.portfolio import parse_portfolio
from engine.margin.model import MarginMode, Side
from engine.storage.database import BookDatabase
from engine.sync.errors import SyncError, SyncFailure
from engine.sync.reader import AccountReader
from engine.sync.run import link_problem, sync_account
from tests.fake_exchange.hyperliquid_account import (
    ADDRESS,
    FakeHyperliquidAccount,
    HyperliquidPosition,
    HyperliquidWallet,
)

BTC, ETH = "BTC/USDC:USDC", "ETH/USDC:USDC"
# Hyperliquid: maintenance = half the initial margin at max leverage (bundled margin tiers, read 2026-12-01:
# BTC 40x -> 1.25%, ETH 25x -> 2%).
# ETH isolated short 2 @ 3,100 with 1,240 USDC: 1,240 + 2 (3,100 - P) = 0.02 x 2 P  ->  P = 7,440 / 2.04.
# BTC cross long 0.5 @ 60,000 on the rest of a 10,000 USDC wallet: 8,760 + 0.5 (P - 60,000) = 0.0125 x 0.5 P.
OUR_ETH, OUR_BTC = 7_440 / 2.04, 21_240 / 0.49375


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeHyperliquidAccount]:
    with FakeHyperliquidAccount() as server:
        yield server


@pytest.fixture
def db(fake, tmp_path) -> Iterator[BookDatabase]:
    fake.reset()
    fake.wallets[ADDRESS] = HyperliquidWallet(
        "10000",
        {
            "BTC": HyperliquidPosition("0.5", "60000", 10, liquidation=f"{OUR_BTC:.2f}"),
            "ETH": HyperliquidPosition("-2", "3100", 5, "isolated", "1240", f"{OUR_ETH + 20:.2f}"),
        },
    )
    account = {
        "name": "hl",
        "exchange": "hyperliquid",
        "wallet_balance": 0,
        "currency": "USDC",
        "wallet_address": ADDRESS,
    }
    with BookDatabase.open(tmp_path / "marginwatch.sqlite3") as database:
        database.import_portfolio(parse_portfolio({"accounts": [account]}))
        yield database
    fake.reset()


def test_a_wallet_address_alone_links_and_syncs_the_account(fake, db):
    assert link_problem(db.load().book.account("hl")) is None
    result = sync_account(db, "hl", {"hyperliquid": fake.ccxt_config()}, environ={})
    assert result.ok, result.error
    btc, eth = db.load().book.positions
    assert (btc.symbol, btc.side, btc.contracts, btc.entry_price, btc.leverage) == (BTC, Side.LONG, 0.5, 60_000, 10)
    assert (eth.side, eth.margin_mode, eth.isolated_margin, eth.leverage) == (Side.SHORT, MarginMode.ISOLATED, 1240, 5)
    assert db.load().book.account("hl").wallet_balance == 10_000.0  # the account value less the uPnL
    assert db.load().book.account("hl").wallet_address == ADDRESS
    btc_check = result.checks[(BTC, Side.LONG)][0]
    eth_check = result.checks[(ETH, Side.SHORT)][0]
    assert btc_check.ours == pytest.approx(OUR_BTC) and not btc_check.check
    # The exchange's ETH figure is 20 USDC above ours: 0.66% of the 3,050.25 mark, beyond 0.5%: a check.
    assert eth_check.difference == pytest.approx(-20, abs=0.01) and eth_check.check


def test_only_the_public_info_endpoint_is_asked(fake, db):
    assert sync_account(db, "hl", {"hyperliquid": fake.ccxt_config()}, environ={}).ok
    assert {b.get("type") for b in fake.bodies} <= {
        "meta",
        "spotMeta",
        "spotMetaAndAssetCtxs",
        "metaAndAssetCtxs",
        "perpDexs",
        "clearinghouseState",
    }
    assert not [b for b in fake.bodies if b.get("path") == "/exchange"]


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("create_order", (BTC, "market", "buy", 0.1, 61_000)),
        ("set_leverage", (20, BTC)),
        ("withdraw", ("USDC", 5, ADDRESS)),
    ],
)
def test_the_reader_refuses_hyperliquids_signed_actions(fake, method, args):
    reader = AccountReader("hyperliquid", None, ADDRESS, fake.ccxt_config())
    reader._client.walletAddress, reader._client.privateKey = ADDRESS, "0x" + "11" * 32
    with pytest.raises(SyncError) as refused:
        getattr(reader._client, method)(*args)
    assert refused.value.kind is SyncFailure.READ_ONLY
    assert not [b for b in fake.bodies if b.get("path") == "/exchange"]


def test_a_malformed_address_is_said_before_anything_is_sent(fake, db):
    with pytest.raises(SyncError, match=r"the wallet address '0x123' is not 0x and 40 hexadecimal digits"):
        AccountReader("hyperliquid", None, "0x123", fake.ccxt_config())
    assert fake.bodies == []
