"""Benchmark: what judging every command on the server's state costs a push and a pull.

    python bench/authority.py --accounts 10000 --push 1000 --rounds 20

A push of 1,000 queued mutations (a mix: 70 % contacts, 20 % notes, 10 % promises), timed as the
workstation's round and as the server's own answers to POST /v1/mutations; then pulls of 500
changes each (another workstation of the same agent makes them). Targets (issue #14): the push
under 1.5 s; a pull no more than 10 % slower than before the authorization (quote both runs).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import figure, peak_mib  # noqa: E402
from _server import seeded_server  # noqa: E402
from _station import bench_station, percentile  # noqa: E402

from cobro_tui.domain.ids import new_id  # noqa: E402
from cobro_tui.domain.models import Note, Promise  # noqa: E402
from cobro_tui.domain.money import Money  # noqa: E402
from cobro_tui.server.run import free_port  # noqa: E402
from cobro_tui.store.actions import record_note, record_promise  # noqa: E402


def queue_mix(station, count: int) -> None:  # type: ignore[no-untyped-def]
    """`count` commands as a floor records them: contacts mostly, notes, and promises on accounts of their own."""
    contacts, notes = count * 7 // 10, count * 2 // 10
    station.log_contacts(contacts)
    device = station.contacts.device
    at = station.clock.now()
    for n in range(notes):
        account_id = station.accounts[n % len(station.accounts)][0]
        record_note(station.cache, Note(new_id(), account_id, station.agent, at, f"nota {n}"), device=device, at=at,
                    config_hash="bench")
    for n in range(count - contacts - notes):
        account_id = station.accounts[-1 - n % len(station.accounts)][0]
        promise = Promise(new_id(), account_id, Money(1_000_00), at.date() + timedelta(days=3), "spei", at, station.agent)
        record_promise(station.cache, promise, device=device, at=at, config_hash="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--push", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--changes", type=int, default=500)
    args = parser.parse_args()
    server_times: list[float] = []

    def timed(response) -> None:  # type: ignore[no-untyped-def]
        if response.request.url.path == "/v1/mutations":
            response.read()
            server_times.append(response.elapsed.total_seconds())

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        server, url, _ = seeded_server(folder, args.accounts, "agente01", free_port())
        try:
            pusher = bench_station(folder, "pusher", url, "agente01", hooks={"response": [timed]})
            queue_mix(pusher, args.push)
            started = time.perf_counter()
            report = pusher.sync.run_round()
            push_time = time.perf_counter() - started
            if not report.ok:
                raise SystemExit(report.error)
            reader = bench_station(folder, "reader", url, "agente01")
            writer = bench_station(folder, "writer", url, "agente01")
            pulls: list[float] = []
            for _ in range(args.rounds):
                writer.log_contacts(args.changes)
                if not writer.sync.run_round().ok:
                    raise SystemExit("the writer could not push")
                started = time.perf_counter()
                reader.sync.run_round()
                pulls.append(time.perf_counter() - started)
        finally:
            server.terminate()
            server.wait()
    print(f"authority: {args.accounts:,} accounts on the server; push of {args.push:,}, {args.rounds} pulls of {args.changes}")
    figure(f"push of {args.push:,} mixed mutations, round", push_time, "s", "< 1.5 s")
    figure("  of which the server's answers", sum(server_times), "s")
    figure("  server, per mutation", sum(server_times) / max(1, report.pushed) * 1000, "ms")
    figure("  applied / warned / rejected / held", report.applied, f"/ {report.warned} / {report.rejected} / {report.held}")
    figure(f"pull of {args.changes} changes, p50", percentile(pulls, 0.5) * 1000, "ms")
    figure(f"pull of {args.changes} changes, p95", percentile(pulls, 0.95) * 1000, "ms", "<= 110 % of before")
    figure("peak memory (this process)", peak_mib()[0], "MiB")


if __name__ == "__main__":
    main()
