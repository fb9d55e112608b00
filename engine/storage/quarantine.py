"""Moving a damaged database aside, with its -wal and -shm, without ever splitting them.

A damaged file cannot be checkpointed (its WAL may hold committed pages that are not in the main file
yet), so the three files must travel together. Renames of three files are three steps, and a folder
rename moves them as one only if they already share a folder of their own; they do not (they sit in
the data folder beside the layout and the log). So the move is made recoverable instead:

1. a fresh folder `<name>.damaged-<stamp>/` is made (0700) with a marker file `MOVING` in it;
2. `-shm`, `-wal`, then the main file are renamed into it (same file system: each rename is atomic);
3. the marker is removed.

A death anywhere in between leaves the marker. Every open first finishes such a move
(`finish_moves`): whatever of the three is still at the database's place is renamed after the others
and the marker removed. So a half-moved set is never opened as a book, a leftover WAL is never
replayed into a new file, and every byte is kept.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

MARKER = "MOVING"
SUFFIXES = ("-shm", "-wal", "")
"""Renamed in this order: the main file last, so the book's own place is the last thing to change."""


def quarantine_folders(path: Path) -> list[Path]:
    """The damaged-book folders beside path, oldest first."""
    return sorted(p for p in path.parent.glob(f"{path.name}.damaged-*") if p.is_dir())


def _rename_set(path: Path, folder: Path) -> None:
    for suffix in SUFFIXES:
        source = path.with_name(path.name + suffix)
        if os.path.lexists(source):
            os.rename(source, folder / (path.name + suffix))
    fsync_folder(path.parent)
    fsync_folder(folder)


def move_aside(path: Path, now: datetime | None = None) -> Path:
    """Move path and its -wal/-shm into a new `<name>.damaged-<stamp>/` folder; returns the main file's new path.

    Raises OSError when the folder cannot be made or a rename fails (the marker then stays, and the
    next open finishes the move).
    """
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    folder = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while os.path.lexists(folder):
        n += 1
        folder = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    folder.mkdir(mode=0o700)
    (folder / MARKER).write_text(f"moving {path.name} and its -wal/-shm here\n", encoding="utf-8")
    fsync_folder(path.parent)
    _rename_set(path, folder)
    (folder / MARKER).unlink()
    return folder / path.name


def finish_moves(path: Path) -> list[Path]:
    """Finish every move-aside of path that a death interrupted; returns the folders it finished."""
    finished = []
    for folder in quarantine_folders(path):
        if (folder / MARKER).exists():
            _rename_set(path, folder)
            (folder / MARKER).unlink()
            finished.append(folder)
    return finished


def fsync_folder(folder: Path) -> None:
    """Make renames in folder durable (POSIX; Windows has no folder handles to sync)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
