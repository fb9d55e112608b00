"""The frozen one-folder build (packaging/build.sh) runs: its --self-test passes without a display.

Slow (a build venv, then PyInstaller: minutes), so it runs only when asked:
MARGINWATCH_BUILD_TESTS=1 bash .ci/run, or MARGINWATCH_BUILD_TESTS=1 .venv/bin/python -m pytest tests/test_build.py
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "dist" / "marginwatch"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1800),  # a frozen build takes minutes, not the suite's 240 s
    pytest.mark.skipif(
        os.environ.get("MARGINWATCH_BUILD_TESTS") != "1",
        reason="builds the frozen app (minutes): set MARGINWATCH_BUILD_TESTS=1",
    ),
]


def test_the_frozen_build_passes_its_self_test():
    build = subprocess.run(
        ["bash", str(ROOT / "packaging" / "build.sh")], capture_output=True, text=True, timeout=3600, check=False
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert "build.sh: built dist/marginwatch/marginwatch" in build.stdout
    for icon in ("marginwatch-16.png", "marginwatch-256.png"):
        assert (BUNDLE / "_internal" / "marginwatch_resources" / "icons" / icon).is_file()

    clean = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [str(BUNDLE / "marginwatch"), "--self-test"],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("self-test ok: 9 positions, 4 accounts, ")
    assert result.stdout.rstrip().endswith("offscreen")
