"""Processes killed at the worst moments: the server mid-push, the workstation mid-pull."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import TESTS, cli_env
from sqlalchemy import func, select
from sync_support import make_station, server_view

from cobro_tui.clock import FixedClock
from cobro_tui.policy import Policy
from cobro_tui.server.db import server_engine
from cobro_tui.server.run import free_port
from cobro_tui.server.schema import entities, mutation_log
from cobro_tui.store.device import ensure_device
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.migrate import upgrade
from cobro_tui.store.sync_store import set_server

NOW = "2026-11-22T10:30:00-06:00"


def start_server(tmp_path: Path, port: int, demo: int | None = 400) -> subprocess.Popen[bytes]:
    args = [
        sys.executable,
        "-m",
        "cobro_tui",
        "serve",
        "--port",
        str(port),
        "--db",
        f"sqlite:///{tmp_path / 'server.db'}",
    ]
    if demo:
        args += ["--demo", str(demo), "--seed", "5"]
    process = subprocess.Popen(
        args, env=cli_env(tmp_path / "srv", COBRO_NOW=NOW), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    pytest.fail("the server did not start")


@pytest.mark.slow
def test_killing_the_server_mid_push_loses_nothing_and_doubles_nothing(
    tmp_path: Path, clock: FixedClock, policy: Policy
) -> None:
    port = free_port()
    server = start_server(tmp_path, port)
    url = f"http://127.0.0.1:{port}"
    try:
        station = make_station(tmp_path, "a1", url, "agente01", clock, policy, timeout=5)
        assert station.round().ok
        accounts = station.accounts()
        for n in range(300):
            station.log_contact(accounts[n % len(accounts)])
        pushing = threading.Thread(target=station.round)
        pushing.start()
        time.sleep(0.4)  # the push is under way: some mutations committed, one maybe between commit and reply
        server.send_signal(signal.SIGKILL)
        server.wait()
        pushing.join()
        server = start_server(tmp_path, port, demo=None)  # the same database comes back
        for _ in range(3):
            if station.round().ok:
                break
        assert station.round().ok
        database = server_engine(f"sqlite:///{tmp_path / 'server.db'}")
        with database.connect() as conn:
            assert conn.execute(select(func.count()).select_from(mutation_log)).scalar_one() == 300
            ids = (
                conn.execute(
                    select(entities.c.id).where(
                        entities.c.kind == "contact_attempt", entities.c.data.like('%"agent": "agente01"%')
                    )
                )
                .scalars()
                .all()
            )
        assert len(ids) == len(set(ids))
        assert {state for _, state, _ in station.outbox()} <= {"applied", "applied_with_warnings"}
        assert station.view() == server_view(database, "agente01")
        database.dispose()
    finally:
        server.kill()
        server.wait()


@pytest.mark.slow
def test_killing_the_workstation_mid_pull_leaves_a_cache_that_finishes_the_job(tmp_path: Path) -> None:
    port = free_port()
    server = start_server(tmp_path, port, demo=2000)
    url = f"http://127.0.0.1:{port}"
    try:
        cache = CacheFile(tmp_path / "cache.db", secrets.token_bytes(32))
        engine = cache.open()
        upgrade(engine)
        ensure_device(engine, "agente01")
        set_server(engine, url)
        engine.dispose()
        token = httpx.post(f"{url}/v1/auth/login", json={"username": "agente01", "password": "demo"}).json()["token"]
        # Small snapshot pages, and a kill after the 1st, 2nd and 3rd page written: mid-pull every time.
        env = dict(
            os.environ,
            CACHE_PATH=str(cache.path),
            CACHE_KEY=cache.key.hex(),
            TOKEN=token,
            PYTHONPATH=str(TESTS),
            PAGE_LIMIT="300",
        )
        for pages in (1, 2, 3):
            child = subprocess.Popen(
                [sys.executable, str(TESTS / "support" / "sync_child.py")], env=env, stdout=subprocess.PIPE, text=True
            )
            assert child.stdout is not None
            for _ in range(pages):
                assert child.stdout.readline().startswith("page")
            child.send_signal(signal.SIGKILL)
            child.wait()
        finisher = subprocess.run(
            [sys.executable, str(TESTS / "support" / "sync_child.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert finisher.stdout.strip().splitlines()[-1] == "done", finisher.stdout + finisher.stderr
        engine = cache.open()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
            assert conn.exec_driver_sql("SELECT cursor FROM sync_meta").scalar_one() is not None
        database = server_engine(f"sqlite:///{tmp_path / 'server.db'}")
        from sync_support import CACHE_TABLES

        local = {}
        with engine.connect() as conn:
            for kind, table in CACHE_TABLES.items():
                for entity_id, version in conn.exec_driver_sql(f"SELECT id, server_version FROM {table}"):
                    local[(kind, entity_id)] = version
        assert local == server_view(database, "agente01")
        engine.dispose()
        database.dispose()
    finally:
        server.kill()
        server.wait()
