"""Benchmark: the change export (issue #16) of a large backlog, as the core's scheduler runs it.

    python bench/export_events.py --events 100000

Seeds a SQLite server with the demo portfolio, then writes --events export events (contacts with
their PCR and notes, promises and their outcomes, opt-outs, in realistic proportions) through
server.export.export_event in transactions of 5,000 (timed: the cost of the export rows alone).
Then serves the database from `cobro-tui serve` in its own process and times reading every page
of GET /v1/export/events (limit 5,000) from this process, and `cobro-tui export events` writing
JSON Lines and CSV files, each in its own process (peak memory from its own rusage).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench")]

import httpx
from _common import figure

from cobro_tui.domain.ids import new_id
from cobro_tui.policy import load_policy
from cobro_tui.server import auth
from cobro_tui.server.db import migrate, server_engine, write_tx
from cobro_tui.server.export import export_event
from cobro_tui.server.feed import Seqs, Tx
from cobro_tui.server.run import free_port
from cobro_tui.server.seed import ensure_demo_users, load_demo_portfolio

NOW = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)
BATCH = 5000
NOTE = "Cliente indica que le pagan el día 15; pide llamar por la tarde. Se ofreció convenio a 6 meses."


def _payload(i: int, account: str) -> tuple[str, dict[str, Any]]:
    """One event of a realistic mix: 70 % contacts, 12 % promises, 12 % outcomes, 6 % opt-outs."""
    slot = i % 50
    base = {"id": new_id(), "account_id": account, "account_number": f"41523100{i % 10**8:08d}"}
    if slot < 35:
        return "contact.logged", {
            **base,
            "customer_id": "c" + account[-8:],
            "agent": f"agente{1 + i % 9:02d}",
            "channel": "voice",
            "direction": "outbound",
            "contact_point_id": new_id(),
            "contact_point_value": f"+52155{i % 10**8:08d}",
            "started_at": (NOW - timedelta(seconds=i)).isoformat(timespec="microseconds"),
            "ended_at": (NOW - timedelta(seconds=i - 90)).isoformat(timespec="microseconds"),
            "result_code": "PP" if slot % 5 == 0 else "NC",
            "right_party_contact": slot % 5 == 0,
            "problem_code": "desempleo" if slot % 5 == 0 else None,
            "circumstance": "perdió el empleo en octubre" if slot % 5 == 0 else "",
            "resolution": "promesa de pago" if slot % 5 == 0 else "",
            "notes": NOTE if slot % 3 == 0 else "",
            "callback_at": None,
            "override_reason": None,
            "compliance": None,
        }
    if slot < 41:
        return "promise.created", {
            **base,
            "amount_centavos": 150_000,
            "currency": "MXN",
            "due_on": "2026-11-27",
            "channel": "spei",
            "created_by": "agente01",
            "created_at": NOW.isoformat(timespec="microseconds"),
            "grace_days": 2,
            "approved_by": None,
        }
    if slot < 47:
        return "promise.outcome", {
            **base,
            "amount_centavos": 150_000,
            "currency": "MXN",
            "due_on": "2026-11-27",
            "channel": "spei",
            "created_by": "agente01",
            "status": "kept",
            "previous_status": "open",
            "paid_centavos": 150_000,
            "grace_days": 2,
        }
    return "restriction.recorded", {
        "id": base["id"],
        "customer_id": "c" + account[-8:],
        "account_ids": [account],
        "account_numbers": [base["account_number"]],
        "restriction_kind": "opt_out",
        "channel": "voice",
        "contact_point_id": new_id(),
        "contact_point_kind": "mobile",
        "contact_point_value": f"+52155{i % 10**8:08d}",
        "created_at": NOW.isoformat(timespec="microseconds"),
        "source": "agent",
        "recorded_by": "agente01",
        "note": "",
    }


def write_events(engine, events: int, accounts: list[str]) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for start in range(0, events, BATCH):
        with write_tx(engine) as conn:
            seqs = Seqs(conn)
            tx = Tx(conn, NOW, seqs)
            for i in range(start, min(events, start + BATCH)):
                kind, payload = _payload(i, accounts[i % len(accounts)])
                export_event(tx, kind, payload)
            seqs.flush()
    return time.perf_counter() - started


# The command run in its own process, which reports its own peak (VmHWM: this process's, reset at
# exec; a child's ru_maxrss on Linux starts from its parent's size at the fork).
CLI = """
import sys
from cobro_tui.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1])
sys.exit(code)
"""


def high_water(pid: int | str = "self") -> float:
    """A live process's peak resident memory, MiB (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        return int(next(line for line in status if line.startswith("VmHWM")).split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cobro-export-bench-") as folder_text:
        folder = Path(folder_text)
        url = f"sqlite:///{folder / 'server.db'}"
        engine = server_engine(url)
        migrate(engine)
        ensure_demo_users(engine)
        load_demo_portfolio(engine, args.accounts, 7, NOW, load_policy().buckets)
        with engine.connect() as conn:
            accounts = [r[0] for r in conn.exec_driver_sql("SELECT id FROM entities WHERE kind = 'account'")]
        with write_tx(engine) as conn:
            _, key = auth.new_integration_key(conn, "bench", ("export",), "bench", NOW)
        written = write_events(engine, args.events, accounts)
        engine.dispose()
        size = (folder / "server.db").stat().st_size / 2**20

        port = free_port()
        env = {**os.environ, "COBRO_NOW": NOW.isoformat(), "COBRO_DATA_DIR": str(folder / "server-data")}
        server = subprocess.Popen(
            [sys.executable, "-m", "cobro_tui", "serve", "--port", str(port), "--db", url],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.1)
            headers = {"Authorization": f"Bearer {key}"}
            httpx.get(f"{base}/v1/export/events", params={"limit": 1}, headers=headers).raise_for_status()  # sweep
            started = time.perf_counter()
            cursor, count = None, 0
            with httpx.Client(timeout=120) as client:
                while True:
                    params: dict[str, Any] = {"limit": 5000, **({"cursor": cursor} if cursor else {})}
                    page = client.get(f"{base}/v1/export/events", params=params, headers=headers).json()
                    count += len(page["events"])
                    cursor = page["next_cursor"]
                    if not page["has_more"]:
                        break
            api = time.perf_counter() - started
            runs = {}
            for fmt in ("jsonl", "csv"):
                out = folder / f"events.{fmt}"
                started = time.perf_counter()
                report = folder / f"peak.{fmt}"
                cli = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        CLI,
                        str(report),
                        "export",
                        "events",
                        "--server",
                        base,
                        "--since",
                        (NOW - timedelta(days=1)).isoformat(),
                        "--format",
                        fmt,
                        "--page-size",
                        "5000",
                        "--output",
                        str(out),
                    ],
                    env={**env, "COBRO_INTEGRATION_KEY": key, "COBRO_DATA_DIR": str(folder / "cli-data")},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                if cli.returncode != 0:
                    raise SystemExit(f"export events --format {fmt} failed ({cli.returncode})")
                peak = int(report.read_text()) / 1024
                lines = sum(1 for _ in out.open(encoding="utf-8")) - (1 if fmt == "csv" else 0)
                runs[fmt] = (time.perf_counter() - started, peak, out.stat().st_size / 2**20, lines)
            server_peak = high_water(server.pid)
        finally:
            server.terminate()
            server.wait()

    print(f"export of {args.events:,} events ({args.accounts:,} accounts; server database {size:,.0f} MiB)")
    figure("write export rows, total", written, "s")
    figure("write export rows, per event", written / args.events * 1e6, "µs")
    figure("GET /v1/export/events, every page", api, "s")
    figure("GET /v1/export/events, throughput", count / api, "events/s")
    for fmt, (seconds, peak, mib, lines) in runs.items():
        assert lines >= args.events, (fmt, lines)
        figure(f"export events --format {fmt}, total", seconds, "s")
        figure(f"export events --format {fmt}, throughput", lines / seconds, "events/s")
        figure(f"export events --format {fmt}, peak memory", peak, "MiB")
        figure(f"export events --format {fmt}, file", mib, "MiB")
    figure("server, peak memory", server_peak, "MiB")
    figure("this process, peak memory", high_water(), "MiB")


if __name__ == "__main__":
    main()
