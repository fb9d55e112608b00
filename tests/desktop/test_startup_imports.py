"""What opening the window imports: nothing that only the live feeds need."""

from __future__ import annotations

import os
import subprocess
import sys


def printed_by(code: str) -> str:
    """What `python -c code` prints in a fresh process (stripped); it must exit 0 (else its stderr is shown)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_window_module_imports_neither_asyncio_nor_ccxt_nor_the_candle_fetcher():
    """Start-up (a book file, offline) needs no event loop, exchange library or candle fetching: the feeds
    import them when they start, the probability column its candle cache when a saved book is open (asyncio
    and ssl took ~40 ms of a ~1 s start)."""
    later = {"asyncio", "ssl", "ccxt", "engine.market.candle_refresh", "desktop.risk_odds"}
    code = f"import sys, desktop.app; print(sorted({later!r} & set(sys.modules)))"
    assert printed_by(code) == "[]"


def test_the_window_module_imports_no_storage_channels_or_odds_computation():
    """Opening the window module (a book file, offline) leaves out what the first picture does not need: the
    saved book's storage (sqlite3, hashlib: ~30 ms), the alert channels' config, dispatcher and relay (~12 ms,
    imported once a channel is set up), the odds computation and its child process (~17 ms, with the first job,
    after the first paint), the price alerts dialog, the candle fetching and _strptime (the bundled tier
    tables' dates are read by hand)."""
    later = {
        "sqlite3",
        "hashlib",
        "engine.storage.database",
        "engine.alerts.config",
        "engine.alerts.dispatcher",
        "engine.alerts.relay",
        "engine.monitor.odds_compute",
        "engine.monitor.odds_process",
        "engine.monitor.odds_report",
        "desktop.dialogs.price_alerts_dialog",
        "desktop.window.candle_updates",
        "_strptime",
    }
    code = (
        "import sys, desktop.app; from engine.margin.tiers import bundled_table; bundled_table('binanceusdm'); "
        f"print(sorted({later!r} & set(sys.modules)))"
    )
    assert printed_by(code) == "[]"


WHERE_FIRST_USED = {
    "statistics": "the chart's likely range (its normal quantile; statistics imports fractions)",
    "fractions": "statistics",
    "shlex": "a sound player named in MARGINWATCH_SOUND_PLAYER",
    "engine.alerts.channel_secrets": "a notification channel saved or removed",
    "desktop.dialogs": "a dialog opened",
    "desktop.dialogs.thresholds_dialog": "Thresholds…, or a position's or account's own thresholds",
    "engine.monitor.funding_report": "the terminal reports (risk, watch)",
    "engine.monitor.tier_report": "the terminal reports (risk, watch)",
    "engine.funding.projection": "the chart's and ladder's funding line, once a rate arrives",
    "engine.funding.payments": "the funding projection",
}
"""What the window imports where it is first used, not at start-up: module -> where."""


def test_the_first_window_imports_no_dialog_report_part_funding_projection_or_masked_arrays():
    """Up to its first paint and the first move search after it, the window (the demo book on manual prices, no
    funding rate) imports none of WHERE_FIRST_USED (the start imported them all), nor numpy.ma (~20 ms: numpy's
    plain np.unique imports it to ask whether an array is masked)."""
    code = (
        "import os, sys; from PySide6.QtWidgets import QApplication; app = QApplication([]); "
        "from desktop.app import MainWindow, demo_portfolio, manual_store; portfolio = demo_portfolio(); "
        "window = MainWindow(portfolio, 'imports', manual_store(portfolio), [], None); "
        "window.odds_column.stop(); "  # the first figures bring the likely band (statistics), whenever they arrive
        "window.show(); "
        "[app.processEvents() for _ in range(5)]; "
        f"print(sorted({set(WHERE_FIRST_USED) | {'numpy.ma'}!r} & set(sys.modules)), flush=True); os._exit(0)"
    )
    assert printed_by(code) == "[]"


def test_the_first_chart_scale_imports_no_masked_arrays():
    """numpy.percentile imports numpy.ma (~20 ms at the first chart of a start): the chart's quartiles do not."""
    code = (
        "import sys, numpy as np; from desktop.charts.chart_style import robust_range; "
        "print(robust_range(np.array([1.0, 2.0, 3.0, 50.0])), 'numpy.ma' in sys.modules)"
    )
    assert printed_by(code) == "(1.0, 50.0) False"


def test_the_command_line_imports_nothing_that_only_risk_and_watch_need():
    """`marginwatch` (the window, --demo, --book) parses its command line before Qt: the options of `risk` and
    `watch` are declared without their odds machinery (candles, volatilities, the odds report and alerts), the
    saved book's database or sqlite3 (~100 ms before the window's first import); those commands import them."""
    later = {
        "sqlite3",
        "hashlib",
        "logging",
        "desktop.risk_odds",
        "engine.market.candle_refresh",
        "engine.market.candles",
        "engine.market.volatility",
        "engine.monitor.odds_alerts",
        "engine.monitor.odds_report",
        "engine.monitor.odds_compute",
        "engine.monitor.report",
        "engine.storage.database",
        "engine.storage.stored_tiers",
    }
    code = (
        "import sys; from desktop.cli import build_parser; build_parser().parse_args(['--demo']); "
        f"print(sorted({later!r} & set(sys.modules)))"
    )
    assert printed_by(code) == "[]"


def test_the_window_sends_odds_jobs_without_importing_their_computation():
    """The first odds job (right after the first paint) starts the child process that computes it: the GUI's
    process imports the sending end only, not the Monte Carlo machinery (~4 ms of the GUI thread), which the
    child imports."""
    later = {"engine.monitor.odds_compute", "engine.margin.account_odds", "engine.margin.bootstrap_odds"}
    code = f"import sys, engine.monitor.odds_process; print(sorted({later!r} & set(sys.modules)))"
    assert printed_by(code) == "[]"


def test_a_window_on_a_portfolio_file_without_a_saved_book_imports_no_storage(tmp_path):
    """`marginwatch --book FILE` reads the tier tables stored with the saved book: with no saved book in the data
    folder there is nothing to read, and neither sqlite3 nor the storage (~18 ms) is imported to paint."""
    from engine.margin.bundled import resource

    book = tmp_path / "book.json"
    book.write_text(resource("demo", "book.json").read_text(encoding="utf-8"), encoding="utf-8")
    later = {"sqlite3", "hashlib", "engine.storage.database"}
    options = f"book_file={str(book)!r}, offline=True, data_dir={str(tmp_path / 'data')!r}"
    code = (
        "import os, sys; from PySide6.QtWidgets import QApplication; app = QApplication([]); "
        "from desktop.app import WindowOptions, build_window; "
        f"window = build_window(WindowOptions({options})); "
        "window.show(); [app.processEvents() for _ in range(5)]; "
        f"print(sorted({later!r} & set(sys.modules)), flush=True); os._exit(0)"
    )
    assert printed_by(code) == "[]"
