from __future__ import annotations

import gc
import os
import threading

import pytest

# Qt must never look for a display in the tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def test_keyring():
    """A fresh in-memory keyring for every test (tests/keyring_backend.py): never the developer's own."""
    import keyring

    from tests.keyring_backend import MemoryKeyring

    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """A test that starts a thread must also stop it: feeds left running are a leak in the app too."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.name.startswith("fake-")]
    for thread in leaked:
        thread.join(timeout=2.0)
    still = [t.name for t in leaked if t.is_alive()]
    assert not still, f"threads left running: {still}"


@pytest.fixture(autouse=True)
def collect_qt_garbage_on_the_main_thread():
    """Collect each test's garbage here, on the main thread. Left to chance, Python's cyclic collector runs
    in whichever thread allocates next, a feed thread included; collecting a dead window's Qt wrappers there
    deadlocked on Qt's own mutex against the main thread (py-spy: gc_collect_main -> QObject::~QObject in
    the feed thread, QBasicMutex::lockInternal in the main thread).

    What lives when the test starts (the imported modules: Qt, ccxt, numpy, pyqtgraph; what earlier tests
    kept) is frozen first (gc.freeze): the collection scans only what this test made. A full collection over
    the suite's heap took 0.2 to 0.9 s after every test, more than half of the suite's time."""
    gc.freeze()
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def no_alert_sound(monkeypatch):
    """Windows under test never play the alert sound on the machine's speakers: MARGINWATCH_SOUND_PLAYER=none
    leaves them QApplication.beep() (silent offscreen). tests/desktop/test_alert_sound.py puts a fake player
    first on PATH instead."""
    monkeypatch.setenv("MARGINWATCH_SOUND_PLAYER", "none")
