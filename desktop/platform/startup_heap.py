"""The garbage collector while the window starts: paused, then everything built so far frozen out of it.

Starting the window allocates a few hundred thousand objects (Qt, numpy and pyqtgraph modules, the
book, the tables). The cyclic collector made about 190 passes over them on the way, one over the whole
heap: 40-60 ms of a start-up of under a second (the GUI benchmark's book), for almost no garbage
(reference counting frees nearly everything). So collection is paused from before the first Qt
import until the window is shown; then the start-up objects are frozen (never scanned again: a full
pass over them paused the running window for 50-70 ms every few seconds) and collection resumes for
what the refreshes allocate.
No Qt here: the pause starts before Qt is imported.
"""

from __future__ import annotations

import gc


def pause_collection() -> None:
    """Stop cyclic garbage collection until freeze_startup_heap() (reference counting goes on)."""
    gc.disable()


def resume_collection() -> None:
    """Collect again (a start-up that ended before the window was shown)."""
    gc.enable()


def freeze_startup_heap() -> None:
    """Take everything built at start-up out of the collector's passes, and collect again from here on."""
    gc.freeze()
    gc.enable()
