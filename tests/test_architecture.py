"""The engine never imports Qt: the import-linter contract holds, and it does catch a violation."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(cwd: Path, env_path: str | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is part of the test extras"
    env = {"PATH": str(Path(sys.executable).parent), "PYTHONPATH": env_path or ""}
    return subprocess.run([exe], cwd=cwd, capture_output=True, text=True, timeout=120, env=env, check=False)


def test_engine_contract_holds():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KEPT" in result.stdout


def _skeleton(tmp_path: Path) -> None:
    """Every package of the real tree, empty, and the import-linter section of pyproject.toml."""
    for init in [*ROOT.glob("engine/**/__init__.py"), *ROOT.glob("desktop/**/__init__.py")]:
        folder = tmp_path / init.parent.relative_to(ROOT)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").write_text("")
    for module in ("desktop/app.py",):
        (tmp_path / module).write_text("")
    config = (ROOT / "pyproject.toml").read_text()
    section = config[config.index("[tool.importlinter]") :]
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(section))


def test_contract_fails_when_the_engine_imports_qt(tmp_path):
    _skeleton(tmp_path)
    (tmp_path / "engine" / "leaky.py").write_text("from PySide6.QtCore import QObject\n")
    result = lint_imports(tmp_path, env_path=str(tmp_path))
    assert result.returncode != 0
    assert "engine.leaky -> PySide6" in result.stdout


def test_contract_fails_when_the_margin_math_reaches_up_into_the_monitor(tmp_path):
    _skeleton(tmp_path)
    (tmp_path / "engine" / "monitor" / "alerts.py").write_text("")
    (tmp_path / "engine" / "margin" / "risk.py").write_text("import engine.monitor.alerts\n")
    result = lint_imports(tmp_path, env_path=str(tmp_path))
    assert result.returncode != 0
    assert "engine.margin.risk -> engine.monitor.alerts" in result.stdout
