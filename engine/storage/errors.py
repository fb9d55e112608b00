"""Storage faults in words, classified by SQLite's error code and the file system, never by message text.

SQLite's primary result codes (https://www.sqlite.org/rescode.html, read 2026-11-30) say the kind of
fault; Python 3.11 exposes them as `sqlite3.Error.sqlite_errorcode` / `sqlite_errorname`. Where one
code covers several causes (SQLITE_CANTOPEN: a folder, an unreadable file, a read-only folder; an
I/O error on a full disk), the file system is asked which one it is. qutebrowser's misc/sql.py
classifies its database errors the same way.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: StorageError is raised and caught where no database is opened (start-up time)
    import sqlite3

# Primary result codes (the low byte of an extended code).
SQLITE_PERM = 3
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26

DAMAGE_CODES = frozenset({SQLITE_CORRUPT, SQLITE_NOTADB})
NEARLY_FULL_BYTES = 1 << 20
"""Less free space than this beside the file: an I/O error there is the disk being full."""

ELSEWHERE = "choose another folder with --data-dir or MARGINWATCH_DATA_DIR"


class StorageError(Exception):
    """Something the user must know about the saved book; the message says what happened and what to do."""


class DamagedBook(StorageError):
    """The saved book's file or its rows are damaged (structure, encoding, JSON or checksum)."""


def primary_code(error: sqlite3.Error) -> int | None:
    """The primary result code of an SQLite error, None for errors raised by Python's module itself."""
    code = getattr(error, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def is_damage(error: sqlite3.Error) -> bool:
    return primary_code(error) in DAMAGE_CODES


def disk_full(path: Path) -> bool:
    """True when the file system holding path has (almost) no space left."""
    folder = path if path.is_dir() else path.parent
    try:
        return shutil.disk_usage(folder).free < NEARLY_FULL_BYTES
    except OSError:
        return False


def translate(error: sqlite3.Error, path: Path, writing: bool = True) -> StorageError:
    """One StorageError naming the cause of an sqlite3 error at path (the cause from codes and the file system)."""
    code = primary_code(error)
    saved = "nothing was saved" if writing else "nothing was read"
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return StorageError(f"{path} is locked by another program (is Margin Watch open twice?); {saved}")
    if code == SQLITE_FULL or (code == SQLITE_IOERR and disk_full(path)):
        return StorageError(f"the disk holding {path} is full; {saved}: free some space and try again")
    if code in DAMAGE_CODES:
        return DamagedBook(f"the saved book at {path} is damaged ({error.sqlite_errorname}); {saved}")
    if code in (SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_PERM):
        return StorageError(cannot_open(path, writing))
    if code == SQLITE_IOERR:
        return StorageError(f"the disk holding {path} reported an I/O error ({error.sqlite_errorname}); {saved}")
    return StorageError(f"{path}: {error}")


def cannot_open(path: Path, writing: bool) -> str:
    """Why path cannot be opened, from the file system: a folder, an unreadable file, a read-only file or folder."""
    if path.is_dir():
        return f"{path} is a folder, not a Margin Watch database: {ELSEWHERE}"
    if path.is_symlink():
        return f"{path} is a symbolic link; Margin Watch does not follow one at its database's place: remove it"
    if not path.parent.is_dir():
        return f"the data folder {path.parent} does not exist or is not a folder: {ELSEWHERE}"
    if path.exists() and not os.access(path, os.R_OK):
        return f"{path} cannot be read (its permissions do not allow it): fix its permissions, or {ELSEWHERE}"
    if writing and not os.access(path.parent, os.W_OK):  # first: on a read-only mount the file is read-only too
        return f"{path.parent} cannot be written to; nothing was saved: {ELSEWHERE}"
    if writing and path.exists() and not writable_file(path):
        return (
            f"{path} is read-only (its permissions were changed); Margin Watch does not change them: make it "
            f"writable again (chmod u+w) to save, or {ELSEWHERE}"
        )
    return f"{path} cannot be opened; nothing was saved: {ELSEWHERE}" if writing else f"{path} cannot be opened"


def writable_file(path: Path) -> bool:
    """The owner may write the file (its mode; os.access says yes to root whatever the mode)."""
    mode = path.stat().st_mode
    return bool(mode & 0o200) and os.access(path, os.W_OK)
