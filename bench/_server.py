"""A seeded reference server in its own process, so a benchmark measures only the client."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

SEED_SCRIPT = """
import sys
from datetime import datetime, UTC
from cobro_tui.clock import FixedClock
from cobro_tui.policy import load_policy
from cobro_tui.server.db import migrate, server_engine
from cobro_tui.server.seed import ensure_demo_users, load_demo_portfolio
url, accounts, agents = sys.argv[1], int(sys.argv[2]), tuple(sys.argv[3].split(","))
engine = server_engine(url)
migrate(engine)
ensure_demo_users(engine)
load_demo_portfolio(engine, accounts, 7, datetime(2026, 11, 22, 16, 30, tzinfo=UTC), load_policy().buckets, agents=agents)
"""
NOW = "2026-11-22T10:30:00-06:00"


def seeded_server(folder: Path, accounts: int, agents: str, port: int) -> tuple[subprocess.Popen[bytes], str, float]:
    """Seed a SQLite server database and serve it; returns (process, url, seconds spent seeding)."""
    url = f"sqlite:///{folder / 'server.db'}"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", SEED_SCRIPT, url, str(accounts), agents], check=True)
    seeded = time.perf_counter() - started
    env = {"COBRO_NOW": NOW, "COBRO_DATA_DIR": str(folder), "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen(
        [sys.executable, "-m", "cobro_tui", "serve", "--port", str(port), "--db", url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/v1/health").status_code == 200:
                return process, base, seeded
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")
