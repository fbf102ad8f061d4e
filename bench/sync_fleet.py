"""Benchmark: many workstations syncing against one server, with its latency per endpoint.

    python bench/sync_fleet.py --stations 50 --seconds 60

Each workstation logs a contact now and then and runs sync rounds back to back with a short pause,
as the background loop does; latencies are measured by the clients (loopback, server in its own process).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import figure
from _server import seeded_server
from _station import bench_station, percentile

from cobro_tui.demo.portfolio import DEMO_AGENTS
from cobro_tui.server.run import free_port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--accounts", type=int, default=5000)
    args = parser.parse_args()
    latencies: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()

    def on_request(request) -> None:  # type: ignore[no-untyped-def]
        request.extensions["started"] = time.perf_counter()

    def on_response(response) -> None:  # type: ignore[no-untyped-def]
        path = response.request.url.path
        with lock:
            latencies[path].append(time.perf_counter() - response.request.extensions["started"])

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        server, url, _ = seeded_server(folder, args.accounts, ",".join(DEMO_AGENTS), free_port())
        try:
            started = time.perf_counter()
            stations = [
                bench_station(
                    folder,
                    f"s{n}",
                    url,
                    DEMO_AGENTS[n % len(DEMO_AGENTS)],
                    {"request": [on_request], "response": [on_response]},
                )
                for n in range(args.stations)
            ]
            ready = time.perf_counter() - started
            latencies.clear()
            stop = time.monotonic() + args.seconds
            rounds = [0] * len(stations)
            failures = [0] * len(stations)

            def work(index: int) -> None:
                rng = random.Random(index)
                station = stations[index]
                while time.monotonic() < stop:
                    if rng.random() < 0.5:
                        station.log_contacts(1)
                    report = station.sync.run_round()
                    rounds[index] += 1
                    failures[index] += not report.ok
                    time.sleep(rng.uniform(0.5, 1.5))

            threads = [threading.Thread(target=work, args=(n,)) for n in range(len(stations))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            server.terminate()
            server.wait()
    print(
        f"sync_fleet: {args.stations} workstations for {args.seconds:.0f} s ({args.accounts:,} accounts over 10 agents)"
    )
    figure("first sync of every station", ready, "s")
    figure("sync rounds", sum(rounds), "rounds")
    figure("failed rounds", sum(failures), "rounds")
    for path, values in sorted(latencies.items()):
        figure(f"{path} p50", percentile(values, 0.5) * 1000, "ms")
        figure(f"{path} p95 ({len(values)} calls)", percentile(values, 0.95) * 1000, "ms")


if __name__ == "__main__":
    main()
