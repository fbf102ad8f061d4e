"""Benchmark: a floor of workstations syncing against one server, each workstation its own process.

    python bench/sync_fleet.py --stations 500 --seconds 300            # 4 workers on PostgreSQL
    python bench/sync_fleet.py --stations 50 --seconds 300 --sqlite    # one process on a SQLite file

The bench starts what it measures: a throwaway PostgreSQL cluster on loopback (or a SQLite file),
seeded with one agent per workstation, and `cobro-tui serve --workers N` on it. Each workstation is a
separate process (forked after the imports, so memory is shared until written) with its own encrypted
cache: it signs in, takes its first sync, waits for the others, then for `--seconds` runs a sync round
every few seconds (`--every`, jittered), having first logged a contact (no answer, busy, wrong
number...) in most rounds, as an agent's wrap-ups and the background loop would. Latencies are
measured by the clients; the server's own timings come from its request log (one JSON line per
request, with its duration).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent / "tests"))  # the throwaway PostgreSQL cluster the tests use

import httpx
from _common import figure, peak_mib
from _server import NOW
from _station import bench_station, percentile

from cobro_tui.domain.models import Channel
from cobro_tui.server.run import free_port
from cobro_tui.services.contacts import ContactRefused
from cobro_tui.sync.client import Unreachable

SEED_SCRIPT = """
import sys
from datetime import datetime, UTC
from cobro_tui.policy import load_policy
from cobro_tui.server.auth import add_user
from cobro_tui.server.db import migrate, server_engine, write_tx
from cobro_tui.server.seed import _demo_hash, ensure_demo_users, load_demo_portfolio
url, accounts, stations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
agents = tuple(f"puesto{n:04d}" for n in range(stations))
engine = server_engine(url)
migrate(engine)
ensure_demo_users(engine)
with write_tx(engine) as conn:
    for agent in agents:
        add_user(conn, agent, "demo", "agent", password_hash=_demo_hash())
