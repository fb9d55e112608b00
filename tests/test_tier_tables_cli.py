"""The command line on a book whose tiers no bundled table has: `watch` fetches them (real ccxt, the fake
Bybit on 127.0.0.1) and stores them; `risk` then uses the stored ones, offline, and says how old they are."""

from __future__ import annotations

import json
from pathlib import Path

from engine.storage.database import BookDatabase
from engine.storage.paths import database_path
from tests.fake_exchange.bybit import FakeBybit
from tests.portfolio_docs import portfolio_doc, position_doc
from tests.test_cli import marginwatch

BTC = "BTC/USDT:USDT"
BOOK = portfolio_doc(
    position_doc(BTC, "long", 40, 60_000, "cross", 20), exchange="bybit", wallet_balance=200_000, prices={BTC: 60_000}
)


def test_watch_fetches_a_bybit_books_tables_and_risk_uses_them_offline(tmp_path: Path):
    book = tmp_path / "book.json"
    book.write_text(json.dumps(BOOK))
    data = tmp_path / "data"
    refused = marginwatch("--data-dir", str(data), "risk", str(book))
    assert refused.returncode == 2 and "no tier table" in refused.stderr  # nothing fetched yet
    with FakeBybit() as fake:
        config = tmp_path / "exchanges.json"
        config.write_text(json.dumps({"bybit": {"ccxt": fake.ccxt_config(), "transport": "rest"}}))
        watched = marginwatch(
            "--data-dir", str(data), "watch", str(book), "--exchange-config", str(config), "--count", "1",
            "--interval", "1", "--json",
        )  # fmt: skip
    assert watched.returncode == 0, watched.stderr
    assert "1 of 1 symbols' tiers from bybit" in watched.stderr
    report = next(json.loads(line) for line in watched.stdout.splitlines() if '"positions"' in line)
    assert report["positions"][0]["tiers_source"] == "fetched"
    with BookDatabase.open(database_path(str(data)), read_only=True) as db:
        assert ("bybit", BTC) in db.fetched_markets()

    offline = marginwatch("--data-dir", str(data), "risk", str(book), "--json")
    assert offline.returncode == 0, offline.stderr
    row = json.loads(offline.stdout)["positions"][0]
    assert (row["tiers_source"], row["tiers_stale"]) == ("fetched", False)
    assert 0 <= row["tiers_age_s"] < 600
    assert row["maintenance_margin"] == 2_400_000 * 0.0055 - 1_000  # Bybit's second risk limit, its deduction
    text = marginwatch("--data-dir", str(data), "risk", str(book))
    assert f"bybit {BTC}: tiers fetched" in text.stdout
