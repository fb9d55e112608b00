"""Benchmark: the real MainWindow, offscreen, on 1,000 positions under 5,000 price updates a second (run by hand).

    .venv/bin/python -m tests.benchmarks.bench_gui [--duration 30] [--rate 5000] [--startup-runs 15]
    .venv/bin/python -m tests.benchmarks.bench_gui --duration 10 --profile     # cProfile of the GUI thread
    .venv/bin/python -m tests.benchmarks.bench_gui --startup-only [--compare OTHER_CHECKOUT]   # no load run
    (diagnostics: --hide-docks, --dump FILE for the raw samples, --profile-out FILE for pstats)

Book: a version-1 portfolio document (parse_portfolio) of 10 binanceusdm accounts, 1,000 positions over
300 symbols that have bundled tiers (280 USDT-settled, 20 USDC-settled for a USDC account); two accounts
in hedge mode (all cross, with long/short pairs), the others one-way with about half isolated; long and
short. A producer thread (a Feed: start()/stop()/state) publishes random-walk ticks into the window's
PriceStore at --rate per second in batches every --batch-ms, catching up in bigger batches when the GIL
makes it late. After --warmup seconds the benchmark measures, for --duration seconds:

- event-loop lag: a single-shot 10 ms PreciseTimer, re-armed each time; lag = how late it fired;
- tick-to-table latency: every tick is stamped (perf_counter) when published; the positions model's
  dataChanged is watched, and for each signalled row the mark the model holds (Mark column, UserRole)
  is matched against the stamped ticks of its symbol: that tick and every older one not yet shown are
  counted as delivered at the moment of the signal (a superseded tick counts until a newer price shows);
- GUI-thread CPU share (time.thread_time() on the GUI thread / wall time), and the share of wall time
  the GUI thread was runnable but waiting for a CPU (/proc/thread-self/schedstat: noise from other
  processes on a shared machine); peak RSS (ru_maxrss, including the probe's tick stamps, ~20 MB at 30 s);
- refreshes: the window's timer slot (window.refresh) is wrapped to count and time it (wall and CPU).
The probe's own time on the GUI thread is printed; it is part of the measured lag and CPU share.

Start-up: the real MainWindow on this book (load_portfolio of the book file + manual_store, i.e. the
`--book FILE --offline` path, settings=None) against a minimal PySide6 + pyqtgraph window (QMainWindow
with a PlotWidget and a QTableView, same size), each in fresh subprocesses, alternating, one discarded
warm-up each then the median of --startup-runs (15: on a shared machine, 5 runs moved the ratio by
+-0.15 from run to run; the run-by-run ratios' median and quartiles are shown beside it). Timed in
the child from before its first Qt import to the end of the first paint pass (the first QEvent.Paint
on the window or a child, plus the zero-timer after it); the time from process launch is shown beside
it, and the time until a chart is painted: the minimal window paints its chart in the first pass, the
MainWindow in an event after it (it loads pyqtgraph and builds its charts once the tables are on screen).
Both windows are 1600 x 1000 (the minimal window was 760 px tall until 2026-12-02). Both start with every
module's bytecode cached, as an installed app does (`pip install .` compiles the package, as it compiled
pyqtgraph): the children use a temporary PYTHONPYCACHEPREFIX that the warm-up fills, whatever
PYTHONDONTWRITEBYTECODE says. The real window pauses garbage collection from before its first Qt import
until it is shown, as `marginwatch` does (desktop.platform.startup_heap). For reference, --uncompiled-runs more
runs each with PYTHONDONTWRITEBYTECODE=1 (a checkout without __pycache__ compiles its ~50 modules at
every start), and as many without the GC pause. --startup-only skips the load run; with --compare DIR that
checkout's real window starts in the same rounds (this file's child code on its packages and resources,
tests/benchmarks/checkout_env.py). Each child also reports its process CPU time (all threads, from the
interpreter's start), which a busy machine disturbs less than the wall clock.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EXCHANGE = "binanceusdm"
N_SYMBOLS, N_USDC_SYMBOLS, N_POSITIONS, N_ACCOUNTS, HEDGE_ACCOUNTS = 300, 20, 1_000, 10, 2

# Issue 15's limits: lag p99 <= 30 ms, GUI-thread CPU <= 30% of a core, start-up <= 1.3x a bare window.
TARGET_LAG_P99_MS = 30.0
TARGET_GUI_CPU_SHARE = 0.30
TARGET_LATENCY_P95_MS = 250.0
TARGET_RSS_MB = 400.0
TARGET_STARTUP_RATIO = 1.3


# --------------------------------------------------------------------------------------------- the book


def build_document(seed: int = 11) -> dict[str, Any]:
    """A version-1 portfolio document: 10 accounts, 1,000 positions over 300 bundled binanceusdm symbols."""
    from engine.margin.model import settle_currency_of
    from engine.margin.tiers import bundled_table, max_leverage_at

    rng = random.Random(seed)
    table = bundled_table(EXCHANGE)
    assert table is not None
    usdt = sorted(s for s in table.markets if settle_currency_of(s) == "USDT")
    usdc = sorted(s for s in table.markets if settle_currency_of(s) == "USDC")
    rng.shuffle(usdt)
    rng.shuffle(usdc)
    usdt, usdc = usdt[: N_SYMBOLS - N_USDC_SYMBOLS], usdc[:N_USDC_SYMBOLS]
    prices = {s: round(10 ** rng.uniform(-3, 4.8), 8) for s in usdt + usdc}

    per_account = (N_POSITIONS - N_USDC_SYMBOLS) // (N_ACCOUNTS - 1)
    sizes = [per_account] * (N_ACCOUNTS - 1)
    sizes[-1] += N_POSITIONS - N_USDC_SYMBOLS - sum(sizes)
    plans: list[tuple[str, str, list[str], bool]] = []  # name, currency, symbols, hedge
    cursor = 0
    for a, size in enumerate(sizes):
        hedge = a < HEDGE_ACCOUNTS
        symbols: list[str] = []
        for k in range(size):
            if hedge and k % 10 == 1:
                symbols.append(symbols[-1])  # the other side of the previous symbol
            else:
                symbols.append(usdt[cursor % len(usdt)])
                cursor += 1
        plans.append((f"acct-{a:02d}", "USDT", symbols, hedge))
    plans.append(("acct-usdc", "USDC", list(usdc), False))

    accounts, positions = [], []
    for name, currency, symbols, hedge in plans:
        locked = cross_margin = 0.0
        previous_side = "long"
        for k, symbol in enumerate(symbols):
            market = table.markets[symbol]
            mark = prices[symbol]
            pair = hedge and k % 10 == 1
            side = ("short" if previous_side == "long" else "long") if pair else rng.choice(["long", "short"])
            previous_side = side
            allowed = [lev for lev in (2, 3, 5, 10, 20) if lev <= market.max_leverage]
            leverage = float(rng.choice(allowed))
            notional = 10 ** rng.uniform(2.5, 5.0)
            contracts = float(f"{notional / mark:.6g}")
            entry = round(mark * rng.uniform(0.93, 1.07), 10)
            # The tier at the entry notional may allow less (book rules refuse more): the highest choice it
            # allows, drawn after the random ones so that every other position stays as it was.
            bound = max_leverage_at(market, contracts * entry) or leverage
            leverage = max((lev for lev in (2.0, 3.0, 5.0, 10.0, 20.0) if lev <= min(leverage, bound)), default=bound)
            isolated = not hedge and rng.random() < 0.5
            item: dict[str, Any] = {
                "account": name,
                "symbol": symbol,
                "side": side,
                "contracts": contracts,
                "entry_price": entry,
                "margin_mode": "isolated" if isolated else "cross",
                "leverage": leverage,
            }
            im = contracts * entry / leverage
            if isolated:
                item["isolated_margin"] = round(im * rng.uniform(1.05, 1.6), 6)
                locked += item["isolated_margin"]
            else:
                cross_margin += im
            positions.append(item)
        wallet = locked + cross_margin * rng.uniform(0.6, 2.5)
        accounts.append(
            {
                "name": name,
                "exchange": EXCHANGE,
                "wallet_balance": round(wallet, 2),
                "currency": currency,
                "position_mode": "hedge" if hedge else "oneway",
            }
        )
    return {"version": 1, "accounts": accounts, "positions": positions, "prices": prices}


# --------------------------------------------------------------------------------------------- the feed


class BenchFeed:
    """A Feed (start/stop/state) publishing a random walk at `rate` ticks a second, every tick stamped.

    stamps[key] is the list of (mark, perf_counter at publication) of that key, appended before the
    tick is handed to the store, so the GUI thread can tell which tick a shown mark came from.
    """

    def __init__(
        self,
        store: Any,
        start: dict[tuple[str, str], float],
        *,
        rate: float,
        batch_s: float,
        sigma: float = 0.0003,
        seed: int = 5,
    ) -> None:
        from engine.market.feeds.state import FeedState, FeedStatus, StateCell

        self.store = store
        self.keys = sorted(start)
        self.walk = dict(start)
        self.rate = rate
        self.batch_s = batch_s
        self.sigma = sigma
        self.rng = random.Random(seed)
        self.stamps: dict[tuple[str, str], list[tuple[float, float]]] = {k: [] for k in self.keys}
        self.sent = 0
        self.batches = 0
        self.thread_cpu_s = 0.0
        self.window: tuple[float, float, int, int] | None = None  # perf_counter and sent at measurement start
        self._state = StateCell(FeedState(EXCHANGE, FeedStatus.LIVE, transport="benchmark random walk"))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> Any:
        return self._state.get()

    def _publish(self, keys: list[tuple[str, str]]) -> None:
        from engine.market.prices import PriceSource, Tick

        now_wall = time.time()
        ticks = []
        stamp = time.perf_counter()
        for key in keys:
            mark = self.walk[key] * math.exp(self.rng.gauss(0.0, self.sigma))
            self.walk[key] = mark
            self.stamps[key].append((mark, stamp))
            ticks.append(Tick(key, mark, exchange_time=now_wall))
        self.store.publish(ticks, PriceSource.LIVE)
        self.sent += len(keys)
        self.batches += 1

    def start(self) -> None:
        self._publish(list(self.keys))  # every mark at once, as a feed's first snapshot
        self._thread = threading.Thread(target=self._run, name="bench-feed", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def _run(self) -> None:
        cpu0 = time.thread_time()
        t0, sent0 = time.perf_counter(), self.sent
        cap = max(1, int(self.rate * 0.1))
        while not self._stop.wait(self.batch_s):
            due = int((time.perf_counter() - t0) * self.rate) - (self.sent - sent0)
            if due > 0:
                self._publish(self.rng.choices(self.keys, k=min(due, cap)))
        self.thread_cpu_s = time.thread_time() - cpu0


# --------------------------------------------------------------------------------------------- probes


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def positions_model(window: Any) -> Any:
    """The positions table's source model (window.model, else the 'positions' view's model unwrapped)."""
    from PySide6.QtCore import QAbstractProxyModel
    from PySide6.QtWidgets import QTableView

    model = getattr(window, "model", None)
    if model is None:
        view = window.findChild(QTableView, "positions")
        model = view.model()
        while isinstance(model, QAbstractProxyModel):
            model = model.sourceModel()
    return model


class TableProbe:
    """Watches the positions model's dataChanged and turns shown marks into tick-to-table latencies."""

    def __init__(self, window: Any, feed: BenchFeed) -> None:
        from PySide6.QtCore import Qt

        self.Qt = Qt
        self.model = positions_model(window)
        self.feed = feed
        headers = {
            self.model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole): c
            for c in range(self.model.columnCount())
        }
        self.mark_column = headers["Mark"]
        self.exchange_of = {a.name: a.exchange for a in window.portfolio.book.accounts}
        self.account_column = headers["Account"]
        self.symbol_column = headers["Symbol"]
        self.cursor = dict.fromkeys(feed.keys, 0)
        self.checked: dict[tuple[str, str], int] = {}
        self.generation = 0
        self.measuring = False
        self.t_start = 0.0
        self.t_end = math.inf  # ticks published after the end are matched (to move the cursors) but not counted
        self.latency_ms: list[float] = []  # every tick, until it or a newer price of its symbol is signalled
        self.shown_age_ms: list[float] = []  # the age of the very tick shown, at the signal
        self.signals = 0
        self.cost_s = 0.0
        self._map_rows()
        self.read_mark = self._mark_reader()
        self.model.modelReset.connect(self._map_rows)
        self.model.dataChanged.connect(self.on_data_changed)

    def _mark_reader(self) -> Any:
        """How the probe reads the mark the model holds for a view row: data(index(row, Mark), UserRole); or, for a
        model over the vectorised engine's rows, the same number straight from its arrays (the view row's position
        in `_shown`, `_rows.vectors.mark_price`), checked equal to data() on every row first. The probe's time is
        part of what is measured, and data() made a PositionRisk of each off-screen row it was asked about (about
        half of the probe's time; until 2026-12-02 the probe always read through data())."""
        m, column, user = self.model, self.mark_column, self.Qt.ItemDataRole.UserRole

        def via_data(row: int) -> Any:
            return m.data(m.index(row, column), user)

        def from_arrays(row: int) -> Any:
            vectors = getattr(m._rows, "vectors", None)
            return via_data(row) if vectors is None else float(vectors.mark_price[m._shown[row]])

        if getattr(getattr(m, "_rows", None), "vectors", None) is None or not hasattr(m, "_shown"):
            return via_data
        for row in range(m.rowCount()):
            a, b = from_arrays(row), via_data(row)
            if not (a == b or (isinstance(b, float) and math.isnan(a) and math.isnan(b))):
                return via_data
        return from_arrays

    def _map_rows(self) -> None:
        Qt, m = self.Qt, self.model
        self.row_key = []
        for r in range(m.rowCount()):
            account = m.data(m.index(r, self.account_column), Qt.ItemDataRole.DisplayRole)
            symbol = m.data(m.index(r, self.symbol_column), Qt.ItemDataRole.DisplayRole)
            self.row_key.append((self.exchange_of.get(account, EXCHANGE), symbol))

    def begin(self) -> None:
        """Measure from now: ticks published before are skipped."""
        self.t_start = time.perf_counter()
        for key, stamps in self.feed.stamps.items():
            self.cursor[key] = len(stamps)
        self.measuring = True

    def on_data_changed(self, top_left: Any, bottom_right: Any, roles: Any = ()) -> None:
        now = time.perf_counter()
        if not self.measuring:
            return
        self.signals += 1
        for row in range(top_left.row(), bottom_right.row() + 1):
            key = self.row_key[row] if row < len(self.row_key) else None
            if key is None or self.checked.get(key) == self.generation or key not in self.cursor:
                continue
            self.checked[key] = self.generation
            self._resolve(key, self.read_mark(row), now)
        self.cost_s += time.perf_counter() - now

    def _resolve(self, key: tuple[str, str], mark: Any, now: float) -> None:
        stamps = self.feed.stamps[key]
        start = self.cursor[key]
        end = len(stamps)
        for j in range(end - 1, start - 1, -1):  # newest first: the shown mark is nearly always the last
            if stamps[j][0] == mark:
                t_end = self.t_end
                for k in range(start, j + 1):
                    if stamps[k][1] <= t_end:
                        self.latency_ms.append((now - stamps[k][1]) * 1e3)
                if stamps[j][1] <= t_end:
                    self.shown_age_ms.append((now - stamps[j][1]) * 1e3)
                self.cursor[key] = j + 1
                return

    def pending(self) -> int:
        """Ticks published before the end whose price (or a newer one) never reached the table."""
        return sum(sum(1 for _, t in self.feed.stamps[k][c:] if t <= self.t_end) for k, c in self.cursor.items())


