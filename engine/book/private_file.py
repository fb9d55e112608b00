"""Exports of the book written the way a careful user expects: in one step, readable by the user only."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_private_atomically(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write text to path as one step (a temporary file in the same folder, fsync'ed, then os.replace): a
    reader or a crash sees the old file or the new one, never half of one. The file is 0600 (a book is
    private). Raises OSError (the temporary file is removed)."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # 0600
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
