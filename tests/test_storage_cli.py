"""`marginwatch import`, `export` and the saved book, as a user drives them from a terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from engine.bundled import resource
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
    assert marginwatch("risk", str(out), "--json").stdout == marginwatch("risk", str(DEMO), "--json").stdout


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
