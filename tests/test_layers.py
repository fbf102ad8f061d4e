"""The layers of docs/architecture.md §2 hold: import-linter contracts from pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lint(cwd: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env_path = str(extra_path) if extra_path else str(ROOT / "src")
    return subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports())"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    )


def test_the_project_keeps_its_contracts() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 kept, 0 broken" in result.stdout


def test_the_contracts_catch_a_ui_that_imports_sqlalchemy(tmp_path: Path) -> None:
    # A copy of the package with one bad import proves the check can fail.
    package = tmp_path / "src" / "cobro_tui"
    shutil.copytree(ROOT / "src" / "cobro_tui", package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "ui" / "leak.py").write_text("import sqlalchemy\n")
    (package / "domain" / "leak.py").write_text("import httpx\n")
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    result = _lint(tmp_path, tmp_path / "src")
    assert result.returncode != 0
    assert "cobro_tui.ui.leak -> sqlalchemy" in result.stdout
    assert "cobro_tui.domain.leak -> httpx" in result.stdout
    assert "2 broken" in result.stdout
