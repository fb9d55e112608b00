"""Can Qt open a window here? Asked before the QApplication exists, because Qt's own answer is an abort.

Without a display, or with the X11 platform plugin's system libraries missing, Qt prints a few lines of its own
and aborts the process (exit 134, "could not connect to display", "xcb-cursor0 is needed"). The window
asks first: no display at all (over SSH) points to `marginwatch watch`; a display whose X11 plugin cannot load
names the missing library and the README's package list.

The plugin is checked by loading it with the system's dynamic loader (ctypes), which resolves its libraries as
Qt will (its own RPATH first, so a frozen build's bundled libraries count) and names the first one missing.
Linux only: macOS and Windows ship what their platform plugin needs.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

NOT_WINDOWED = ("offscreen", "minimal", "vnc", "linuxfb", "eglfs", "minimalegl", "vkkhrdisplay")
"""QT_QPA_PLATFORM values that need no window system: nothing to check."""
X11_PLUGIN = "libqxcb.so"
MISSING = re.compile(r"(lib[^\s:]+\.so[.\d]*): cannot open shared object file")


def xcb_plugin_problem(plugins_dir: Path) -> str | None:
    """Why Qt's X11 platform plugin in plugins_dir/platforms cannot load (the missing library named), or None
    when it loads. A plugin that is not there is Qt's own matter (a frozen build may leave it out): None."""
    plugin = plugins_dir / "platforms" / X11_PLUGIN
    if not plugin.is_file():
        return None
    try:
        ctypes.CDLL(str(plugin))
    except OSError as e:
        found = MISSING.search(str(e))
        return f"the system library {found.group(1)} is missing" if found else str(e)
    return None


def qt_plugins_dir() -> Path:
    """Where Qt looks for its plugins (PySide6's own, or the frozen build's)."""
    from PySide6.QtCore import QLibraryInfo

    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))


def display_problem(environ: Mapping[str, str] = os.environ, plugins_dir: Path | None = None) -> str | None:
    """One line saying why the window cannot open here and what to do instead, or None when it can (or when
    only Qt can tell: Wayland, other systems, a platform chosen by QT_QPA_PLATFORM)."""
    if not sys.platform.startswith("linux"):
        return None
    requested = environ.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip()
    if requested in NOT_WINDOWED:
        return None
    x11, wayland = environ.get("DISPLAY", ""), environ.get("WAYLAND_DISPLAY", "")
    if not x11 and not wayland:
        return (
            "no display: the window needs a desktop session (DISPLAY and WAYLAND_DISPLAY are unset). "
            "Over SSH, watch the book in the terminal: marginwatch watch (see marginwatch watch --help)"
        )
    if wayland or requested.startswith("wayland"):
        return None  # Qt may use Wayland: leave the choice, and its errors, to it
    problem = xcb_plugin_problem(plugins_dir if plugins_dir is not None else qt_plugins_dir())
    if problem is None:
        return None
    return (
        f"the window cannot open on this X11 display: {problem}. Install the system libraries the README lists "
        "(Debian/Ubuntu: sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 …), "
        "or watch the book in the terminal: marginwatch watch"
    )
