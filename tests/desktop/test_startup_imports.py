"""What opening the window imports: nothing that only the live feeds need."""

from __future__ import annotations

import os
import subprocess
import sys


def test_the_window_module_imports_neither_asyncio_nor_ccxt_nor_the_candle_fetcher():
    """Start-up (a book file, offline) needs no event loop, exchange library or candle fetching: the feeds
    import them when they start, the probability column its candle cache when a saved book is open (asyncio
    and ssl took ~40 ms of a ~1 s start)."""
    later = {"asyncio", "ssl", "ccxt", "engine.market.candle_refresh", "desktop.risk_odds"}
    code = f"import sys, desktop.app; print(sorted({later!r} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_first_chart_scale_imports_no_masked_arrays():
    """numpy.percentile imports numpy.ma (~20 ms at the first chart of a start): the chart's quartiles do not."""
    code = (
        "import sys, numpy as np; from desktop.charts.chart_style import robust_range; "
        "print(robust_range(np.array([1.0, 2.0, 3.0, 50.0])), 'numpy.ma' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1.0, 50.0) False"
