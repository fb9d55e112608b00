"""Hostile portfolio files at the command line (issue 14): one line naming the field, exit 2, never a traceback;
names with terminal escape sequences are printed escaped."""

from __future__ import annotations

import json

import pytest

from tests.portfolio_docs import portfolio_doc, position_doc
from tests.test_cli import marginwatch

PRICES = {"BTC/USDT:USDT": 61_000}


def _doc_text(**position: object) -> str:
    return json.dumps(portfolio_doc(position_doc(**position), prices=PRICES))


HOSTILE = {
    "nested 100,000 deep": ("[" * 100_000 + "]" * 100_000, "the JSON is nested too deeply"),
    "a 5,000-digit integer": (
        _doc_text(contracts=1).replace('"contracts": 1', '"contracts": ' + "9" * 5000),
        "position 1 (BTC/USDT:USDT): 'contracts' is an integer of 5000 digits",
    ),
    "a lone surrogate in a note": (
        _doc_text(note="x").replace('"note": "x"', '"note": "\\ud800"'),
        "position 1 (BTC/USDT:USDT): 'note' holds a character that is not text (\\ud800",
    ),
    "a lone surrogate in a name": (
        json.dumps(portfolio_doc(name="x", prices=PRICES)).replace('"x"', '"\\ud800"'),
        "'name' holds a character that is not text (\\ud800",
    ),
    "entry price 5e-324": (_doc_text(entry_price=5e-324), "position 1 (BTC/USDT:USDT): 'entry_price' must be at least"),
    "contracts 1e308": (
        _doc_text(contracts=1e308),
        "position 1 (BTC/USDT:USDT): the entry notional ('contracts' at the entry price)",
    ),
    "100x at 6,000,000 USDT": (
        json.dumps(
            portfolio_doc(
                position_doc(contracts=100, entry_price=60_000, leverage=100), wallet_balance=1e7, prices=PRICES
            )
        ),
        "position 1 (BTC/USDT:USDT): 'leverage' 100× is above the maximum 50× at 6,000,000.00 USDT notional",
    ),
    "a misspelled key": (
        _doc_text(margin_mode="isolated", isolated_margn=100),
        "'isolated_margn' is not a field of a position; did you mean 'isolated_margin'?",
    ),
}


@pytest.mark.parametrize("command", ["risk", "import"])
@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_files_exit_2_with_one_line_naming_the_field(tmp_path, command, case):
    text, expected = HOSTILE[case]
    path = tmp_path / "hostile.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    extra = ["--data-dir", str(tmp_path / "data")] if command == "import" else []
    result = marginwatch(command, str(path), *extra)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert expected in result.stderr
    assert result.stdout == ""


def test_terminal_escape_sequences_in_names_are_printed_escaped(tmp_path):
    title = "\x1b]0;owned\x07"  # would re-title the terminal
    doc = portfolio_doc(position_doc(note="n\x1b[2J"), name=f"main{title}", prices=PRICES)
    path = tmp_path / "escapes.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = marginwatch("risk", str(path))
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "main\\x1b]0;owned\\x07" in result.stdout


def test_watch_text_output_prints_names_escaped(tmp_path):
    # BTC long at 50,000 after entry 60,000: a warning crossing names the account in its own line.
    doc = portfolio_doc(position_doc(), name="main\x1b[2J", wallet_balance=8_000, prices={"BTC/USDT:USDT": 50_000})
    path = tmp_path / "escapes.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = marginwatch("watch", str(path), "--offline", "--interval", "0.3", "--count", "1")
    assert result.returncode == 0, result.stderr
    assert "WARNING    main\\x1b[2J BTC/USDT:USDT long" in result.stdout
    assert "\x1b" not in result.stdout