class LagProbe:
    """A single-shot PreciseTimer re-armed on every firing; lag = how late it fired."""

    def __init__(self, interval_ms: int) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.interval_s = interval_ms / 1e3
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setSingleShot(True)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._fired)
        self.lag_ms: list[float] = []
        self.fired_at: list[float] = []
        self.measuring = False
        self._armed = 0.0

    def start(self) -> None:
        self._armed = time.perf_counter()
        self.timer.start()

    def _fired(self) -> None:
        now = time.perf_counter()
        if self.measuring:
            self.lag_ms.append(max(0.0, now - self._armed - self.interval_s) * 1e3)
            self.fired_at.append(now)
        self._armed = time.perf_counter()
        self.timer.start()


class RefreshTimer:
    """Replaces the window's timer -> refresh connection by a wrapper that counts and times each call."""

    def __init__(self, window: Any, probe: TableProbe) -> None:
        self.window = window
        self.probe = probe
        self.durations_ms: list[float] = []
        self.cpu_ms: list[float] = []
        self.calls = 0
        self.measuring = False
        self.wrapped = True
        try:
            window.timer.timeout.disconnect(window.refresh)
        except (RuntimeError, TypeError):
            self.wrapped = False
        window.timer.timeout.connect(self._refresh if self.wrapped else self._after)

    def _refresh(self) -> None:
        self.probe.generation += 1
        t0, c0 = time.perf_counter(), time.thread_time()
        self.window.refresh()
        if self.measuring:
            self.durations_ms.append((time.perf_counter() - t0) * 1e3)
            self.cpu_ms.append((time.thread_time() - c0) * 1e3)
            self.calls += 1

    def _after(self) -> None:  # the connection could not be replaced: count only
        self.probe.generation += 1
        if self.measuring:
            self.calls += 1


