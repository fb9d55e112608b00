"""CSV of the positions: exact round trip, spreadsheet quirks, and every bad row reported with its line."""

from __future__ import annotations

import contextlib
import csv
import io
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.book.portfolio import parse_portfolio
from engine.book.positions_csv import (
    POSITION_COLUMNS,
    RISK_COLUMNS,
    CsvImportError,
    export_positions_csv,
    import_positions_csv,
    positions_from_csv,
    positions_to_csv,
    read_positions_csv,
)
from engine.margin.bundled import load_json
from engine.margin.model import Book, MarginMode
from engine.margin.risk import BookRisk, evaluate_book
from tests.portfolio_docs import portfolio_doc, position_doc

HEADER = ",".join(POSITION_COLUMNS)


def demo():
    return parse_portfolio(load_json("demo", "book.json"))


def empty_demo():
    """The demo's accounts and markets without positions."""
    doc = load_json("demo", "book.json")
    doc["positions"] = []
    return parse_portfolio(doc)


def empty_portfolio_of(portfolio):
    return replace(portfolio, book=Book(portfolio.book.accounts, (), {}))


def one_way():
    """One one-way Binance account (10,000 USDT) holding a BTC long, cross 10x."""
    return parse_portfolio(portfolio_doc(prices={"BTC/USDT:USDT": 61_000}))


def csv_of(*rows: str) -> str:
    return "\r\n".join([HEADER, *rows]) + "\r\n"


def problems_of(text: str, portfolio) -> list[tuple[int, str, str]]:
    with pytest.raises(CsvImportError) as raised:
        positions_from_csv(text, portfolio)
    return raised.value.problems


def test_round_trip_gives_back_the_same_positions_to_the_last_bit():
    doc = load_json("demo", "book.json")
    doc["positions"][0]["note"] = 'core, "long"\nsecond line — 監視 🚀'
    doc["positions"][1]["entry_price"] = 0.1 + 0.2  # a float that does not print short
    doc["positions"][2]["contracts"] = 1e-7
    doc["positions"][3]["isolated_margin"] = 2400.123456789012
    portfolio = parse_portfolio(doc)
    text = positions_to_csv(portfolio.book)

    assert positions_from_csv(text, empty_portfolio_of(portfolio)) == portfolio.book.positions
    assert import_positions_csv(text, portfolio, replace=True).book == portfolio.book
    # Added to the book they came from (the demo allows the duplicates), they come back after its own.
    assert positions_from_csv(text, portfolio) == portfolio.book.positions


def test_export_writes_a_header_and_one_row_per_position_with_plain_numbers():
    rows = list(csv.reader(io.StringIO(positions_to_csv(demo().book))))
    assert rows[0] == list(POSITION_COLUMNS)
    assert rows[1] == [
        "Binance main",
        "BTC/USDT:USDT",
        "long",
        "1.2",
        "91250",
        "cross",
        "10",
        "",
        "false",
        "core long",
        "",
        "",
    ]
    assert rows[4][7] == "2400"  # isolated margin only on isolated rows
    assert rows[8][8] == "true"
    assert len(rows) == 1 + len(demo().book.positions)


def test_risk_columns_follow_and_are_ignored_on_import():
    portfolio = demo()
    risk = evaluate_book(portfolio.book, portfolio.price_map())
    text = positions_to_csv(portfolio.book, risk)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(POSITION_COLUMNS + RISK_COLUMNS)
    first = risk.positions[0]
    assert float(rows[0]["liquidation_price"]) == first.liquidation_price
    assert float(rows[0]["distance_to_liquidation"]) == first.distance_to_liquidation
    assert float(rows[0]["unrealized_pnl"]) == first.unrealized_pnl
    assert (rows[5]["quote_currency"], rows[5]["settle_currency"]) == ("USD", "BTC")  # inverse: PnL in the coin

    assert positions_from_csv(text, empty_demo()) == portfolio.book.positions


def test_positions_the_risk_does_not_cover_get_blank_risk_cells():
    portfolio = demo()
    risk = evaluate_book(portfolio.book, portfolio.price_map())
    partial = BookRisk(risk.accounts, risk.positions[:5])  # as the live view has it before every price is in
    rows = list(csv.DictReader(io.StringIO(positions_to_csv(portfolio.book, partial))))
    assert rows[4]["mark_price"] != ""
    assert [rows[k]["mark_price"] for k in range(5, 9)] == ["", "", "", ""]
    assert rows[5]["settle_currency"] == "BTC"


def test_header_only_gives_no_positions_and_leaves_the_book_as_it_was():
    portfolio = demo()
    assert positions_from_csv(HEADER + "\n", portfolio) == ()
    assert import_positions_csv(HEADER, portfolio).book == portfolio.book


