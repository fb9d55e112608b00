"""One number grammar: the forms, the CSV reader, the prices dock and the CLI read every input the same way.

Before engine.book.numbers, the CSV reader took '1_000' and Arabic-Indic digits and refused '61,000.50' (the
opposite of the forms), and the CLI took 'inf'. Each row is one input; each door must take it as the same
value or refuse it.
"""

from __future__ import annotations

import csv
import io

import pytest

from desktop.cli import build_parser
from desktop.dialogs.position_form import parse_positive
from desktop.window.prices_panel import PriceRefused, parse_price
from engine.book.numbers import NotANumber, read_positive
from engine.book.portfolio import parse_portfolio
from engine.book.positions_csv import POSITION_COLUMNS, CsvImportError, positions_from_csv
from tests.portfolio_docs import portfolio_doc

REFUSED = None

INPUTS = [
    ("61,000.50", 61_000.5),
    ("1,000,000", 1_000_000.0),
    ("2.5", 2.5),
    (" 2.5 ", 2.5),
    ("+.5", 0.5),
    ("1e-5", 1e-5),
    ("1E3", 1_000.0),
    ("1_000", REFUSED),  # float() takes it; a trader does not type it
    ("١٢٣", REFUSED),  # Arabic-Indic digits: float() reads 123
    ("１２", REFUSED),  # full-width digits
    ("nan", REFUSED),
    ("inf", REFUSED),
    ("-inf", REFUSED),
    ("Infinity", REFUSED),
    ("1e999", REFUSED),  # overflows to infinity
    ("1,5", REFUSED),  # 1.5 or 15: not guessed
    ("1,00", REFUSED),
    ("0x10", REFUSED),
    ("0", REFUSED),
    ("-0", REFUSED),
    ("-3", REFUSED),
    ("", REFUSED),
    (".", REFUSED),
    ("e5", REFUSED),
]


def form_door(text: str) -> float | None:
    value, problem = parse_positive(text, "the entry price")
    assert (value is None) == (problem is not None)
    return value


def csv_door(text: str) -> float | None:
    portfolio = parse_portfolio(portfolio_doc())
    row = {
        "account": "main",
        "symbol": "BTC/USDT:USDT",
        "side": "long",
        "contracts": "1",
        "entry_price": text,
        "margin_mode": "cross",
        "leverage": "10",
    }
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(POSITION_COLUMNS)
    writer.writerow([row.get(column, "") for column in POSITION_COLUMNS])
    try:
        (position,) = positions_from_csv(out.getvalue(), portfolio)
    except CsvImportError as e:
        assert any(p.field == "entry_price" for p in e.problems), str(e)
        return None
    return position.entry_price


def prices_dock_door(text: str) -> float | None:
    try:
        return parse_price(text, "BTC/USDT:USDT")
    except PriceRefused:
        return None


def cli_door(text: str) -> float | None:
    try:
        return build_parser().parse_args(["watch", "--interval", text]).interval
    except SystemExit:
        return None


def engine_door(text: str) -> float | None:
    try:
        return read_positive(text, "the value")
    except NotANumber:
        return None


DOORS = {
    "form": form_door,
    "csv": csv_door,
    "prices dock": prices_dock_door,
    "cli": cli_door,
    "engine": engine_door,
}


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(("text", "expected"), INPUTS)
def test_every_door_reads_a_number_the_same_way(door, text, expected, capsys):
    assert DOORS[door](text) == expected
    capsys.readouterr()  # argparse's usage line on a refusal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        ("1,000", 1_000),
        ("1e3", 1_000),
        ("١٢", None),
        ("1_0", None),
        ("1.5", None),
        ("0", None),
        ("inf", None),
    ],
)
def test_the_clis_whole_numbers_follow_the_same_grammar(text, expected, capsys):
    try:
        count = build_parser().parse_args(["watch", "--count", text]).count
    except SystemExit:
        count = None
    assert count == expected
    capsys.readouterr()


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1_000", "١٢٣"])
def test_not_a_number_says_so(text):
    with pytest.raises(NotANumber, match="is not a number"):
        read_positive(text, "the price")


def test_the_cli_names_the_refusal_in_one_line(capsys):
    with pytest.raises(SystemExit) as raised:
        build_parser().parse_args(["watch", "--interval", "inf"])
    assert raised.value.code == 2
    assert "argument --interval: 'inf' is not a number" in capsys.readouterr().err
