"""Benchmark: one save from the window (run by hand, not by pytest).

    .venv/bin/python -m tests.benchmarks.bench_save [--runs 30]

The real MainWindow, offscreen, on the saved book (`build_window` with a temporary --data-dir, offline)
holding the demo book or the 1,000-position book of bench_gui. Timed, each --runs times (median and
90th percentile, ms): `apply_portfolio` of the same book (what every edit, delete and import does:
the book replaced in one transaction, then shown), and `apply_thresholds` (one setting saved). For
reference, `apply_portfolio` in a window on a portfolio file (nothing saved): the difference is the
cost of saving.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _time(runs: int, action: Callable[[], object]) -> tuple[float, float]:
    action()  # warm-up: first-use imports and caches
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1_000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.9 * len(samples)))]


def measure(name: str, document: dict, runs: int, folder: Path) -> list[tuple[str, float, float]]:
    from desktop.app import WindowOptions, build_window
    from engine.book.portfolio import parse_portfolio
    from engine.monitor.levels import Thresholds
    from engine.storage.database import BookDatabase
    from engine.storage.paths import database_path

    portfolio = parse_portfolio(document)
    data = folder / name
    with BookDatabase.open(database_path(str(data))) as db:
        db.import_portfolio(portfolio)
    rows = []
    window = build_window(WindowOptions(data_dir=str(data), offline=True))
    try:
        rows.append(
            (
                f"{name}: apply_portfolio, saved book",
                *_time(runs, lambda: window.book_host.apply_portfolio(portfolio, "x")),
            )
        )
        thresholds = itertools.cycle(
            [Thresholds(distance_warning=0.2, distance_danger=0.1), Thresholds()]
        )  # a change each time
        rows.append(
            (
                f"{name}: apply_thresholds, saved book",
                *_time(runs, lambda: window.thresholds_setting.apply(next(thresholds))),
            )
        )
    finally:
        window.close()
    book_file = folder / f"{name}.json"
    book_file.write_text(json.dumps(document), encoding="utf-8")
    window = build_window(WindowOptions(book_file=str(book_file), data_dir=str(data), offline=True))
    try:
        rows.append(
            (
                f"{name}: apply_portfolio, file (not saved)",
                *_time(runs, lambda: window.book_host.apply_portfolio(portfolio, "x")),
            )
        )
    finally:
        window.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    from engine.margin.bundled import load_json
    from tests.benchmarks.bench_gui import build_document

    app = QApplication.instance() or QApplication(sys.argv[:1])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += measure("demo", load_json("demo", "book.json"), args.runs, Path(tmp))
        rows += measure("1,000 positions", build_document(), args.runs, Path(tmp))
    width = max(len(r[0]) for r in rows)
    print(f"{'save':<{width}}  median ms  p90 ms")
    for label, median, p90 in rows:
        print(f"{label:<{width}}  {median:>9.2f}  {p90:>6.2f}")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
