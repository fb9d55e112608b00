"""Where the user's data lives: --data-dir, else $MARGINWATCH_DATA_DIR, else the platform's app-data folder.

Nothing is created here; the database creates its folder when it is first opened.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_VAR = "MARGINWATCH_DATA_DIR"
DATABASE_NAME = "marginwatch.sqlite3"


def default_data_dir() -> Path:
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", home / "AppData" / "Roaming")) / "Margin Watch"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "Margin Watch"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "marginwatch"


def data_dir(option: str | None = None) -> Path:
    if option:
        return Path(option).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return default_data_dir()


def database_path(option: str | None = None) -> Path:
    return data_dir(option) / DATABASE_NAME