def test_extra_and_reordered_columns_and_blank_lines_are_accepted():
    text = (
        "Leverage, Side ,account,symbol,contracts,entry_price,margin_mode,my column\n"
        "\n"
        "5,long,main,ETH/USDT:USDT,2,3000,cross,whatever\n"
        ",,,,,,,\n"
        "3,short,main,ETH/USDT:USDT,1,3100,cross,\n"
    )
    with pytest.raises(CsvImportError) as raised:  # one-way account: a short after a long is refused
        positions_from_csv(text, one_way())
    assert [(p.line, p.field) for p in raised.value.problems] == [(5, "side")]
    assert "line 3 is already long ETH/USDT:USDT" in str(raised.value)

    added = positions_from_csv(text.replace("short", "long"), one_way())
    assert [(p.symbol, p.contracts, p.leverage) for p in added] == [("ETH/USDT:USDT", 2, 5), ("ETH/USDT:USDT", 1, 3)]


def test_excel_style_bom_crlf_quoted_notes_and_capitalised_words_are_accepted(tmp_path):
    text = (
        "\ufeff" + HEADER + "\r\n"
        'main,BTC/USDT:USDT,Long,0.25,61000,Cross,10,,FALSE,"adds, ""carefully"""\r\n'
        'main,BTC/USDT:USDT,LONG,0.5,59000,CROSS,10,,TRUE,"two\r\nlines"\r\n'
    )
    path = tmp_path / "positions.csv"
    path.write_bytes(text.encode("utf-8"))
    added = positions_from_csv(read_positions_csv(path), one_way())
    assert [p.note for p in added] == ['adds, "carefully"', "two\r\nlines"]
    assert [p.hypothetical for p in added] == [False, True]


