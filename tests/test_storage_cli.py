"""`marginwatch import`, `export` and the saved book, as a user drives them from a terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from engine.margin.bundled import resource
from tests.test_cli import marginwatch

DEMO = Path(str(resource("demo", "book.json")))


def test_import_then_export_gives_the_book_back(tmp_path):
    data = tmp_path / "data"
    result = marginwatch("import", str(DEMO), "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert "imported 4 accounts and 9 positions" in result.stdout
    out = tmp_path / "export.json"
    assert marginwatch("export", str(out), "--data-dir", str(data)).returncode == 0
    exported = json.loads(out.read_text())
    original = json.loads(DEMO.read_text())
    assert [p["symbol"] for p in exported["positions"]] == [p["symbol"] for p in original["positions"]]
    assert exported["prices"] == original["prices"]
    assert _timeless(marginwatch("risk", str(out), "--json").stdout) == _timeless(
        marginwatch("risk", str(DEMO), "--json").stdout
    )


def _timeless(report: str) -> dict:
    """A risk --json report without its tables' age (the age when it was printed: runs seconds apart differ)."""
    document = json.loads(report)
    for row in document["positions"]:
        row.pop("tiers_age_s")
    return document


def test_a_bad_import_changes_nothing_and_names_the_row(tmp_path):
    data = tmp_path / "data"
    marginwatch("import", str(DEMO), "--data-dir", str(data))
    before = marginwatch("export", "-", "--data-dir", str(data)).stdout
    doc = json.loads(DEMO.read_text())
    doc["positions"][4]["entry_price"] = -1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    result = marginwatch("import", str(bad), "--replace", "--data-dir", str(data))
    assert result.returncode == 2
    assert "position 5 (DOGE/USDT:USDT): 'entry_price' must be greater than 0" in result.stderr
    assert marginwatch("export", "-", "--data-dir", str(data)).stdout == before


def test_importing_the_same_accounts_twice_is_refused_whole(tmp_path):
    data = tmp_path / "data"
    marginwatch("import", str(DEMO), "--data-dir", str(data))
    again = marginwatch("import", str(DEMO), "--data-dir", str(data))
    assert again.returncode == 1 and "already has an account named 'Binance main'" in again.stderr
    assert marginwatch("import", str(DEMO), "--replace", "--data-dir", str(data)).returncode == 0


def test_the_environment_variable_chooses_the_folder_and_the_option_wins(tmp_path):
    env_dir, option_dir = tmp_path / "from-env", tmp_path / "from-option"
    env = {**os.environ, "MARGINWATCH_DATA_DIR": str(env_dir)}
    exe = [sys.executable, "-m", "desktop.cli"]
    subprocess.run([*exe, "import", str(DEMO)], env=env, check=True, capture_output=True)
    assert (env_dir / "marginwatch.sqlite3").exists()
    subprocess.run([*exe, "import", str(DEMO), "--data-dir", str(option_dir)], env=env, check=True, capture_output=True)
    assert (option_dir / "marginwatch.sqlite3").exists()


def test_watch_without_a_file_reads_the_saved_book(tmp_path):
    data = tmp_path / "data"
    marginwatch("import", str(DEMO), "--data-dir", str(data))
    result = marginwatch("watch", "--offline", "--interval", "0.3", "--count", "1", "--json", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    report = next(json.loads(line) for line in result.stdout.splitlines() if '"positions"' in line)
    assert len(report["positions"]) == 9
    assert {p["price_source"] for p in report["positions"]} == {"manual"}


def test_an_unusable_data_folder_is_one_clear_line(tmp_path):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    result = marginwatch("export", "-", "--data-dir", str(blocker / "sub"))
    assert result.returncode == 1
    assert "cannot create the data folder" in result.stderr and "Traceback" not in result.stderr


def in_read_only_folder(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run marginwatch with folder really read-only: a read-only bind mount in a private mount namespace (root
    ignores permissions), else the folder's permissions."""
    command = [sys.executable, "-m", "desktop.cli", *args]
    if os.geteuid() == 0:
        shell = f"mount --bind -o ro '{folder}' '{folder}' && exec \"$@\""
        command = ["unshare", "-m", "sh", "-c", shell, "sh", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    folder.chmod(0o555)
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    finally:
        folder.chmod(0o700)


def test_export_and_watch_work_in_a_read_only_folder_and_write_nothing_there(tmp_path):
    data = tmp_path / "data"
    marginwatch("import", str(DEMO), "--data-dir", str(data))
    before = sorted(p.name for p in data.iterdir())
    exported = in_read_only_folder(data, "export", "-", "--data-dir", str(data))
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["prices"] == json.loads(DEMO.read_text())["prices"]
    watched = in_read_only_folder(
        data, "watch", "--offline", "--interval", "0.3", "--count", "1", "--json", "--data-dir", str(data)
    )
    assert watched.returncode == 0, watched.stderr
    assert sorted(p.name for p in data.iterdir()) == before
    imported = in_read_only_folder(data, "import", str(DEMO), "--replace", "--data-dir", str(data))
    assert imported.returncode == 1 and "cannot be written to" in imported.stderr, imported.stderr
    assert "Traceback" not in imported.stderr


def test_an_export_is_private_and_replaces_the_old_file_in_one_step(tmp_path):
    data = tmp_path / "data"
    marginwatch("import", str(DEMO), "--data-dir", str(data))
    out = tmp_path / "book.json"
    out.write_text("the old export")
    out.chmod(0o644)
    assert marginwatch("export", str(out), "--data-dir", str(data)).returncode == 0
    assert json.loads(out.read_text())["version"] == 1
    assert oct(out.stat().st_mode & 0o777) == oct(0o600)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.json", "data"]  # no temporary file left


def test_a_folder_or_a_link_at_the_database_place_is_one_clear_line(tmp_path):
    data = tmp_path / "data"
    (data / "marginwatch.sqlite3").mkdir(parents=True)
    result = marginwatch("export", "-", "--data-dir", str(data))
    assert result.returncode == 1 and "is a folder, not a Margin Watch database" in result.stderr
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "marginwatch.sqlite3").symlink_to(tmp_path / "target.sqlite3")
    result = marginwatch("import", str(DEMO), "--data-dir", str(linked))
    assert result.returncode == 1 and "is a symbolic link" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "target.sqlite3").exists()


def test_importing_an_account_no_feed_can_price_says_so(tmp_path):
    # dYdX: ccxt offers no public price call, so its prices must be typed; the import says so at once.
    doc = {
        "accounts": [{"name": "perps", "exchange": "dydx", "wallet_balance": 1000, "currency": "USDC"}],
        "positions": [],
    }
    book = tmp_path / "dydx.json"
    book.write_text(json.dumps(doc))
    result = marginwatch("import", str(book), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "marginwatch: warning: dydx offers no public price method in ccxt: type its prices by hand "
        "(Prices dock, or 'prices' in the portfolio file)"
    ]
    demo = marginwatch("import", str(DEMO), "--data-dir", str(tmp_path / "other"))
    assert "warning" not in demo.stderr
