"""PySide6 6.12.0 on CPython 3.11 aborts the interpreter ("Fatal Python error: bool_dealloc") after a
few hundred Signal.emit() calls. The pins keep us on a working Qt; this fails CI if a bump brings the
crash back. It runs in a child process so an abort is reported as a failure, not a dead test run."""

from __future__ import annotations

import subprocess
import sys
import textwrap

EMITS = 100_000


def test_signal_emit_survives_100k_emits_through_a_connected_slot():
    script = textwrap.dedent(
        f"""
        from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

        class Source(QObject):
            ticked = Signal(int, bool)

        class Sink(QObject):
            def __init__(self):
                super().__init__()
                self.count = 0
                self.flags = 0

            @Slot(int, bool)
            def on_tick(self, value, flag):
                self.count += 1
                self.flags += flag

        app = QCoreApplication([])
        source, sink = Source(), Sink()
        source.ticked.connect(sink.on_tick)
        for i in range({EMITS}):
            source.ticked.emit(i, i % 2 == 0)
        print(sink.count, sink.flags)
        """
    )
    env = {"QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert result.returncode == 0, f"child died ({result.returncode}): {result.stderr[-2000:]}"
    assert result.stdout.split() == [str(EMITS), str(EMITS // 2)]
