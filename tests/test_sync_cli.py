"""`marginwatch sync` against the fake Binance USDⓈ-M, and the exchange's liquidation price in `risk --json`."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from desktop.cli import main
from tests.fake_exchange.binance_account import KEY, SECRET, FakePosition
from tests.fake_exchange.server import FakeBinance

OUR_BTC_LIQUIDATION = 20_000 / 0.498  # tests/engine/test_sync_binance.py


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeBinance]:
    with FakeBinance() as server:
        yield server


@pytest.fixture
def setup(fake, tmp_path, monkeypatch):
    fake.reset()
    fake.account.positions[("BTCUSDT", "BOTH")] = FakePosition("0.500", "60000.00", 10, liquidation="40500.00")
    book = tmp_path / "book.json"
    book.write_text(
        json.dumps(
            {
                "accounts": [
                    {"name": "main", "exchange": "binanceusdm", "wallet_balance": 0},
                    {"name": "paper", "exchange": "binanceusdm", "wallet_balance": 1000},
                ],
                "positions": [],
            }
        )
    )
    config = tmp_path / "exchanges.json"
    config.write_text(json.dumps({"binanceusdm": {"ccxt": fake.ccxt_config()}}))
    data = str(tmp_path / "data")
    assert main(["import", str(book), "--data-dir", data]) == 0
    monkeypatch.setenv("MARGINWATCH_MAIN_API_KEY", KEY)
    monkeypatch.setenv("MARGINWATCH_MAIN_SECRET", SECRET)
    yield ["--data-dir", data, "--exchange-config", str(config)]
    fake.reset()


def test_sync_prints_what_it_opened_the_wallet_and_both_liquidation_prices(setup, capsys):
    capsys.readouterr()
    assert main(["sync", *setup]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("main (binanceusdm): synced ")
    assert out[0].endswith("1 opened, 0 changed, 0 closed; wallet 0.00 USDT -> 10,000.00 USDT")
    assert out[1] == "  opened   BTC/USDT:USDT long 0.5 @ 60,000.00 USDT, cross 10x"
    gap = OUR_BTC_LIQUIDATION - 40_500
    assert out[2] == (
        f"  CHECK    BTC/USDT:USDT long: ours {OUR_BTC_LIQUIDATION:,.2f} USDT, the exchange's 40,500.00 USDT "
        f"(difference {gap:+,.2f} USDT)"
    )
    assert len(out) == 3  # 'paper' has no key: not linked, not synced


def test_sync_json_and_risk_json_carry_the_exchanges_liquidation_price(setup, capsys, tmp_path):
    assert main(["sync", *setup, "--json"]) == 0
    (account,) = json.loads(capsys.readouterr().out)["accounts"]
    assert (account["account"], account["ok"], account["error"]) == ("main", True, None)
    assert account["opened"][0]["after"]["contracts"] == 0.5
    assert account["wallet"] == {"before": 0.0, "after": 10_000.0}
    (position,) = account["positions"]
    assert position["exchange_liquidation_price"] == 40_500.0
    assert position["liquidation_price_difference"] == pytest.approx(OUR_BTC_LIQUIDATION - 40_500)
    assert position["liquidation_check"] is True
    exported = tmp_path / "exported.json"
    assert main(["export", str(exported), "--data-dir", setup[1]]) == 0
    document = json.loads(exported.read_text())
    document["prices"] = {"BTC/USDT:USDT": 61_000.5}
    exported.write_text(json.dumps(document))
    capsys.readouterr()
    assert main(["risk", str(exported), "--json"]) == 0
    (risk,) = json.loads(capsys.readouterr().out)["positions"]
    assert risk["exchange_liquidation_price"] == 40_500.0 and risk["synced_at"] == account["synced_at"]
    assert risk["liquidation_price_difference"] == pytest.approx(OUR_BTC_LIQUIDATION - 40_500)
    assert risk["liquidation_check"] is True


@pytest.mark.parametrize(
    ("account", "message"),
    [
        ("nobody", "marginwatch: --account: the saved book has no account 'nobody' (it has 'main', 'paper')"),
        (
            "paper",
            "marginwatch: account 'paper' is not linked to binanceusdm: store its read-only API key in the "
            "keyring (keyring set marginwatch 'paper:api_key', then ':secret') or set "
            "MARGINWATCH_PAPER_API_KEY and MARGINWATCH_PAPER_SECRET",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(setup, capsys, account, message):
    capsys.readouterr()
    assert main(["sync", *setup, "--account", account]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == message


def test_a_failed_sync_says_why_and_keeps_the_book(setup, capsys, fake):
    assert main(["sync", *setup]) == 0
    fake.account.api_key = "rotated-key"
    capsys.readouterr()
    assert main(["sync", *setup, "--account", "main"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("main (binanceusdm): sync FAILED: binanceusdm refused the key")
    assert "the book keeps its last good sync (" in out and " s old)" in out
    assert main(["export", "-", "--data-dir", setup[1]]) == 0
    assert json.loads(capsys.readouterr().out)["positions"][0]["contracts"] == 0.5


def test_watch_sync_every_follows_the_exchange_without_a_command(setup, capsys):
    capsys.readouterr()
    code = main(["watch", *setup, "--sync-every", "15", "--interval", "1.5", "--count", "2", "--json"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    (sync,) = [line["sync"] for line in lines if "sync" in line]  # the first at once, the next 15 s later
    assert (sync["account"], sync["ok"], sync["opened"], sync["next_in_s"]) == ("main", True, 1, 15.0)
    (check,) = [line["check"] for line in lines if "check" in line]
    assert check["exchange_liquidation_price"] == 40_500.0
    report = [line for line in lines if "positions" in line][-1]
    (btc,) = report["positions"]
    assert (btc["account"], btc["symbol"], btc["exchange_liquidation_price"]) == ("main", "BTC/USDT:USDT", 40_500.0)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--sync-every", "10"], "argument --sync-every: sync interval 10 s: must be from 15 s to 24 h, or 'off'"),
        (["--sync-every", "off"], "argument --sync-every: leave --sync-every out for no automatic sync"),
        (["--sync-every", "60", "--offline"], "--sync-every reads the exchanges: it cannot be used with --offline"),
    ],
)
def test_watch_sync_every_refuses_bad_input_in_one_line(setup, capsys, extra, message):
    capsys.readouterr()
    try:  # argparse's own refusals exit; ours are main's status
        code = main(["watch", *setup, "--count", "1", *extra])
    except SystemExit as e:
        code = e.code
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(message)


def test_watch_sync_every_syncs_the_saved_book_not_a_file(setup, capsys, tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"accounts": [{"name": "x", "exchange": "binanceusdm", "wallet_balance": 1}]}))
    capsys.readouterr()
    assert main(["watch", str(path), "--sync-every", "60", "--offline", "--count", "1"]) == 2
    assert capsys.readouterr().err.strip() == (
        "marginwatch: --sync-every syncs the saved book: leave out the portfolio file"
    )
