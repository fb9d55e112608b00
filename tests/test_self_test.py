"""`marginwatch --self-test` as a user (or the frozen build's smoke test) runs it: one line, status 0 or 1."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.platform import self_test

SUMMARY = re.compile(
    r"self-test ok: 9 positions, 4 accounts, closest to liquidation -?\d+\.\d% \(\S+ (long|short), [^)]+\), "
    r"simulated feed 8/8 prices in \d+\.\d\d s, ccxt [\d.]+ clients for 4 exchanges, Qt 6\.\d+\.\d+ offscreen, "
    r"no display: window plugin not checked\n"
)


def self_test_run(**env: str) -> subprocess.CompletedProcess[str]:
    """The installed command, with no display and no QT_QPA_PLATFORM unless given."""
    exe = shutil.which("marginwatch", path=str(Path(sys.executable).parent))
    command = [exe] if exe else [sys.executable, "-m", "desktop.cli"]
    clean = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run(
        [*command, "--self-test"], capture_output=True, text=True, timeout=120, env={**clean, **env}, check=False
    )


def test_self_test_passes_offscreen_and_prints_one_summary_line():
    result = self_test_run()
    assert result.returncode == 0, result.stderr
    assert SUMMARY.fullmatch(result.stdout), result.stdout
    assert result.stderr == ""


def test_a_missing_qt_platform_plugin_is_one_failure_line_not_an_abort():
    result = self_test_run(QT_QPA_PLATFORM="nosuchplatform")
    assert result.returncode == 1
    assert result.stdout == ""
    assert re.fullmatch(
        r"marginwatch: self-test FAILED: Qt: no 'nosuchplatform' platform plugin in .+\n", result.stderr
    ), result.stderr


def test_help_lists_the_self_test(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "--self-test" in capsys.readouterr().out


def test_self_test_takes_no_sub_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--self-test", "export", "-"])
    assert exit_.value.code == 2
    assert "--self-test takes no sub-command" in capsys.readouterr().err


def test_missing_bundled_data_fails_in_one_line_naming_the_step(monkeypatch, capsys):
    monkeypatch.setattr(self_test, "resource", lambda *parts: Path("/nonexistent", *parts))
    assert main(["--self-test"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("marginwatch: self-test FAILED: demo book: FileNotFoundError: ")
    assert err.count("\n") == 1


def test_a_feed_that_does_not_publish_in_time_fails_and_is_stopped(monkeypatch):
    monkeypatch.setattr(self_test, "FEED_TIMEOUT_S", 0.0)
    portfolio = self_test.loads_portfolio(self_test.resource("demo", "book.json").read_text(encoding="utf-8"))
    with pytest.raises(self_test.SelfTestFailed, match=r"^0/8 prices after 0 s$"):
        self_test.check_simulated_feed(portfolio)
    # the autouse fixture fails the test if the feed's thread is still running
