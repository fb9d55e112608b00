"""A stand-in for the odds child's loop that starts reading its jobs late (imported by the spawned child)."""

from __future__ import annotations

import time
from multiprocessing.connection import Connection

LATE_S = 3.0


def late_serve(conn: Connection) -> None:
    """engine.monitor.odds_process.serve, after LATE_S seconds of reading nothing (a slow start of the child)."""
    from engine.monitor.odds_process import serve

    time.sleep(LATE_S)
    serve(conn)
