"""The collector while the window starts: paused, then the start-up heap frozen and collection back on."""

from __future__ import annotations

import gc

import pytest

from desktop.cli import main
from desktop.platform.startup_heap import freeze_startup_heap, pause_collection


@pytest.fixture
def collector():
    """Leave the collector as the test found it (enabled, nothing frozen)."""
    yield
    gc.unfreeze()
    gc.enable()


def test_collection_is_paused_until_the_start_up_heap_is_frozen(collector):
    built = [[object()] for _ in range(1_000)]  # start-up objects
    pause_collection()
    assert not gc.isenabled()
    freeze_startup_heap()
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(built)  # never scanned again by the collector


def test_a_window_that_fails_to_start_leaves_collection_on(collector, tmp_path, capsys):
    missing = tmp_path / "no-such-book.json"
    status = main(["--book", str(missing), "--offline", "--data-dir", str(tmp_path)])
    assert status != 0 and "no-such-book.json" in capsys.readouterr().err
    assert gc.isenabled()
