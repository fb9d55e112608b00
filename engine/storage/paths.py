"""Where the user's data lives: --data-dir, else $MARGINWATCH_DATA_DIR, else the platform's app-data folder.

The platform's folder comes from platformdirs (`user_data_dir`): ~/.local/share/marginwatch (or
$XDG_DATA_HOME/marginwatch) on Linux, ~/Library/Application Support/Margin Watch on macOS,
%APPDATA%\\Margin Watch on Windows, the folders Margin Watch used before. Nothing is created at import;
`ensure_data_dir` creates the folder (0700) when something is first written there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

ENV_VAR = "MARGINWATCH_DATA_DIR"
DATABASE_NAME = "marginwatch.sqlite3"
LOG_NAME = "marginwatch.log"


def default_data_dir() -> Path:
    # The app's name differs by platform (as before platformdirs): a lower-case folder on Linux.
    name = "marginwatch" if sys.platform.startswith("linux") else "Margin Watch"
    return Path(platformdirs.user_data_dir(name, appauthor=False, roaming=True))


def data_dir(option: str | None = None) -> Path:
    if option:
        return Path(option).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return default_data_dir()


def database_path(option: str | None = None) -> Path:
    return data_dir(option) / DATABASE_NAME


def ensure_data_dir(folder: Path) -> Path:
    """Create the data folder private to its owner (0700) if it is missing; an existing folder is left as it is.

    Raises OSError when it cannot be created.
    """
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)  # ours: exactly 0700 whatever the umask
    return folder


def create_private_file(path: Path) -> bool:
    """Create path empty and 0600 unless it exists (never through a symbolic link); True when created here."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        return False
    os.close(fd)
    return True