# --------------------------------------------------------------------------------------------- the run


def run_queue_wait_s() -> float | None:
    """Seconds this thread has spent runnable but waiting for a CPU (Linux schedstat), else None."""
    try:
        return int(Path("/proc/thread-self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def run_stream(args: argparse.Namespace) -> dict[str, Any]:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.app import MainWindow
    from desktop.platform.startup_heap import freeze_startup_heap
    from engine.book.portfolio import parse_portfolio
    from engine.market.prices import PriceStore

    app = QApplication.instance() or QApplication(sys.argv[:1])
    t0 = time.perf_counter()
    portfolio = parse_portfolio(build_document(args.seed))
    t_parse = time.perf_counter() - t0
    book = portfolio.book
    store = PriceStore()
    feed = BenchFeed(store, portfolio.price_map(), rate=args.rate, batch_s=args.batch_ms / 1e3, seed=args.seed)
    t0 = time.perf_counter()
    window = MainWindow(portfolio, "benchmark · bench feed", store, [feed], None)
    t_construct = time.perf_counter() - t0
    window.show()
    freeze_startup_heap()  # as run_app does
    from desktop.platform.gui_collector import GuiThreadCollector

    collector = GuiThreadCollector(app)  # as run_app does
    if args.hide_docks:  # diagnostic: the cost of the tables alone
        from PySide6.QtWidgets import QDockWidget

        for dock in window.findChildren(QDockWidget):
            dock.hide()
    refresh_interval_ms = window.timer.interval()

    probe = TableProbe(window, feed)
    refresh = RefreshTimer(window, probe)
    lag = LagProbe(args.lag_ms)
    lag.start()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    marks: dict[str, Any] = {}

    def begin() -> None:
        marks["wall0"] = time.perf_counter()
        marks["cpu0"] = time.thread_time()
        marks["wait0"] = run_queue_wait_s()
        marks["sent0"] = feed.sent
        marks["load"] = os.getloadavg()
        marks["alerts0"] = len(getattr(window, "alerts", []))
        probe.begin()
        lag.measuring = refresh.measuring = True
        if profiler is not None:
            profiler.enable()

    def end() -> None:
        if profiler is not None:
            profiler.disable()
        marks["wall1"] = probe.t_end = time.perf_counter()
        marks["cpu1"] = time.thread_time()
        marks["wait1"] = run_queue_wait_s()
        marks["sent1"] = feed.sent
        marks["alerts1"] = len(getattr(window, "alerts", []))
        lag.measuring = refresh.measuring = False
        QTimer.singleShot(round(args.drain * 1e3), finish)  # let the last ticks reach the table

    def finish() -> None:
        probe.measuring = False
        marks["pending"] = probe.pending()
        app.quit()

    QTimer.singleShot(round(args.warmup * 1e3), begin)
    QTimer.singleShot(round((args.warmup + args.duration) * 1e3), end)
    app.exec()
    lag.timer.stop()
    collector.stop()
    window.close()  # stops the timer and the feed
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    wall = marks["wall1"] - marks["wall0"]
    return {
        "positions": len(book.positions),
        "accounts": len(book.accounts),
        "symbols": len(book.price_keys()),
        "isolated": sum(p.margin_mode.value == "isolated" for p in book.positions),
        "short": sum(p.side.value == "short" for p in book.positions),
        "hedge_accounts": sum(a.position_mode.value == "hedge" for a in book.accounts),
        "parse_s": t_parse,
        "construct_s": t_construct,
        "refresh_interval_ms": refresh_interval_ms,
        "wall_s": wall,
        "load": marks["load"],
        "achieved_rate": (marks["sent1"] - marks["sent0"]) / wall,
        "dropped": sum(store.dropped.values()),
        "lag_ms": lag.lag_ms,
        "latency_ms": probe.latency_ms,
        "shown_age_ms": probe.shown_age_ms,
        "pending": marks["pending"],
        "signals": probe.signals,
        "probe_cost_s": probe.cost_s,
        "gui_cpu_share": (marks["cpu1"] - marks["cpu0"]) / wall,
        "gui_wait_share": None if marks["wait0"] is None else (marks["wait1"] - marks["wait0"]) / wall,
        "lag_at": [t - marks["wall0"] for t in lag.fired_at],
        "feed_cpu_s": feed.thread_cpu_s,
        "peak_rss_mb": peak_mb,
        "refresh_calls": refresh.calls,
        "refresh_ms": refresh.durations_ms,
        "refresh_cpu_ms": refresh.cpu_ms,
        "refresh_wrapped": refresh.wrapped,
        "alerts_startup": marks["alerts0"],
        "alerts": marks["alerts1"] - marks["alerts0"],
        "profiler": profiler,
    }


# --------------------------------------------------------------------------------------------- start-up


def startup_child(kind: str, book_file: str) -> None:
    """In a fresh process: import + construct + show + first paint; prints one JSON line and exits."""
    t0 = time.perf_counter()
    pause = kind != "minimal" and not os.environ.get("BENCH_NO_GC_PAUSE")
    if pause:  # as `marginwatch` does before it imports Qt (desktop.cli.run_window)
        from desktop.platform.startup_heap import pause_collection

        pause_collection()
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QGraphicsView, QWidget

    app = QApplication(sys.argv[:1])
    if kind != "minimal":  # "compare": the same, from another checkout
        from desktop.app import MainWindow, manual_store
        from engine.book.portfolio import load_portfolio

        t_imported = time.perf_counter()
        portfolio = load_portfolio(book_file)
        store = manual_store(portfolio)
        t_book = time.perf_counter()
        window = MainWindow(portfolio, "benchmark start-up", store, [], None)
    else:
        import pyqtgraph as pg
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QMainWindow, QSplitter, QTableView

        t_imported = t_book = time.perf_counter()
        window = QMainWindow()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(pg.PlotWidget())
        splitter.addWidget(QTableView())
        window.setCentralWidget(splitter)
        window.resize(1600, 1000)  # the MainWindow's size (desktop.window.main_window)
    t_built = time.perf_counter()
    seen: dict[str, float] = {}

    def done() -> None:
        print(
            json.dumps(
                {
                    "kind": kind,
                    "in_process_s": seen["painted"] - t0,
                    "import_s": t_imported - t0,
                    "book_s": t_book - t_imported,
                    "construct_s": t_built - t_book,
                    "built_s": t_built - t0,
                    "paint_s": seen["painted"] - t_built,
                    "first_paint_event_s": seen["paint"] - t0,
                    "chart_s": seen["chart painted"] - t0,
                    "painted_at": seen["painted"],
                    "cpu_s": time.process_time(),  # all threads, from the interpreter's start
                }
            ),
            flush=True,
        )
        os._exit(0)  # skip the teardown: not part of start-up

    def pass_ended(key: str) -> None:  # the paint pass whose first event set seen[...] is over
        seen[key] = time.perf_counter()
        if "painted" in seen and "chart painted" in seen:
            done()

    class FirstPaint(QObject):
        """The first paint of the window (or a child), and the first paint of a chart (a QGraphicsView's viewport:
        in the first pass for the minimal window, an event later for a window that draws its charts after it)."""

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and isinstance(obj, QWidget) and obj.window() is window:
                now = time.perf_counter()
                chart = isinstance(obj.parentWidget(), QGraphicsView)
                for started, ended, hit in (("paint", "painted", True), ("chart", "chart painted", chart)):
                    if hit and started not in seen:
                        seen[started] = now
                        QTimer.singleShot(0, lambda ended=ended: pass_ended(ended))  # after this event's pass
            return False

    watcher = FirstPaint()
    app.installEventFilter(watcher)
    window.show()
    if pause:  # as run_app does
        from desktop.platform.startup_heap import freeze_startup_heap

        freeze_startup_heap()
    QTimer.singleShot(30_000, lambda: os._exit(3))  # never painted: fail the run
    app.exec()


def measure_startup(
    runs: int, compiled: bool = True, gc_pause: bool = True, compare: Path | None = None
) -> dict[str, list[dict[str, float]]]:
    """Start-up children, alternating the two windows; run 0 of each kind is a discarded warm-up.

    compiled: every module's bytecode is cached, as for an installed app (`pip install .` compiles the
    package) and for pyqtgraph and PySide6 in site-packages: the children write and read bytecode under
    a temporary PYTHONPYCACHEPREFIX (the warm-up writes it; the checkout is not touched). Otherwise
    PYTHONDONTWRITEBYTECODE=1: a checkout without __pycache__ compiles its modules at every start.
    gc_pause: the real window pauses garbage collection until it is shown, as `marginwatch` does
    (desktop.platform.startup_heap); the minimal window never does.
    compare: another checkout whose real window starts too (kind "compare"), in the same rounds; its
    children run this file's child code against that checkout's packages and resources (checkout_env).
    """
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    if not gc_pause:
        env["BENCH_NO_GC_PAUSE"] = "1"
    kinds = ("real", "minimal") + (("compare",) if compare else ())
    results: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    with tempfile.TemporaryDirectory() as folder:
        if compiled:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(folder) / "pycache")
        else:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            env.pop("PYTHONPYCACHEPREFIX", None)
        book_file = Path(folder) / "book.json"
        book_file.write_text(json.dumps(build_document()), encoding="utf-8")
        child = [sys.executable, "-m", "tests.benchmarks.bench_gui", "--startup-child"]
        compare_child = [sys.executable, str(Path(__file__).resolve()), "--startup-child"]
        if compare:  # this file's child code, the other checkout's packages and resources
            from tests.benchmarks.checkout_env import checkout_env

            compare_env = env | {"PYTHONPATH": checkout_env(compare)["PYTHONPATH"]}
        for i in range(runs + 1):  # run 0 of each kind is a discarded warm-up (disk cache, bytecode)
            for kind in kinds if i % 2 == 0 else kinds[::-1]:
                launched = time.perf_counter()
                if kind == "compare":
                    command, tree, child_env = compare_child, compare, compare_env
                else:
                    command, tree, child_env = child, REPO, env
                done = subprocess.run(
                    [*command, kind, str(book_file)],
                    cwd=tree,
                    env=child_env,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
                if done.returncode != 0 or not lines:
                    raise RuntimeError(f"start-up child {kind} failed ({done.returncode}):\n{done.stderr[-2000:]}")
                result = json.loads(lines[-1])
                result["from_launch_s"] = result["painted_at"] - launched  # perf_counter is system-wide on Linux
                if i > 0:
                    results[kind].append(result)
    return results


# --------------------------------------------------------------------------------------------- report


def row_adder(rows: list[tuple[str, str, str, str]]) -> Any:
    """row(name, value, target="", ok=None) appends a report row to `rows` (ok: PASS/FAIL/blank)."""

    def row(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
        rows.append((name, value, target, "" if ok is None else ("PASS" if ok else "FAIL")))

    return row


def report(
    run: dict[str, Any],
    startup: dict[str, list[dict[str, float]]] | None,
    args: argparse.Namespace,
    uncompiled: dict[str, list[dict[str, float]]] | None = None,
    collected: dict[str, list[dict[str, float]]] | None = None,
) -> None:
    lag, lat, ref = run["lag_ms"], run["latency_ms"], run["refresh_ms"]
    print(
        f"book: {run['positions']} positions ({run['isolated']} isolated, {run['short']} short) over "
        f"{run['symbols']} {EXCHANGE} symbols, {run['accounts']} accounts ({run['hedge_accounts']} hedge mode); "
        f"parse {run['parse_s'] * 1e3:.0f} ms, MainWindow() {run['construct_s'] * 1e3:.0f} ms"
    )
    print(
        f"run: {run['wall_s']:.1f} s measured after {args.warmup:g} s warm-up; window refresh interval "
        f"{run['refresh_interval_ms']} ms (window.timer.interval()); feed {args.rate:,} ticks/s in "
        f"{args.batch_ms:g} ms batches; {os.cpu_count()} cores, load average {run['load'][0]:.2f} at start; "
        f"QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM')}"
        + ("; PROFILED (timings inflated)" if args.profile else "")
        + ("; DOCKS HIDDEN" if args.hide_docks else "")
    )
    rows: list[tuple[str, str, str, str]] = []
    row = row_adder(rows)

    def ratio(value: float, target: float) -> str:
        return f" ({value / target:.2f}x target)"

    row(
        "ticks published per second",
        f"{run['achieved_rate']:,.0f}",
        f">= {0.95 * args.rate:,.0f}",
        run["achieved_rate"] >= 0.95 * args.rate,
    )
    row("ticks dropped by the store", f"{run['dropped']}")
    p50, p99, worst = pct(lag, 50), pct(lag, 99), max(lag, default=float("nan"))
    row(
        "event-loop lag ms p50 / p99 / max",
        f"{p50:.1f} / {p99:.1f} / {worst:.0f}" + ratio(p99, TARGET_LAG_P99_MS),
        f"p99 <= {TARGET_LAG_P99_MS:g}",
        p99 <= TARGET_LAG_P99_MS,
    )
    row(
        f"  lag samples ({args.lag_ms} ms timer)",
        f"{len(lag):,} (of {run['wall_s'] * 1e3 / args.lag_ms:,.0f} if never late)",
    )
    l50, l95, l99 = pct(lat, 50), pct(lat, 95), pct(lat, 99)
    row(
        "tick-to-table ms p50 / p95 / p99",
        f"{l50:.0f} / {l95:.0f} / {l99:.0f}" + ratio(l95, TARGET_LATENCY_P95_MS),
        f"p95 <= {TARGET_LATENCY_P95_MS:g}",
        l95 <= TARGET_LATENCY_P95_MS,
    )
    s = run["shown_age_ms"]
    row("  age of the shown tick ms p50 / p95", f"{pct(s, 50):.0f} / {pct(s, 95):.0f}")
    row(
        f"  ticks shown / never shown ({args.drain:g} s after the end)",
        f"{len(lat):,} / {run['pending']:,}",
    )
    row(
        "GUI-thread CPU share",
        f"{run['gui_cpu_share'] * 100:.0f}% of one core" + ratio(run["gui_cpu_share"], TARGET_GUI_CPU_SHARE),
        f"<= {TARGET_GUI_CPU_SHARE * 100:.0f}%",
        run["gui_cpu_share"] <= TARGET_GUI_CPU_SHARE,
    )
    if run["gui_wait_share"] is not None:
        row("  GUI thread runnable, waiting for a CPU", f"{run['gui_wait_share'] * 100:.0f}% of wall (machine noise)")
    row("  feed thread CPU (whole run)", f"{run['feed_cpu_s']:.1f} s")
    row(
        "  probe cost on the GUI thread",
        f"{run['probe_cost_s'] / run['wall_s'] * 100:.1f}% ({run['signals']:,} dataChanged)",
    )
    row(
        "peak RSS MB",
        f"{run['peak_rss_mb']:.0f}" + ratio(run["peak_rss_mb"], TARGET_RSS_MB),
        f"<= {TARGET_RSS_MB:g}",
        run["peak_rss_mb"] <= TARGET_RSS_MB,
    )
    expected = run["wall_s"] * 1e3 / run["refresh_interval_ms"]
    row("refreshes", f"{run['refresh_calls']:,} (of {expected:,.0f} at the interval)")
    if run["refresh_wrapped"]:
        row(
            "refresh duration ms p50 / p99 / max",
            f"{pct(ref, 50):.1f} / {pct(ref, 99):.1f} / {max(ref, default=0):.0f}",
        )
        rc = run["refresh_cpu_ms"]
        row("  refresh CPU ms p50 / p99 / max", f"{pct(rc, 50):.1f} / {pct(rc, 99):.1f} / {max(rc, default=0):.0f}")
    else:
        row("refresh duration ms", "n/a (timer connection not replaceable)")
    row("alerts raised while measured (before)", f"{run['alerts']} ({run['alerts_startup']})")
    startup_rows(row, startup, uncompiled, collected)
    print_rows(rows)


def chart_rows(row: Any, startup: dict[str, list[dict[str, float]]]) -> None:
    """The rows of the time until a chart is painted (the minimal window paints its chart in its first pass; the
    MainWindow builds and draws its charts in an event after its first paint, desktop.window.docks)."""

    def med(kind: str) -> float:
        return statistics.median(r["chart_s"] for r in startup[kind])

    pairs = [r["chart_s"] / m["chart_s"] for r, m in zip(startup["real"], startup["minimal"], strict=True)]
    row(
        "  to the chart painted: MainWindow / minimal, ratio",
        f"{med('real') * 1e3:.0f} / {med('minimal') * 1e3:.0f} ms = {med('real') / med('minimal'):.2f}x "
        f"(run by run {pct(pairs, 50):.2f}x)",
    )
    if startup.get("compare"):
        row("  to the chart painted: compare checkout", f"{med('compare') * 1e3:.0f} ms")


def startup_rows(
    row: Any,
    startup: dict[str, list[dict[str, float]]] | None,
    uncompiled: dict[str, list[dict[str, float]]] | None = None,
    collected: dict[str, list[dict[str, float]]] | None = None,
) -> None:
    """The start-up rows of the report (row(name, value, target, ok) adds one)."""
    if startup:
        real = statistics.median(r["in_process_s"] for r in startup["real"])
        minimal = statistics.median(r["in_process_s"] for r in startup["minimal"])
        real_l = statistics.median(r["from_launch_s"] for r in startup["real"])
        minimal_l = statistics.median(r["from_launch_s"] for r in startup["minimal"])
        real_b = statistics.median(r["built_s"] for r in startup["real"])
        minimal_b = statistics.median(r["built_s"] for r in startup["minimal"])
        n = len(startup["real"])
        row(
            f"start-up to first paint, MainWindow (median of {n})",
            f"{real * 1e3:.0f} ms (from launch {real_l * 1e3:.0f})",
        )
        row(
            f"start-up to first paint, minimal (median of {n})",
            f"{minimal * 1e3:.0f} ms (from launch {minimal_l * 1e3:.0f})",
        )
        row("  of which import + construct: MainWindow / minimal", f"{real_b * 1e3:.0f} / {minimal_b * 1e3:.0f} ms")

        def med(kind: str, field: str) -> float:
            return statistics.median(r[field] for r in startup[kind]) * 1e3

        row(
            "  MainWindow: import / book / construct / to paint",
            f"{med('real', 'import_s'):.0f} / {med('real', 'book_s'):.0f} / {med('real', 'construct_s'):.0f} / "
            f"{med('real', 'paint_s'):.0f} ms",
        )
        row(
            "  minimal:    import / construct / to paint",
            f"{med('minimal', 'import_s'):.0f} / {med('minimal', 'construct_s'):.0f} / "
            f"{med('minimal', 'paint_s'):.0f} ms",
        )
        if all("cpu_s" in r for r in startup["real"] + startup["minimal"]):  # an older child has none
            row(
                "  CPU ms from the interpreter's start: MainWindow / minimal",
                f"{med('real', 'cpu_s'):.0f} / {med('minimal', 'cpu_s'):.0f} (less disturbed by a busy machine)",
            )
        row(
            "start-up ratio MainWindow / minimal",
            f"{real / minimal:.2f}x (from launch {real_l / minimal_l:.2f}x)",
            f"<= {TARGET_STARTUP_RATIO:g}x",
            real / minimal <= TARGET_STARTUP_RATIO,
        )
        pairs = [
            r["in_process_s"] / m["in_process_s"] for r, m in zip(startup["real"], startup["minimal"], strict=True)
        ]  # each real run beside the minimal run launched next to it: slow spells of the machine cancel
        row(
            "  ratio run by run: median (quartiles)",
            f"{pct(pairs, 50):.2f}x ({pct(pairs, 25):.2f}-{pct(pairs, 75):.2f})",
        )
        chart_rows(row, startup)
        row("  start-up runs MainWindow ms", " ".join(f"{r['in_process_s'] * 1e3:.0f}" for r in startup["real"]))
        row("  start-up runs minimal ms", " ".join(f"{r['in_process_s'] * 1e3:.0f}" for r in startup["minimal"]))
        if startup.get("compare"):
            other = statistics.median(r["in_process_s"] for r in startup["compare"])
            compared = zip(startup["compare"], startup["minimal"], strict=True)
            pairs = [r["in_process_s"] / m["in_process_s"] for r, m in compared]
            row(
                "compare checkout's MainWindow: median ms, ratio to minimal",
                f"{other * 1e3:.0f} ms, {other / minimal:.2f}x (run by run {pct(pairs, 50):.2f}x, "
                f"{pct(pairs, 25):.2f}-{pct(pairs, 75):.2f}); this / compare {real / other:.2f}x",
            )
            row(
                "  compare: import / book / construct / to paint",
                f"{med('compare', 'import_s'):.0f} / {med('compare', 'book_s'):.0f} / "
                f"{med('compare', 'construct_s'):.0f} / {med('compare', 'paint_s'):.0f} ms",
            )
            row("  compare: CPU ms from the interpreter's start", f"{med('compare', 'cpu_s'):.0f}")
            row("  start-up runs compare ms", " ".join(f"{r['in_process_s'] * 1e3:.0f}" for r in startup["compare"]))
    for label, runs in (("without bytecode cache", uncompiled), ("without the start-up GC pause", collected)):
        if runs:
            real = statistics.median(r["in_process_s"] for r in runs["real"])
            minimal = statistics.median(r["in_process_s"] for r in runs["minimal"])
            row(
                f"  {label}: MainWindow / minimal (median of {len(runs['real'])})",
                f"{real * 1e3:.0f} / {minimal * 1e3:.0f} ms = {real / minimal:.2f}x",
            )


def print_rows(rows: list[tuple[str, str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows) + 2
    vwidth = max(len(r[1]) for r in rows) + 2
    print(f"{'measure':<{width}}{'value':<{vwidth}}{'target':<14}result")
    for name, value, target, result in rows:
        print(f"{name:<{width}}{value:<{vwidth}}{target:<14}{result}")
    failed = [r[0].strip() for r in rows if r[3] == "FAIL"]
    print("all targets met" if not failed else f"targets missed: {'; '.join(failed)}")


def print_profile(profiler: Any, top: int) -> None:
    import pstats

    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in stats.values()) or 1.0
    ours = []
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in stats.items():
        path = Path(filename)
        try:
            rel = path.resolve().relative_to(REPO)
        except (ValueError, OSError):
            continue
        if rel.parts and rel.parts[0] in ("desktop", "engine"):
            ours.append((ct, tt, nc, f"{rel}:{line}({func})"))
    ours.sort(reverse=True)
    print(
        f"\nGUI thread profile (cProfile, wall time), functions in desktop/ and engine/ by cumulative time; "
        f"{total:.2f} s profiled in all (Python and the C calls it made; Qt's own C++ work is not seen)"
    )
    print(f"{'cum s':>8}{'cum %':>7}{'own s':>8}{'calls':>9}{'ms/call':>9}  function")
    for ct, tt, nc, where in ours[:top]:
        print(f"{ct:>8.2f}{ct / total * 100:>6.0f}%{tt:>8.2f}{nc:>9}{ct / max(nc, 1) * 1e3:>9.2f}  {where}")
    print("\nGUI thread profile, all functions by own time")
    every = sorted(
        ((tt, ct, nc, f"{Path(f).name}:{ln}({fn})") for (f, ln, fn), (_, nc, tt, ct, _) in stats.items()), reverse=True
    )
    print(f"{'own s':>8}{'cum s':>8}{'calls':>9}  function")
    for tt, ct, nc, where in every[:15]:
        print(f"{tt:>8.2f}{ct:>8.2f}{nc:>9}  {where}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured (after the warm-up)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--drain", type=float, default=1.0, help="seconds after the end for the last ticks to show")
    parser.add_argument("--rate", type=int, default=5_000, help="price updates per second")
    parser.add_argument("--batch-ms", type=float, default=5.0, help="the feed publishes a batch this often")
    parser.add_argument("--lag-ms", type=int, default=10, help="interval of the event-loop lag timer")
    parser.add_argument(
        "--startup-runs",
        type=int,
        default=15,
        help="start-up runs of each window (0: skip); 5 runs gave ratios from 1.35 to 1.62 on this machine",
    )
    parser.add_argument(
        "--uncompiled-runs",
        type=int,
        default=3,
        help="start-up runs without bytecode cache, and without the GC pause, shown for reference",
    )
    parser.add_argument("--startup-only", action="store_true", help="measure start-up only (no load run)")
    parser.add_argument(
        "--compare", type=Path, help="with --startup-only: another checkout's window starts too, in the same rounds"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the GUI thread (skips start-up)")
    parser.add_argument("--profile-out", help="also save the raw cProfile stats to this file (pstats)")
    parser.add_argument("--top", type=int, default=25, help="profile lines to print")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--hide-docks", action="store_true", help="diagnostic: hide every dock (charts, alerts)")
    parser.add_argument("--dump", help="write the raw samples to this JSON file")
    parser.add_argument("--startup-child", nargs=2, metavar=("KIND", "BOOK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.startup_child:
        startup_child(*args.startup_child)
        return
    if args.compare and not args.startup_only:
        parser.error("--compare needs --startup-only")
    if args.startup_only:
        startup = measure_startup(args.startup_runs, compare=args.compare.resolve() if args.compare else None)
        print(f"start-up only; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end")
        rows: list[tuple[str, str, str, str]] = []
        startup_rows(row_adder(rows), startup)
        print_rows(rows)
        return
    startup = uncompiled = collected = None
    if args.startup_runs > 0 and not args.profile:  # first, in children: the parent's RSS stays its own
        startup = measure_startup(args.startup_runs)
        if args.uncompiled_runs > 0:
            uncompiled = measure_startup(args.uncompiled_runs, compiled=False)
            collected = measure_startup(args.uncompiled_runs, gc_pause=False)
    run = run_stream(args)
    report(run, startup, args, uncompiled, collected)
    if args.dump:
        keep = ("lag_ms", "lag_at", "latency_ms", "shown_age_ms", "refresh_ms", "refresh_cpu_ms")
        Path(args.dump).write_text(json.dumps({k: run[k] for k in keep} | {"startup": startup}), encoding="utf-8")
    if run["profiler"] is not None:
        print_profile(run["profiler"], args.top)
        if args.profile_out:
            run["profiler"].dump_stats(args.profile_out)


if __name__ == "__main__":
    main()
