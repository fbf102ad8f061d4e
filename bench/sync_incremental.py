"""Benchmark: incremental pulls of 500 changes and pushes of 1,000 queued mutations.

    python bench/sync_incremental.py --accounts 10000 --rounds 20

Targets (issue #3): a pull of 500 changes p95 under 150 ms; 1,000 queued mutations pushed in under 3 s.
A second workstation of the same agent makes the changes the first one pulls.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import figure
from _server import seeded_server
from _station import bench_station, percentile

from cobro_tui.server.run import free_port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--push", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        server, url, _ = seeded_server(folder, args.accounts, "agente01", free_port())
        try:
            reader = bench_station(folder, "reader", url, "agente01")
            writer = bench_station(folder, "writer", url, "agente01")
            # Each contact logged by the writer is one change (plus its account's, the first time that day).
            per_round = args.changes
            pulls: list[float] = []
            pulled = 0
            for _ in range(args.rounds):
                writer.log_contacts(per_round)
                if not writer.sync.run_round().ok:
                    raise SystemExit("the writer could not push")
                started = time.perf_counter()
                report = reader.sync.run_round()
                pulls.append(time.perf_counter() - started)
                pulled += report.pulled
            pusher = bench_station(folder, "pusher", url, "agente01")
            pusher.log_contacts(args.push)
            started = time.perf_counter()
            report = pusher.sync.run_round()
            push_time = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait()
    print(f"sync_incremental: {args.accounts:,} accounts on the server, {args.rounds} rounds")
    figure("changes per pull (mean)", pulled / args.rounds, "changes")
    figure("pull, p50", percentile(pulls, 0.5) * 1000, "ms")
    figure("pull, p95", percentile(pulls, 0.95) * 1000, "ms", "< 150 ms at 500 changes")
    figure(f"push of {args.push:,} queued mutations", push_time, "s", "< 3 s")
    figure("mutations accepted", report.applied + report.warned, "mutations")


if __name__ == "__main__":
    main()