def test_export_to_a_file_is_utf8_with_a_bom_and_reads_back(tmp_path):
    portfolio = demo()
    path = tmp_path / "out.csv"
    export_positions_csv(portfolio.book, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfaccount,")
    assert positions_from_csv(read_positions_csv(path), empty_demo()) == portfolio.book.positions
    stream = io.StringIO()
    export_positions_csv(portfolio.book, stream)
    assert stream.getvalue() == positions_to_csv(portfolio.book)


def test_every_bad_row_is_reported_with_its_line_and_field_and_nothing_is_imported():
    text = csv_of(
        "main,BTC/USDT:USDT,long,0.1,60000,cross,10,,,fine",  # line 2
        "main,BTC/USDT:USDT,long,-3,60000,cross,10,,,",  # 3
        "",  # 4: blank, skipped but counted
        "nobody,BTC/USDT:USDT,up,1,inf,cross,10,,,",  # 5: three bad cells
        "main,NOPE/USDT:USDT,long,1,100,cross,10,,,",  # 6
        "main,BTC/USDT:USDT,long,1,60000,cross,500,,,",  # 7
        "main,BTC/USDT:USDT,long,1,60000,isolated,10,,maybe,",  # 8
        "main,BTC/USDT:USDT,long,1,60000,cross,10,50,,",  # 9
        "main,BTC/USDT:USDT,long,NaN,60000,sideways,10,,,",  # 10
        "main,BTC/USDT:USDT,short,1,60000,cross,10,,,",  # 11: one-way conflict with the book
    )
    problems = problems_of(text, one_way())
    assert [(p.line, p.field) for p in problems] == [
        (3, "contracts"),
        (5, "account"),
        (5, "side"),
        (5, "entry_price"),
        (6, "symbol"),
        (7, "leverage"),
        (8, "hypothetical"),
        (9, "isolated_margin"),
        (10, "contracts"),
        (10, "margin_mode"),
        (11, "side"),
    ]
    message = {(p.line, p.field): p.message for p in problems}
    assert message[(3, "contracts")] == "must be a number greater than 0 (got '-3')"
    assert "unknown account 'nobody'; add it to the book first (accounts: 'main')" in message[(5, "account")]
    assert "unknown symbol 'NOPE/USDT:USDT' on binanceusdm" in message[(6, "symbol")]
    assert message[(7, "leverage")] == "500× is above the market's maximum 125×"
    assert "position 1 of the book is already long" in message[(11, "side")]
    with pytest.raises(CsvImportError) as raised:
        positions_from_csv(text, one_way())
    assert str(raised.value).splitlines()[0] == "line 3, contracts: must be a number greater than 0 (got '-3')"
    assert isinstance(raised.value, ValueError)


def test_rows_refused_only_together_are_reported_by_line():
    # 10,000 USDT wallet: each isolated row fits alone, the third one takes the margins past the wallet.
    text = csv_of(
        "main,ETH/USDT:USDT,long,1,3000,isolated,10,4000,,",  # 2
        "main,ETH/USDT:USDT,long,1,3000,isolated,10,4000,,",  # 3
        "main,ETH/USDT:USDT,long,1,3000,isolated,10,4000,,",  # 4
        "main,ETH/USDT:USDT,long,1,3000,cross,10,,,",  # 5: ETH is isolated on line 2
        "main,ETH/USDT:USDT,short,1,3000,isolated,10,,,",  # 6: ETH is long on line 2
        "main,SOL/USDT:USDT,long,1,100,isolated,10,11000,,",  # 7: more than the wallet on its own
    )
    problems = problems_of(text, one_way())
    assert [(p.line, p.field) for p in problems] == [
        (4, "isolated_margin"),
        (5, "margin_mode"),
        (6, "side"),
        (7, "isolated_margin"),
    ]
    assert "isolated margins (12,000.00 USDT) exceed 'wallet_balance' (10,000.00 USDT)" in problems[0].message
    assert "line 2 holds ETH/USDT:USDT in isolated margin" in problems[1].message
    assert "line 2 is already long ETH/USDT:USDT" in problems[2].message


def test_a_new_symbol_resolves_its_market_as_the_portfolio_file_does():
    text = csv_of(
        "Bybit swing,BTC/USDT:USDT,long,0.1,90000,cross,5,,,",  # the demo file's bybit:BTC/USDT:USDT entry
        "Bybit swing,SOL/USDT:USDT,long,1,100,cross,5,,,",  # nothing has it on bybit
    )
    problems = problems_of(text, empty_demo())
    assert [(p.line, p.field) for p in problems] == [(3, "symbol")]
    assert "add its tiers under 'markets' in a portfolio file" in problems[0].message

    imported = import_positions_csv(csv_of("Bybit swing,BTC/USDT:USDT,long,0.1,90000,cross,5,,,"), empty_demo())
    assert imported.book.markets[("bybit", "BTC/USDT:USDT")].source == "portfolio file"


def test_isolated_margin_defaults_to_initial_margin_at_entry_as_in_the_file():
    (position,) = positions_from_csv(csv_of("main,ETH/USDT:USDT,long,2,3000,isolated,10,,,"), one_way())
    assert position.margin_mode is MarginMode.ISOLATED
    assert position.isolated_margin == pytest.approx(2 * 3000 / 10)


def test_missing_columns_are_reported_once_on_the_header_line():
    text = "account,symbol,side,entry_price,margin_mode\n" + "main,BTC/USDT:USDT,long,60000,cross\n" * 3
    problems = problems_of(text, one_way())
    assert [(p.line, p.field, p.message) for p in problems] == [
        (1, "contracts", "missing column"),
        (1, "leverage", "missing column"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the first line must name the columns"),
        (HEADER.replace(",", ";") + "\n", "separate columns with commas"),
        ("main,BTC/USDT:USDT,long,0.5,60000,cross,10\n", "the first line must name the columns"),
        (HEADER + ",contracts\n", "line 1, contracts: the column appears twice"),
        (csv_of("main,BTC/USDT:USDT,long,0.5,60000,cross,10,,,a note,with,three,commas"), "line 2: has 13 cells"),
        (csv_of('main,BTC/USDT:USDT,long,0.5,60000,cross,10,,,"unterminated'), "line 2: cannot be read as CSV"),
    ],
)
def test_unreadable_files_say_what_is_wrong(text, expected):
    with pytest.raises(CsvImportError) as raised:
        positions_from_csv(text, one_way())
    assert expected in str(raised.value)


def test_a_file_that_is_not_utf8_names_the_line_and_what_to_do(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(csv_of("main,BTC/USDT:USDT,long,0.5,60000,cross,10,,,caf\xe9").encode("latin-1"))
    with pytest.raises(CsvImportError, match=r"line 2: is not UTF-8 text; save the file as 'CSV UTF-8'"):
        read_positions_csv(path)


VALID = {
    "account": ["main", " main "],
    "symbol": ["BTC/USDT:USDT", "ETH/USDT:USDT"],
    "side": ["long", "Long"],
    "contracts": ["0.5", "1_000", "3e-05"],
    "entry_price": ["60000", "0.1"],
    "margin_mode": ["cross", "CROSS"],
    "leverage": ["1", "20", "2.5"],
    "isolated_margin": [""],
    "hypothetical": ["", "true", "FALSE"],
    "note": ["", 'a, "note"', "two\nlines"],
    "take_profit": ["", "70000", "1e-3"],
    "stop_loss": ["", "55000"],
}
BAD = ["other", "NOPE", "BTC/USD:BTC", "up", "isolated", "1e400", "nan", "-inf", "0", "-1", "130", "5000", "maybe"]


@st.composite
def rows_with_a_few_bad_cells(draw) -> list[str]:
    """A good row with none to a few cells replaced by bad or random text."""
    row = [draw(st.sampled_from(VALID[c])) for c in POSITION_COLUMNS]
    for k in draw(st.lists(st.integers(0, len(row) - 1), max_size=3)):
        row[k] = draw(st.one_of(st.sampled_from(BAD), st.text(max_size=12), st.floats().map(repr)))
    return row


ROWS = st.one_of(
    st.lists(rows_with_a_few_bad_cells(), max_size=6),
    st.lists(st.lists(st.text(max_size=12), max_size=12), max_size=6),  # any shape
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ROWS, st.booleans(), st.sampled_from(["\r\n", "\n"]))
def test_random_cells_raise_nothing_but_csv_import_error(rows, with_header, newline):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    if with_header:
        writer.writerow(POSITION_COLUMNS)
    writer.writerows(rows)
    text = out.getvalue()
    portfolio = one_way()
    try:
        positions = positions_from_csv(text, portfolio)
    except CsvImportError as e:
        assert e.problems
        assert all(1 <= p.line <= max(1, text.count("\n") + text.count("\r")) for p in e.problems)
    else:  # what was accepted exports and imports back to the same positions
        book = Book(portfolio.book.accounts, positions, {})
        assert positions_from_csv(positions_to_csv(book), portfolio) == positions


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_random_text_raises_nothing_but_csv_import_error(text):
    with contextlib.suppress(CsvImportError):
        positions_from_csv(HEADER + "\n" + text, one_way())


# --- issue 14: formula injection; issue 13: one validator, misspelled columns -----------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "'=", "''+"])
def test_text_cells_that_would_start_a_formula_are_quoted_and_read_back_unchanged(start):
    doc = portfolio_doc(position_doc(note=f'{start}HYPERLINK("http://x","y")'), name=f"{start}acct")
    portfolio = parse_portfolio(doc)
    rows = list(csv.reader(io.StringIO(positions_to_csv(portfolio.book), newline="")))
    account, note = rows[1][0], rows[1][POSITION_COLUMNS.index("note")]
    assert account == f"'{start}acct" and note.startswith(f"'{start}HYPERLINK")
    assert positions_from_csv(positions_to_csv(portfolio.book), empty_portfolio_of(portfolio)) == (
        portfolio.book.positions
    )


def test_numbers_stay_numbers_a_negative_one_included():
    # BTC short 0.5 @ 60,000, mark 61,000: -500 USDT of unrealized PnL.
    short = parse_portfolio(portfolio_doc(position_doc(side="short"), prices={"BTC/USDT:USDT": 61_000}))
    risk = evaluate_book(short.book, short.price_map())
    rows = list(csv.reader(io.StringIO(positions_to_csv(short.book, risk))))
    pnl = rows[1][len(POSITION_COLUMNS) + RISK_COLUMNS.index("unrealized_pnl")]
    assert pnl == "-500" and float(pnl) == -500.0
    assert rows[1][:3] == ["main", "BTC/USDT:USDT", "short"]


def test_a_column_that_nearly_names_a_field_is_an_error_naming_it():
    text = "account,symbol,side,contracts,entry_price,margin_mode,leverage,isolated_margn\r\n"
    text += "main,BTC/USDT:USDT,long,1,60000,isolated,10,5000\r\n"
    problems = problems_of(text, one_way())
    assert [(p.line, p.field, p.message) for p in problems] == [
        (1, "isolated_margn", "'isolated_margn' is not a field of a position; did you mean 'isolated_margin'?")
    ]


def test_many_bad_rows_on_a_large_book_are_mapped_to_their_lines_in_one_pass():
    """100 bad rows on a 1,000-position book: each row's problem on its own line (the importer used to re-parse
    the whole book after each bad row, 2.7 s here; one pass of the rules now)."""
    doc = portfolio_doc(*[position_doc(contracts=0.001) for _ in range(1_000)], wallet_balance=1e9)
    portfolio = parse_portfolio(doc)
    rows = [
        f"main,BTC/USDT:USDT,{'short' if k % 2 else 'long'},0.001,60000,cross,{500 if k % 2 == 0 else 10},,,"
        for k in range(100)
    ]
    problems = problems_of(csv_of(*rows), portfolio)
    assert [(p.line, p.field) for p in problems] == [(k + 2, "leverage" if k % 2 == 0 else "side") for k in range(100)]
    assert problems[1].message.startswith(
        "account 'main' is in one-way mode and position 1 of the book is already long"
    )
