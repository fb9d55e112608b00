"""What opening the window imports: nothing that only the live feeds need."""

from __future__ import annotations

import os
import subprocess
import sys


def test_the_window_module_imports_neither_asyncio_nor_ccxt():
    """Start-up (a book file, offline) needs no event loop or exchange library: the feeds import them when
    they start (asyncio and ssl took ~40 ms of a ~1 s start)."""
    code = "import sys, desktop.app; print(sorted({'asyncio', 'ssl', 'ccxt'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
