"""Benchmark: what the demo window costs while the user only watches it (run by hand, not by pytest).

    .venv/bin/python -m tests.benchmarks.bench_idle [--duration 60] [--runs 1] [--compare DIR] [--profile]

The demo book on its simulated feed (desktop.app.build_window(WindowOptions(demo=True, data_dir=tmp))),
offscreen, shown, nobody touching it: a monitor left open all day on a laptop. Each measurement runs in a
fresh child process: it builds and shows the window, lets it settle for --warmup seconds, then measures for
--duration seconds the process's CPU time (resource.getrusage: user + system, every thread: the GUI, the
feed, Qt's own) and the GUI thread's (time.thread_time), as a share of one core, and counts the window's
refreshes (its timer slot, wrapped). Target: the process <= 2% of a core over the measurement; the share from
SETTLED_S (10 s) after show, once the start-up's tail is over, is printed beside it. The child processes' CPU (the
liquidation odds process computes the probability column every few seconds) is shown beside it, from /proc
("nan" where there is none): the laptop pays for it too, though the target is the window's process.

--compare DIR measures the checkout in DIR too (e.g. a worktree of main: `git worktree add /tmp/base main`),
alternating the two --runs times, so that both see the same machine; the table shows both and their ratio
(both run this file's measurement, on their own packages).
--profile prints the GUI thread's cProfile over the measured time instead (one run, this checkout).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TARGET_PERCENT = 2.0
SETTLED_S = 10.0
"""Seconds after show() by which the window's start-up tail is over (the charts built after the first paint, the
first move search and odds job). Until 2026-12-02 the demo's automatic sync also looked for linked accounts at
5 s, importing keyring (about 150 ms of CPU once a session); the demo is never synced since."""


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu() -> dict[int, float] | None:
    """CPU seconds so far of each live child process (the liquidation odds process, multiprocessing's resource
    tracker), from /proc (Linux); None elsewhere. getrusage counts a child only once it has been waited for."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    return found


