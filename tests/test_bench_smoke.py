"""The benchmarks still run (at a small size); their figures are read by people, not asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli_env

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("load_portfolio.py", ["--accounts", "500"], "generate + load, total"),
        ("demo_start.py", ["--accounts", "300"], "process start to queue on screen"),
        ("sync_first.py", ["--accounts", "300"], "first sync (snapshot), total"),
        ("sync_incremental.py", ["--accounts", "300", "--rounds", "2", "--changes", "20", "--push", "30"], "pull, p95"),
        (
            "authority.py",
            ["--accounts", "300", "--push", "40", "--rounds", "2", "--changes", "20", "--pushes", "2"],
            "server, per mutation",
        ),
        ("sync_fleet.py", ["--stations", "3", "--seconds", "3", "--every", "1", "--sqlite"], "/v1/changes p95"),
        ("workstation.py", ["--accounts", "600", "--samples", "20"], "open an account, p95"),
        ("rules.py", ["--accounts", "500"], "decide"),
        (
            "queue_ui.py",
            ["--accounts", "300", "--presses", "10", "--opens", "3"],
            "ratio DataTable / paged queue: start",
        ),
        ("kpi.py", ["--accounts", "300", "--attempts", "3000", "--repeat", "1"], "KPI report, 90 days, every agent"),
        (
            "assignment.py",
            ["--accounts", "2000", "--agents", "5", "--held", "1000", "--batch", "500"],
            "assign 2,000, by count",
        ),
        ("export_events.py", ["--events", "2000", "--accounts", "300"], "export events --format csv, throughput"),
        ("import_portfolio.py", ["--accounts", "300"], "import, warm (the same files again), total"),
    ],
)
def test_benchmark_runs_small(tmp_path: Path, script: str, args: list[str], expected: str) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path),
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert expected in result.stdout
    print(result.stdout)
