"""A bundled tier table's date becomes the age shown for its tiers: read as UTC midnight, without strptime."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.margin.tiers import bundled_market, bundled_table, date_seconds


def test_a_day_is_its_utc_midnight_and_a_month_its_first_day():
    assert date_seconds("2024-10-24") == datetime(2024, 10, 24, tzinfo=UTC).timestamp()
    assert date_seconds("2024-10") == datetime(2024, 10, 1, tzinfo=UTC).timestamp()
    assert date_seconds("2024-1-5") == datetime(2024, 1, 5, tzinfo=UTC).timestamp()  # as strptime read it


BAD_DATES = ["", "2024", "2024-13", "2024-02-30", "24-10-01", "2024-10-24T00", "2024-x", "٢٠٢٤-10"]


@pytest.mark.parametrize("text", BAD_DATES)
def test_a_date_that_is_not_one_gives_no_age(text):
    assert date_seconds(text) is None


def test_a_bundled_market_carries_its_tables_date():
    table = bundled_table("binanceusdm")
    assert table is not None
    market = bundled_market("binanceusdm", "BTC/USDT:USDT")
    assert market is not None
    assert market.tiers_at == date_seconds(str(table.date))
    assert market.tiers_at is not None and 1.5e9 < market.tiers_at < datetime.now(UTC).timestamp()