load_demo_portfolio(engine, accounts, 7, datetime(2026, 11, 22, 16, 30, tzinfo=UTC), load_policy().buckets, agents=agents)
"""


def agent_of(n: int) -> str:
    return f"puesto{n:04d}"


@contextmanager
def database(folder: Path, sqlite: bool) -> Iterator[str]:
    if sqlite:
        yield f"sqlite:///{folder / 'server.db'}"
        return
    from support.postgres import postgres_cluster

    with postgres_cluster(free_port()) as url:
        yield url


def start_server(url: str, workers: int, folder: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {"COBRO_NOW": NOW, "COBRO_DATA_DIR": str(folder), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cobro_tui", "serve", "--port", str(port), "--db", url, "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=out,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/v1/health/ready").status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server did not start:\n{log.read_text()[-2000:]}")


def station_main(n: int, url: str, folder: Path, seconds: float, every: float, barrier, starting, out: Path) -> None:  # type: ignore[no-untyped-def]
    """One workstation: first sync, then rounds until its time is up; its figures to `out`."""
    rng = random.Random(n)
    calls: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    measuring = False

    def on_request(request) -> None:  # type: ignore[no-untyped-def]
        request.extensions["started"] = time.perf_counter()

    def on_response(response) -> None:  # type: ignore[no-untyped-def]
        if measuring:
            calls[response.request.url.path].append(time.perf_counter() - response.request.extensions["started"])
            if response.status_code >= 500:
                errors.append(f"{response.request.url.path} {response.status_code}")

    hooks = {"request": [on_request], "response": [on_response]}
    retries = 0
    station = None
    with starting:  # a few sign-ins and first syncs at a time, as a shift arrives
        for attempt in range(8):  # a station whose sign-in timed out tries again
            try:
                station = bench_station(folder, f"s{n}-{attempt}", url, agent_of(n), hooks, accounts=50)
                break
            except (Unreachable, SystemExit):
                retries += 1
                time.sleep(1 + attempt + rng.random())
    try:
        barrier.wait(timeout=1800)
    except threading.BrokenBarrierError:  # the parent gave up waiting: said in the figures
        errors.append("start barrier broken")
    if station is None:
        errors.append("could not sign in")
        out.write_text(
            json.dumps(
                {
                    "calls": {},
                    "errors": errors,
                    "rounds": 0,
                    "failed": 0,
                    "contacts": 0,
                    "refused": 0,
                    "retries": retries,
                }
            )
        )
        return
    measuring = True
    rounds = failed = refused = contacts = 0
    stop = time.monotonic() + seconds
    time.sleep(rng.uniform(0, every))  # the floor's rounds spread over the interval
    while time.monotonic() < stop:
        if rng.random() < 0.7:
            account_id, customer_id = station.accounts[rng.randrange(len(station.accounts))]
            code = rng.choice(("NC", "NC", "NC", "BZ", "TE"))
            try:
                station.contacts.log(
                    account_id=account_id,
                    customer_id=customer_id,
                    channel=Channel.VOICE,
                    result_code=code,
                    started_at=station.clock.now() - timedelta(minutes=2),
                )
                contacts += 1
            except ContactRefused:  # the contact rules refused it (a limit reached): the agent moves on
                refused += 1
        report = station.sync.run_round()
        rounds += 1
        if not report.ok:
            failed += 1
            errors.append(f"round: {str(report.error)[:80]}")
        time.sleep(max(0.0, rng.uniform(0.5, 1.5) * every))
    out.write_text(
        json.dumps(
            {
                "calls": calls,
                "errors": errors,
                "rounds": rounds,
                "failed": failed,
                "contacts": contacts,
                "refused": refused,
                "retries": retries,
            }
        )
    )


def server_timings(log: Path, start: int) -> dict[str, list[float]]:
    """The server's own durations per route, from its request log after byte `start`."""
    timings: dict[str, list[float]] = defaultdict(list)
    with log.open("rb") as handle:
        handle.seek(start)
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == "request":
                timings[f"{entry['method']} {entry['route']}"].append(entry["ms"] / 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stations", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--every", type=float, default=4.0, help="seconds between a station's sync rounds (jittered)")
    parser.add_argument("--accounts-each", type=int, default=20, help="accounts per workstation's agent")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--starting", type=int, default=8, help="stations signing in and first syncing at once")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file and one worker")
    args = parser.parse_args()
    workers = 1 if args.sqlite else args.workers
    accounts = args.stations * args.accounts_each
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        with database(folder, args.sqlite) as url:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", SEED_SCRIPT, url, str(accounts), str(args.stations)], check=True)
            seeded = time.perf_counter() - started
            log = folder / "server.log"
            server, base = start_server(url, workers, folder, log)
            context = multiprocessing.get_context("fork")
            barrier = context.Barrier(args.stations + 1)
            starting = context.Semaphore(args.starting)
            outs = [folder / f"s{n}.json" for n in range(args.stations)]
            try:
                started = time.perf_counter()
                children = [
                    context.Process(
                        target=station_main,
                        args=(n, base, folder, args.seconds, args.every, barrier, starting, outs[n]),
                    )
                    for n in range(args.stations)
                ]
                for child in children:
                    child.start()
                barrier.wait(timeout=1800)
                ready = time.perf_counter() - started
                mark = log.stat().st_size
                for child in children:
                    child.join(args.seconds + 300)
                timings = server_timings(log, mark)
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(60)
        results = [json.loads(out.read_text()) for out in outs if out.exists()]
    calls: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    for result in results:
        for path, values in result["calls"].items():
            calls[path].extend(values)
        errors.extend(result["errors"])
    where = "SQLite, 1 process" if args.sqlite else f"PostgreSQL, {workers} workers"
    print(f"sync_fleet: {args.stations} workstations (one process each) for {args.seconds:.0f} s against {where}")
    figure("accounts seeded", accounts, "accounts")
    figure("seeding", seeded, "s")
    figure("sign-in and first sync of every station", ready, "s")
    figure("sign-ins or first syncs retried (timed out)", sum(r["retries"] for r in results), "stations")
    figure("stations that reported", len(results), "stations")
    figure("sync rounds", sum(r["rounds"] for r in results), "rounds")
    figure("rounds per second", sum(r["rounds"] for r in results) / args.seconds, "rounds/s")
    figure("contacts logged", sum(r["contacts"] for r in results), "contacts")
    figure("contacts the rules refused on the station", sum(r["refused"] for r in results), "contacts")
    figure("failed rounds", sum(r["failed"] for r in results), "rounds")
    figure("errors (5xx, failed rounds, crashes)", len(errors) + args.stations - len(results), "errors")
    for error in sorted(set(errors))[:5]:
        print(f"  e.g. {error}")
    targets = {"/v1/mutations": "p95 <= 200 ms", "/v1/changes": "p95 <= 100 ms"}
    for path, values in sorted(calls.items()):
        for share in (0.5, 0.95, 0.99):
            target = targets.get(path, "") if share == 0.95 else ""
            label = f"client {path} p{round(share * 100)}" + (f" ({len(values)} calls)" if share == 0.5 else "")
            figure(label, percentile(values, share) * 1000, "ms", target)
    for route, values in sorted(timings.items()):
        if len(values) >= 10:
            figure(f"server {route} p50 ({len(values)})", percentile(values, 0.5) * 1000, "ms")
            figure(f"server {route} p95", percentile(values, 0.95) * 1000, "ms")
            figure(f"server {route} p99", percentile(values, 0.99) * 1000, "ms")
    own, children_peak = peak_mib()
    figure("peak memory: bench / largest child", max(own, children_peak), "MiB")


if __name__ == "__main__":
    main()
