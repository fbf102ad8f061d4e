"""Benchmark: first sync of an agent's whole portfolio from a loopback server (snapshot).

    python bench/sync_first.py --accounts 100000

Target (issue #3): 100,000 accounts in under 15 s, client peak memory under 400 MB.
The server runs in its own process; the figures are the client's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import figure, peak_mib
from _server import seeded_server
from _station import bench_station

from cobro_tui.server.run import free_port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        server, url, seeded = seeded_server(folder, args.accounts, "agente01", free_port())
        try:
            before, _ = peak_mib()
            station = bench_station(folder, "cache", url, "agente01", first_round=False)
            engine = station.cache
            started = time.perf_counter()
            report = station.sync.run_round()
            elapsed = time.perf_counter() - started
            if not report.ok:
                raise SystemExit(report.error)
            with engine.connect() as conn:
                accounts = conn.exec_driver_sql("SELECT count(*) FROM account").scalar_one()
            own, _ = peak_mib()
        finally:
            server.terminate()
            server.wait()
    print(f"sync_first: {args.accounts:,} accounts for one agent (server seeded in {seeded:.1f} s, not timed)")
    figure("first sync (snapshot), total", elapsed, "s", "< 15 s at 100,000")
    figure("accounts received", accounts, "accounts")
    figure("records received", report.snapshot_entities, "records")
    figure("records per second", report.snapshot_entities / elapsed, "rec/s")
    figure("client peak memory", own, "MiB", "< 400 MB")
    figure("client memory before the sync", before, "MiB")


if __name__ == "__main__":
    main()
