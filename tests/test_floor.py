"""One server for a floor: `serve --workers 4` on PostgreSQL keeps the feed, the long-poll, the sweeps
and the approvals right across processes; it drains on SIGTERM; two processes seed one database
without deadlocks; health says live and ready."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from conftest import NOW
from sqlalchemy import Engine, func, select, text
from support.postgres import postgres_cluster
from sync_support import auth_headers, make_station, server_view

from cobro_tui.clock import FixedClock
from cobro_tui.policy import Policy
from cobro_tui.server import keeping
from cobro_tui.server.db import migrate, server_engine
from cobro_tui.server.feed import head_seq
from cobro_tui.server.run import ServerThread, free_port
from cobro_tui.server.schema import change_log, entities

needs_postgres = pytest.mark.skipif(
    shutil.which("initdb") is None and not os.environ.get("CI"),
    reason="needs PostgreSQL's server tools (initdb, pg_ctl); .ci/run installs them, so CI always runs this",
)


def _env(tmp_path: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COBRO_")}
    return {**env, "COBRO_NOW": NOW.isoformat(), "COBRO_DATA_DIR": str(tmp_path / "data"), **more}


def _start(args: list[str], env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`cobro-tui serve ...` in its own process; returns it once /v1/health/ready answers 200."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cobro_tui", "serve", "--port", str(port), *args], env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/v1/health/ready", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"the server did not become ready:\n{log.read_text()[-3000:]}")


def _workers(pid: int) -> int:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return sum(1 for child in children if b"spawn" in Path(f"/proc/{child}/cmdline").read_bytes())


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with postgres_cluster(free_port()) as url:
        yield url


def _database(base: str, name: str) -> str:
    """A fresh database `name` in the cluster of `base`; its URL."""
    admin = server_engine(base).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return base.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="module")
def floor(
    pg_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Engine, subprocess.Popen[bytes]]]:
    """`serve --workers 4 --demo 400` on PostgreSQL, as a floor runs it."""
    folder = tmp_path_factory.mktemp("floor")
    url = _database(pg_url, "floor")
    process, served = _start(["--workers", "4", "--db", url, "--demo", "400"], _env(folder), folder / "server.log")
    engine = server_engine(url)
    try:
        yield served, engine, process
    finally:
        process.terminate()
        process.wait(30)
        engine.dispose()


@pytest.mark.slow
@needs_postgres
def test_four_workers_keep_the_feed_in_commit_order_and_every_workstation_whole(
    floor: tuple[str, Engine, subprocess.Popen[bytes]], tmp_path: Path, clock: FixedClock, policy: Policy
) -> None:
    url, engine, process = floor
    assert _workers(process.pid) == 4
    agents = ("agente01", "agente02", "agente03", "agente04")
    stations = [
        make_station(tmp_path, f"w{n}", url, agent, clock, policy, timeout=30) for n, agent in enumerate(agents)
    ]
    failures: list[str] = []

    def work(station) -> None:
        if not (first := station.round()).ok:
            failures.append(f"{station.agent}: {first.error}")
            return
        accounts = station.accounts()
        try:
            for n in range(6):
                for account in accounts[n * 2 : n * 2 + 2]:
                    station.log_contact(account)
                station.promise(accounts[-1 - n][0], 300)
                if not (report := station.round()).ok:
                    failures.append(f"{station.agent}: {report.error}")
        except Exception as exc:
            failures.append(f"{station.agent}: {exc!r}")

    seen: list[tuple[int, int]] = []
    done = threading.Event()

    def tail() -> None:
        # What a reader of the feed sees while the four push: the last seq and how many are up to it.
        while not done.is_set():
            with engine.connect() as conn:
                last, count = conn.execute(select(func.max(change_log.c.seq), func.count())).one()
            seen.append((last or 0, count))
            time.sleep(0.02)

    threads = [threading.Thread(target=work, args=(s,)) for s in stations]
    reader = threading.Thread(target=tail)
    reader.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    reader.join()
    assert failures == []
    for station in stations:
        assert station.round().ok
        assert {state for _, state, _ in station.outbox()} <= {"applied", "rejected"}
        assert station.view() == server_view(engine, station.agent)
    # Seq order is commit order: no change ever appeared later below a seq a reader had already seen
    # (a reader that moved its cursor past it would have skipped it).
    assert len({last for last, _ in seen}) > 3  # the reader saw the feed move while the workers wrote
    with engine.connect() as conn:
        for last, count in seen:
            assert conn.execute(select(func.count()).where(change_log.c.seq <= last)).scalar_one() == count


@pytest.mark.slow
@needs_postgres
def test_a_push_on_one_worker_wakes_the_pulls_waiting_on_the_others(
    floor: tuple[str, Engine, subprocess.Popen[bytes]], tmp_path: Path, clock: FixedClock, policy: Policy
) -> None:
    url, _, _ = floor
    agents = ("agente05", "agente06", "agente07", "agente08", "agente09", "agente10")
    stations = [
        make_station(tmp_path, f"p{n}", url, agent, clock, policy, timeout=30) for n, agent in enumerate(agents)
    ]
    cursors = {}
    for station in stations:
        assert station.round().ok
        headers = auth_headers(url, station.agent)
        cursors[station.agent] = (headers, httpx.get(f"{url}/v1/changes", headers=headers).json()["next_cursor"])
    answered: dict[str, dict] = {}

    def wait_for(agent: str) -> None:
        headers, cursor = cursors[agent]
        # Each pull on its own connection: the kernel hands them to the four workers.
        answered[agent] = httpx.get(
            f"{url}/v1/changes", params={"cursor": cursor, "wait": 25}, headers=headers, timeout=60
        ).json()

    waiting = [threading.Thread(target=wait_for, args=(a,)) for a in agents]
    for thread in waiting:
        thread.start()
    time.sleep(1.5)  # the pulls are waiting (a pull that is not yet waiting finds the change at once: the same answer)
    for station in stations:
        station.log_contact(station.accounts()[0])
        assert station.round().ok
    for thread in waiting:
        thread.join()
    for agent in agents:
        kinds = {c["entity"] for c in answered[agent]["changes"]}
        assert "contact_attempt" in kinds, (agent, answered[agent])


@pytest.mark.slow
@needs_postgres
def test_sweeps_from_every_worker_break_each_promise_once_and_approvals_are_decided_once(
    floor: tuple[str, Engine, subprocess.Popen[bytes]], tmp_path: Path, clock: FixedClock, policy: Policy
) -> None:
    from test_approvals import _held_promise

    url, engine, _ = floor
    station, _, _ = _held_promise(tmp_path, (engine, SimpleNamespace(url=url)), clock, policy)
    mutation_id = next(m for m, state, _ in station.outbox() if state == "deferred")
    decisions: list[int] = []

    def decide(supervisor: str, decision: str) -> None:
        decisions.append(
            httpx.post(
                f"{url}/v1/approvals/{mutation_id}",
                headers=auth_headers(url, supervisor),
                json={"decision": decision, "reason": "decidido desde dos puestos a la vez"},
                timeout=30,
            ).status_code
        )

    deciders = [threading.Thread(target=decide, args=("supervisor01", d)) for d in ("approve", "deny", "approve")]
    for thread in deciders:
        thread.start()
    for thread in deciders:
        thread.join()
    assert sorted(decisions) == [200, 409, 409]

    # Every open promise of the floor past its grace: four sweeps at once (as four workers would) break each once.
    later = NOW + timedelta(days=30)
    with engine.connect() as conn:
        before = head_seq(conn)
    counts: list[int] = []
    sweepers = [threading.Thread(target=lambda: counts.append(keeping.sweep(engine, later))) for _ in range(4)]
    for thread in sweepers:
        thread.start()
    for thread in sweepers:
        thread.join()
    with engine.connect() as conn:
        judged = conn.execute(
            select(change_log.c.entity_id, func.count())
            .where(change_log.c.seq > before, change_log.c.kind == "promise")
            .group_by(change_log.c.entity_id)
        ).all()
        broken = conn.execute(
            select(func.count()).where(entities.c.kind == "promise", entities.c.data.like('%"status": "broken"%'))
        ).scalar_one()
    assert judged and all(count == 1 for _, count in judged)  # no promise judged twice
    assert broken >= len(judged)
    assert keeping.sweep(engine, later) == 0  # and nothing is left to judge


@pytest.mark.slow
@needs_postgres
def test_sigterm_answers_the_waiting_pulls_and_stops_cleanly(
    pg_url: str, tmp_path: Path, clock: FixedClock, policy: Policy
) -> None:
    url = _database(pg_url, "drain")
    # A grace of 2 s: a pull still waiting when it ends would be cut off (no answer); drained, it answers.
    env = _env(tmp_path, COBRO_SERVER__SHUTDOWN_GRACE_SECONDS="2")
    process, served = _start(["--workers", "2", "--db", url, "--demo", "50"], env, tmp_path / "server.log")
    try:
        headers = auth_headers(served, "agente01")
        station = make_station(tmp_path, "drain", served, "agente01", clock, policy, timeout=30)
        assert station.round().ok
        cursor = httpx.get(f"{served}/v1/changes", headers=headers).json()["next_cursor"]
        answers: list[httpx.Response | Exception] = []

        def pull() -> None:
            try:
                answers.append(
                    httpx.get(
                        f"{served}/v1/changes", params={"cursor": cursor, "wait": 25}, headers=headers, timeout=60
                    )
                )
            except httpx.HTTPError as exc:
                answers.append(exc)

        pulls = [threading.Thread(target=pull) for _ in range(4)]
        for thread in pulls:
            thread.start()
        time.sleep(1.5)
        process.send_signal(signal.SIGTERM)
        for thread in pulls:
            thread.join()
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert [getattr(a, "status_code", a) for a in answers] == [200] * 4
    assert all(a.json()["changes"] == [] for a in answers if isinstance(a, httpx.Response))
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log and "unhandled" not in log


SEED = """
import sys
from datetime import datetime, UTC
from cobro_tui.clock import FixedClock
from cobro_tui.server.run import prepare
prepare(sys.argv[1], FixedClock(datetime(2026, 11, 22, 16, 30, tzinfo=UTC)), demo_accounts=300, seed=int(sys.argv[2]))
"""


@pytest.mark.slow
@needs_postgres
def test_two_processes_seeding_one_database_never_deadlock(pg_url: str) -> None:
    for attempt in range(8):
        url = _database(pg_url, f"seed{attempt}")
        both = [
            subprocess.Popen([sys.executable, "-c", SEED, url, "7"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        outcomes = [(p.wait(300), p.stderr.read().decode() if p.stderr else "") for p in both]
        assert [code for code, _ in outcomes] == [0, 0], outcomes
        assert not any("deadlock" in err.lower() for _, err in outcomes)
        engine = server_engine(url)
        with engine.connect() as conn:
            accounts = conn.execute(select(func.count()).where(entities.c.kind == "account")).scalar_one()
        engine.dispose()
        assert accounts == 300  # seeded once: the second found the work done


def test_serve_refuses_several_workers_on_sqlite_and_says_what_to_use(tmp_path: Path) -> None:
    for lang, expected in (("es", "requiere PostgreSQL"), ("en", "needs PostgreSQL")):
        result = subprocess.run(
            [sys.executable, "-m", "cobro_tui", "serve", "--workers", "4", "--port", str(free_port())],
            env=_env(tmp_path, COBRO_LANG=lang),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2 and expected in result.stderr, result.stderr
    zero = subprocess.run(
        [sys.executable, "-m", "cobro_tui", "serve", "--workers", "0"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert zero.returncode == 2 and "--workers debe estar entre 1 y 64" in zero.stderr


def test_readiness_says_why_a_server_is_not_ready_and_liveness_needs_nothing(tmp_path: Path) -> None:
    engine = server_engine(f"sqlite:///{tmp_path / 'server.db'}")
    with ServerThread(engine, FixedClock(NOW)) as thread:
        assert httpx.get(f"{thread.url}/v1/health/live").json()["status"] == "live"
        unmigrated = httpx.get(f"{thread.url}/v1/health/ready")
        assert unmigrated.status_code == 503 and unmigrated.json()["code"] == "NOT_READY"
        assert "does not answer" in unmigrated.json()["message"]  # no migration table yet
        migrate(engine)
        ready = httpx.get(f"{thread.url}/v1/health/ready")
        assert ready.status_code == 200 and ready.json() == {
            "status": "ready",
            "version": ready.json()["version"],
            "database": "sqlite",
        }
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 's0001'"))
        behind = httpx.get(f"{thread.url}/v1/health/ready").json()
        assert behind["code"] == "NOT_READY" and "s0001" in behind["message"]
        with engine.begin() as conn:
            from cobro_tui.server.routes_health import schema_head

            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": schema_head()})
        thread.app.state.gate.watch.draining.set()
        draining = httpx.get(f"{thread.url}/v1/health/ready")
        assert draining.status_code == 503 and draining.json()["code"] == "SHUTTING_DOWN"
        assert httpx.get(f"{thread.url}/v1/health/live").status_code == 200
    engine.dispose()


@pytest.mark.slow
@needs_postgres
def test_a_database_that_stops_answering_gets_503_and_readiness_says_so(pg_url: str, tmp_path: Path) -> None:
    from cobro_tui.server.run import prepare

    url = _database(pg_url, "gone")
    engine = prepare(url, FixedClock(NOW), demo_accounts=20)
    with ServerThread(engine, FixedClock(NOW)) as thread:
        headers = auth_headers(thread.url, "agente01")
        admin = server_engine(pg_url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("ALTER DATABASE gone ALLOW_CONNECTIONS false"))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'gone'"))
        try:
            answer = httpx.get(f"{thread.url}/v1/changes", headers=headers, timeout=30)
            assert answer.status_code == 503 and answer.json()["code"] == "SERVER_BUSY"
            assert answer.headers["Retry-After"] == "2"
            ready = httpx.get(f"{thread.url}/v1/health/ready", timeout=30)
            assert ready.status_code == 503 and "does not answer" in ready.json()["message"]
        finally:
            with admin.connect() as conn:
                conn.execute(text("ALTER DATABASE gone ALLOW_CONNECTIONS true"))
            admin.dispose()
        assert httpx.get(f"{thread.url}/v1/changes", headers=headers, timeout=30).status_code == 200
    engine.dispose()
