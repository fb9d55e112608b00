"""The price store: validation, change tracking per reader, manual overrides, staleness and shocks."""

from __future__ import annotations

import math
import threading

import pytest

from engine.market.prices import FUTURE_TOLERANCE_S, REANCHOR_AFTER_S, PriceSource, PriceStore, Shock, Tick

BTC = ("binanceusdm", "BTC/USDT:USDT")
ETH = ("binanceusdm", "ETH/USDT:USDT")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_malformed_and_absurd_ticks_are_dropped_and_counted():
    store = PriceStore()
    kept = store.publish(
        [
            Tick(BTC, 60_000.0, exchange_time=10.0),
            Tick(ETH, None),
            Tick(ETH, math.nan),
            Tick(ETH, -3.0),
            Tick(ETH, 0.0),
            Tick(ETH, math.inf),
            Tick(ETH, "3000"),  # type: ignore[arg-type]  (strings are not prices)
            Tick(BTC, 59_000.0, exchange_time=9.0),  # older than what we hold
        ]
    )
    assert kept == 1
    assert store.quote(ETH) is None
    assert store.quote(BTC).mark == 60_000.0
    assert store.dropped == {"missing": 1, "not a positive number": 5, "out of order": 1}


def test_each_reader_sees_the_changes_since_its_own_last_read():
    store = PriceStore()
    gui, report = store.reader(), store.reader()
    store.publish([Tick(BTC, 1.0), Tick(ETH, 2.0)])
    assert gui.read().changed == {BTC, ETH}
    store.publish([Tick(BTC, 1.5)] * 100)  # a burst coalesces into one change
    assert gui.read().changed == {BTC}
    assert gui.read().changed == set()
    snapshot = report.read()
    assert snapshot.changed == {BTC, ETH}
    assert snapshot.marks() == {BTC: 1.5, ETH: 2.0}


def test_manual_price_overrides_the_feed_until_cleared():
    store = PriceStore()
    store.publish([Tick(BTC, 60_000.0)])
    store.set_manual(BTC, 58_200.0)
    store.publish([Tick(BTC, 61_000.0)])
    quote = store.quote(BTC)
    assert (quote.mark, quote.source) == (58_200.0, PriceSource.MANUAL)
    store.clear_manual([BTC])
    assert store.quote(BTC).mark == 61_000.0
    with pytest.raises(ValueError, match="greater than 0"):
        store.set_manual(BTC, -1)


def test_going_offline_keeps_the_last_prices_as_manual():
    store = PriceStore()
    store.publish([Tick(BTC, 60_000.0), Tick(ETH, 3_000.0)])
    store.freeze_as_manual()
    store.publish([Tick(BTC, 1.0)])
    assert store.quote(BTC).mark == 60_000.0 and store.quote(BTC).source is PriceSource.MANUAL


def test_a_price_turns_stale_after_the_configured_age_but_a_manual_one_never_does():
    clock = Clock()
    store = PriceStore(clock)
    store.publish([Tick(BTC, 60_000.0)])
    store.set_manual(ETH, 3_000.0)
    clock.now += 9.0
    assert not store.quote(BTC).is_stale(clock.now, max_age=10.0)
    clock.now += 2.0
    assert store.quote(BTC).is_stale(clock.now, max_age=10.0)
    assert not store.quote(ETH).is_stale(clock.now, max_age=10.0)


def test_shock_moves_all_marks_and_one_symbol_on_top():
    shock = Shock(all_symbols=-0.10, per_key={ETH: 0.05})
    moved = shock.apply({BTC: 100.0, ETH: 200.0})
    assert moved[BTC] == pytest.approx(90.0)
    assert moved[ETH] == pytest.approx(200.0 * 0.9 * 1.05)
    with pytest.raises(ValueError):
        Shock(all_symbols=-1.0)


def test_concurrent_writers_and_a_reader_never_see_a_torn_snapshot():
    store = PriceStore()
    reader = store.reader()

    def write(key, base):
        for i in range(5_000):
            store.publish([Tick(key, base + i)])

    threads = [threading.Thread(target=write, args=(k, b)) for k, b in ((BTC, 1.0), (ETH, 10_000.0))]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        marks = reader.read().marks()
        assert all(isinstance(v, float) and v > 0 for v in marks.values())
    for t in threads:
        t.join()
    assert reader.read().marks() == {BTC: 5_000.0, ETH: 14_999.0}


def test_a_future_dated_tick_is_refused_and_the_symbol_keeps_updating():
    # Issue 14: one tick dated an hour ahead froze BTC until restart, every later tick "out of order".
    clock = Clock()
    store = PriceStore(clock)
    store.publish([Tick(BTC, 60_000.0, exchange_time=clock.now)])
    assert store.publish([Tick(BTC, 61_000.0, exchange_time=clock.now + 3_600)]) == 0
    assert store.dropped == {"future-dated": 1}
    assert store.quote(BTC).mark == 60_000.0
    for step in range(1, 4):
        clock.now += 1.0
        assert store.publish([Tick(BTC, 60_000.0 + step, exchange_time=clock.now)]) == 1
        assert store.quote(BTC).mark == 60_000.0 + step
    # Within the tolerance an exchange clock slightly ahead of ours is still trusted.
    assert store.publish([Tick(BTC, 60_010.0, exchange_time=clock.now + FUTURE_TOLERANCE_S - 0.5)]) == 1


@pytest.mark.parametrize("absurd", [1e300, 1e-300, 1e13, 1e-13])
def test_absurd_but_finite_prices_are_refused_even_as_the_first_price(absurd):
    store = PriceStore()
    assert store.publish([Tick(BTC, absurd), Tick(ETH, 3_000.0), Tick(ETH, absurd)]) == 1
    assert store.quote(BTC) is None
    assert store.quote(ETH).mark == 3_000.0
    assert store.dropped == {"outside the sane range": 2}


def test_a_decimal_point_shift_from_the_last_good_price_is_refused_until_it_persists():
    clock = Clock()
    store = PriceStore(clock)
    store.publish([Tick(BTC, 61_000.5)])
    # A shifted decimal point either way is refused (exactly x10 included: the fault run found it taken,
    # after which the true price was the jump); a 40% crash in one tick is a market move.
    assert store.publish([Tick(BTC, 610_005.0), Tick(BTC, 6_100.05), Tick(BTC, 61_000.5 * 9.5)]) == 0
    assert store.dropped == {"jump": 3}
    assert store.publish([Tick(BTC, 36_600.3)]) == 1
    # A feed that really moved that far (back after a long gap) is stale meanwhile, then taken again.
    assert store.publish([Tick(BTC, 400_000.0)]) == 0
    clock.now += REANCHOR_AFTER_S - 1
    assert store.publish([Tick(BTC, 400_000.0)]) == 0
    assert store.quote(BTC).is_stale(clock.now, max_age=15.0)
    clock.now += 2
    assert store.publish([Tick(BTC, 400_000.0)]) == 1
    assert store.quote(BTC).mark == 400_000.0
