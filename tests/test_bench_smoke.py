"""The benchmarks still run (at a small size); their figures are read by people, not asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli_env

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.slow
@pytest.mark.parametrize(("script", "expected"), [("load_portfolio.py", "generate + load, total"),
                                                  ("demo_start.py", "process start to queue on screen")])
def test_benchmark_runs_small(tmp_path: Path, script: str, expected: str) -> None:
    result = subprocess.run([sys.executable, str(BENCH / script), "--accounts", "500"], capture_output=True, text=True,
                            env=cli_env(tmp_path), timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert expected in result.stdout
    print(result.stdout)