def measure(duration: float, warmup: float, profile: bool, settled: float = SETTLED_S) -> dict[str, Any]:
    """Build the demo window offscreen, let it run, and return the CPU it used over `duration` seconds."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.app import WindowOptions, build_window

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="bench-idle-") as folder:
        window = build_window(WindowOptions(demo=True, data_dir=folder))
        refreshes = [0]
        original = window.refresh

        def counted() -> None:
            refreshes[0] += 1
            original()

        window.timer.timeout.disconnect()
        window.timer.timeout.connect(counted)
        window.show()
        marks: dict[str, float] = {}
        children_before: dict[int, float] = {}
        profiler = None

        def start() -> None:
            nonlocal profiler
            refreshes[0] = 0
            marks.update(wall=time.perf_counter(), cpu=_cpu_seconds(), gui=time.thread_time())
            children_before.update(_children_cpu() or {})
            if profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()

        def settle() -> None:
            marks.update(settled_wall=time.perf_counter(), settled_cpu=_cpu_seconds())

        def stop() -> None:
            if profiler is not None:
                profiler.disable()
            after = _children_cpu()
            marks["children"] = (
                math.nan if after is None else sum(t - children_before.get(pid, 0.0) for pid, t in after.items())
            )
            if "settled_wall" in marks:
                marks.update(
                    settled_wall=time.perf_counter() - marks["settled_wall"],
                    settled_cpu=_cpu_seconds() - marks["settled_cpu"],
                )
            marks.update(
                wall=time.perf_counter() - marks["wall"],
                cpu=_cpu_seconds() - marks["cpu"],
                gui=time.thread_time() - marks["gui"],
            )
            app.quit()

        QTimer.singleShot(round(warmup * 1000), start)
        if warmup < settled < warmup + duration:
            QTimer.singleShot(round(settled * 1000), settle)
        QTimer.singleShot(round((warmup + duration) * 1000), stop)
        app.exec()
        window.close()
        sources = getattr(window, "sources", window)  # a checkout before WindowBook kept its feeds on the window
        for feed in sources.feeds:
            feed.stop()
    result = {
        "process_percent": 100 * marks["cpu"] / marks["wall"],
        "settled_percent": 100 * marks["settled_cpu"] / marks["settled_wall"] if "settled_wall" in marks else math.nan,
        "gui_percent": 100 * marks["gui"] / marks["wall"],
        "children_percent": 100 * marks["children"] / marks["wall"],
        "refreshes_per_s": refreshes[0] / marks["wall"],
        "positions": len(window.book.positions),
        "wall_s": marks["wall"],
    }
    if profiler is not None:
        import io
        import pstats

        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(40)
        result["profile"] = out.getvalue()
    return result


def run_child(tree: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One measurement in a fresh process, importing the checkout in `tree`."""
    from tests.benchmarks.checkout_env import checkout_env  # the parent's: an older child has none

    env = checkout_env(tree, QT_QPA_PLATFORM="offscreen")
    command = [sys.executable, "-m", "tests.benchmarks.bench_idle", "--child"]
    command += ["--duration", str(args.duration), "--warmup", str(args.warmup)]
    if args.profile:
        command.append("--profile")
    if tree != REPO:  # another checkout: this file's child code (the same measurement) on its packages
        command = [sys.executable, str(Path(__file__).resolve()), *command[3:]]
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child in {tree} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds after show() before measuring")
    parser.add_argument("--runs", type=int, default=1, help="measurements of each checkout (median shown)")
    parser.add_argument("--compare", type=Path, help="another checkout (e.g. main) measured alternately")
    parser.add_argument("--profile", action="store_true", help="print the GUI thread's cProfile (one run)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if str(Path.cwd()) not in sys.path:  # run by path from an older checkout: import that checkout
            sys.path.insert(0, str(Path.cwd()))
        print(json.dumps(measure(args.duration, args.warmup, args.profile)))
        return
    if args.profile:
        result = run_child(REPO, args)
        print(result["profile"])
        print(f"process {result['process_percent']:.2f}% of a core, GUI thread {result['gui_percent']:.2f}%")
        return

    trees = {"this checkout": REPO} | ({"compare": args.compare.resolve()} if args.compare else {})
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for _ in range(args.runs):
        for name, tree in trees.items():
            samples[name].append(run_child(tree, args))

    def med(name: str, field: str) -> float:
        return statistics.median(s[field] for s in samples[name])

    first = samples["this checkout"][0]
    print(
        f"demo book ({first['positions']} positions) on the simulated feed, offscreen, idle; "
        f"{args.duration:.0f} s measured after {args.warmup:.0f} s; median of {args.runs} run(s) per checkout"
    )
    settled = f"from {SETTLED_S:g} s %"
    print(
        f"{'checkout':<40}{'process % core':>16}{settled:>14}{'GUI thread %':>14}{'children %':>12}{'refreshes/s':>13}"
    )
    for name, tree in trees.items():
        label = f"{name} ({tree.name})"
        children = statistics.median(s.get("children_percent", math.nan) for s in samples[name])
        print(
            f"{label:<40}{med(name, 'process_percent'):>16.2f}{med(name, 'settled_percent'):>14.2f}"
            f"{med(name, 'gui_percent'):>14.2f}{children:>12.2f}{med(name, 'refreshes_per_s'):>13.1f}"
        )
    if args.compare:
        for field, what in (("process_percent", "process CPU"), ("settled_percent", f"from {SETTLED_S:g} s")):
            ratio = med("this checkout", field) / med("compare", field)
            print(f"ratio this checkout / compare ({what}): {ratio:.2f}")
    verdict = "MET" if med("this checkout", "process_percent") <= TARGET_PERCENT else "MISSED"
    print(f"target: process <= {TARGET_PERCENT:g}% of a core -> {verdict}")


if __name__ == "__main__":
    main()
