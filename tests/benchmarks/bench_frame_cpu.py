"""Benchmark: GUI-thread CPU of one window frame (a refresh and the paint it causes), run by hand.

    .venv/bin/python -m tests.benchmarks.bench_frame_cpu [--frames 200] [--ticks 500] [--runs 3] [--compare DIR]

The real MainWindow, offscreen, on bench_gui's book (1,000 positions over 300 symbols); no timer and no feed
thread: each frame publishes --ticks random-walk ticks into the price store, then calls window.refresh() and
processes the events it posted (the tables' and status bar's paint), and the GUI thread's CPU time
(time.thread_time) of that is one sample; every tenth frame the events waiting half a refresh (the position
chart, the accounts' moves) run too, outside the samples. The first 20 frames are left out. It prints the
best, lower quartile and median of the samples.

Why CPU time and not bench_gui's wall-clock lag: on a shared machine another process's load moves wall-clock
figures by 2x from run to run, while the work a frame does is what a change to the window changes. The best
frame is the least disturbed one. --compare DIR measures the checkout in DIR too (e.g. a worktree of the
base), alternating the two --runs times in fresh processes, and prints the ratio of the medians of the best.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def measure(frames: int, ticks: int, seed: int = 5) -> dict[str, Any]:
    """Build the window, run `frames` frames of `ticks` ticks each; the per-frame GUI-thread CPU in ms."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from desktop.app import MainWindow
    from engine.book.portfolio import parse_portfolio
    from engine.market.prices import PriceSource, PriceStore, Tick
    from tests.benchmarks.bench_gui import build_document

    app = QApplication.instance() or QApplication([])
    portfolio = parse_portfolio(build_document())
    store = PriceStore()
    walk = dict(portfolio.price_map())
    keys = sorted(walk)
    rng = random.Random(seed)

    def publish(chosen: list[Any]) -> None:
        now, batch = time.time(), []
        for key in chosen:
            walk[key] *= math.exp(rng.gauss(0.0, 0.0003))
            batch.append(Tick(key, walk[key], exchange_time=now))
        store.publish(batch, PriceSource.LIVE)

    publish(keys)
    window = MainWindow(portfolio, "frame benchmark", store, [], None)
    window.show()
    getattr(window, "pacer", window.timer).stop()  # the frames below are the only refreshes
    for _ in range(30):
        app.processEvents()
    samples = []
    for frame in range(frames):
        publish(rng.choices(keys, k=ticks))
        started = time.thread_time()
        window.refresh()
        app.processEvents()
        samples.append((time.thread_time() - started) * 1e3)
        if frame % 10 == 0:  # what waits half a refresh (the chart, the moves), as between two real frames
            time.sleep(0.06)
            app.processEvents()
    window.close()
    return {"cpu_ms": samples[20:]}


def run_child(tree: Path, args: argparse.Namespace) -> list[float]:
    """One measurement in a fresh process, importing the checkout in `tree`."""
    from tests.benchmarks.checkout_env import checkout_env  # the parent's: an older child has none

    env = checkout_env(tree, QT_QPA_PLATFORM="offscreen")
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--frames", str(args.frames)]
    command += ["--ticks", str(args.ticks)]
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child in {tree} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["cpu_ms"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--ticks", type=int, default=500, help="ticks published before each frame")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per checkout")
    parser.add_argument("--compare", type=Path, help="another checkout measured alternately")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))
        print(json.dumps(measure(args.frames, args.ticks)))
        return
    trees = {"this checkout": REPO} | ({"compare": args.compare.resolve()} if args.compare else {})
    runs: dict[str, list[list[float]]] = {name: [] for name in trees}
    for _ in range(args.runs):
        for name, tree in trees.items():
            runs[name].append(run_child(tree, args))
    print(
        f"bench_gui's book (1,000 positions), offscreen; {args.frames - 20} frames of {args.ticks} ticks per run, "
        f"{args.runs} run(s) per checkout; GUI-thread CPU per frame (refresh + its paint), ms"
    )
    print(f"{'checkout':<40}{'best':>8}{'p25':>8}{'median':>8}   best of each run")
    for name, tree in trees.items():
        bests = [min(r) for r in runs[name]]
        p25 = statistics.median(statistics.quantiles(r, n=4)[0] for r in runs[name])
        median = statistics.median(statistics.median(r) for r in runs[name])
        each = " ".join(f"{b:.1f}" for b in bests)
        print(f"{name + ' (' + tree.name + ')':<40}{statistics.median(bests):>8.2f}{p25:>8.2f}{median:>8.2f}   {each}")
    if args.compare:
        ratio = statistics.median(min(r) for r in runs["this checkout"]) / statistics.median(
            min(r) for r in runs["compare"]
        )
        print(f"ratio this checkout / compare (median of the best frames): {ratio:.2f}")


if __name__ == "__main__":
    main()
