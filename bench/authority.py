"""Benchmark: what judging every command on the server's state costs a push and a pull.

    python bench/authority.py --accounts 10000 --push 1000 --rounds 20

A push of 1,000 queued mutations (a mix: 70 % contacts, 20 % notes, 10 % promises), timed as the
workstation's round and as the server's own answers to POST /v1/mutations, `--pushes` times, each
on accounts of its own (this machine's figures move by half from one minute to the next: the median
and the best are quoted); then pulls of 500 changes each (another workstation of the same agent
makes them). Targets (issue #14): the push under 1.5 s; a pull no more than 10 % slower than before
the authorization (quote both runs).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import figure, peak_mib
from _server import seeded_server
from _station import bench_station, percentile

from cobro_tui.domain.ids import new_id
from cobro_tui.domain.models import Note, Promise
from cobro_tui.domain.money import Money
from cobro_tui.server.run import free_port
from cobro_tui.store.actions import record_note, record_promise


def queue_mix(station, count: int) -> None:  # type: ignore[no-untyped-def]
    """`count` commands as a floor records them: contacts mostly, notes, and promises on accounts of their own."""
    contacts, notes = count * 7 // 10, count * 2 // 10
    station.log_contacts(contacts)
    device = station.contacts.device
    at = station.clock.now()
    for n in range(notes):
        account_id = station.accounts[n % len(station.accounts)][0]
        record_note(
            station.cache,
            Note(new_id(), account_id, station.agent, at, f"nota {n}"),
            device=device,
            at=at,
            config_hash="bench",
        )
    for n in range(count - contacts - notes):
        account_id = station.accounts[-1 - n % len(station.accounts)][0]
        promise = Promise(
            new_id(), account_id, Money(1_000_00), at.date() + timedelta(days=3), "spei", at, station.agent
        )
        record_promise(station.cache, promise, device=device, at=at, config_hash="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--push", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--pushes", type=int, default=5)
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
            slice_of = 500
            pusher = bench_station(
                folder, "pusher", url, "agente01", hooks={"response": [timed]}, accounts=slice_of * args.pushes
            )
            every = pusher.accounts
            rounds: list[tuple[float, float, object]] = []
            for n in range(args.pushes):
                pusher.accounts = every[n * slice_of : (n + 1) * slice_of] or every
                queue_mix(pusher, args.push)
                server_times.clear()
                started = time.perf_counter()
                report = pusher.sync.run_round()
                rounds.append((time.perf_counter() - started, sum(server_times), report))
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
    print(
        f"authority: {args.accounts:,} accounts on the server; {args.pushes} pushes of {args.push:,}, "
        f"{args.rounds} pulls of {args.changes}"
    )
    by_round = sorted(rounds, key=lambda r: r[0])
    median, best = by_round[len(by_round) // 2], by_round[0]
    report = median[2]
    figure(f"push of {args.push:,} mixed mutations, round, median", median[0], "s", "< 1.5 s")
    figure("  best", best[0], "s")
    figure("  of which the server's answers, median", median[1], "s")
    figure("  server, per mutation, median", median[1] / max(1, report.pushed) * 1000, "ms")  # type: ignore[attr-defined]
    figure(
        "  applied / warned / rejected / held",
        report.applied,  # type: ignore[attr-defined]
        f"/ {report.warned} / {report.rejected} / {report.held}",
    )  # type: ignore[attr-defined]
    figure(f"pull of {args.changes} changes, p50", percentile(pulls, 0.5) * 1000, "ms")
    figure(f"pull of {args.changes} changes, p95", percentile(pulls, 0.95) * 1000, "ms", "<= 110 % of before")
    figure("peak memory (this process)", peak_mib()[0], "MiB")


if __name__ == "__main__":
    main()
