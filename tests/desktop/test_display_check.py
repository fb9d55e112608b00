"""Before Qt aborts (exit 134), the window says why it cannot open: no display, or a missing system library."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.platform.display_check import display_problem, qt_plugins_dir, xcb_plugin_problem

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is Linux's")


@linux_only
def test_without_any_display_the_window_points_to_watch():
    problem = display_problem({})
    assert problem is not None and problem.startswith("no display")
    assert "marginwatch watch" in problem


@linux_only
def test_a_platform_that_needs_no_display_is_not_questioned():
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert display_problem({"QT_QPA_PLATFORM": "minimal"}) is None


@linux_only
def test_wayland_is_left_to_qt():
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None


@linux_only
def test_pyside6s_own_x11_plugin_is_judged_as_the_loader_judges_it():
    """On a machine with the X11 libraries the real plugin loads and nothing is said; on one without them (a
    fresh server, CI) the check names a library that ldd also reports as not found."""
    plugin = qt_plugins_dir() / "platforms" / "libqxcb.so"
    if not plugin.is_file():
        pytest.skip("this Qt has no X11 plugin")
    ldd = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, check=False).stdout
    not_found = {line.split("=>")[0].strip() for line in ldd.splitlines() if "not found" in line}
    problem = xcb_plugin_problem(qt_plugins_dir())
    if not not_found:
        assert problem is None
    else:
        assert problem is not None and problem.startswith("the system library ")
        assert problem.removeprefix("the system library ").removesuffix(" is missing") in not_found


def _plugin_missing_a_library(tmp_path: Path) -> Path:
    """A copy of Qt's X11 plugin whose first needed Qt library is renamed to one that exists nowhere, in a
    plugins folder laid out as Qt's (its RPATH $ORIGIN/../../lib reaches Qt's real libraries)."""
    real = qt_plugins_dir()
    plugin = real / "platforms" / "libqxcb.so"
    if not plugin.is_file():
        pytest.skip("this Qt has no X11 plugin")
    data = plugin.read_bytes()
    assert data.count(b"libQt6XcbQpa.so.6") == 1
    qt = tmp_path / "Qt"
    (qt / "plugins" / "platforms").mkdir(parents=True)
    (qt / "lib").symlink_to(real.parent / "lib")
    (qt / "plugins" / "platforms" / "libqxcb.so").write_bytes(data.replace(b"libQt6XcbQpa.so.6", b"libQt6XcbQpZ.so.6"))
    return qt / "plugins"


@linux_only
def test_a_missing_library_is_named(tmp_path):
    plugins = _plugin_missing_a_library(tmp_path)
    assert xcb_plugin_problem(plugins) == "the system library libQt6XcbQpZ.so.6 is missing"
    problem = display_problem({"DISPLAY": ":0"}, plugins)
    assert problem is not None and "libQt6XcbQpZ.so.6 is missing" in problem and "README" in problem


@linux_only
def test_the_app_without_a_display_exits_with_one_line_instead_of_an_abort(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from desktop.cli import main; sys.exit(main())",
            "--demo",
            "--data-dir",
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [f"marginwatch: {display_problem({})}"]
