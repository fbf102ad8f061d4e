"""Benchmark: what the agent waits for on a large portfolio (issue #4: instant with 100,000 accounts).

    python bench/workstation.py --accounts 100000

Loads a generated portfolio into an encrypted cache (not timed), then times the workstation's own
reads and writes through its services: scoring the queue, pages (first, deep, filtered), the next
best account, opening an account, searching, and contacts with their rescore (the first and the median).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import figure, peak_mib
from _portfolio import NOW, agent_cache

from cobro_tui.bootstrap import build_workstation
from cobro_tui.clock import FixedClock
from cobro_tui.domain.models import Channel
from cobro_tui.domain.queue import PromiseFilter, QueueFilter
from cobro_tui.policy import load_policy
from cobro_tui.services.contacts import ContactRefused
from cobro_tui.settings import load_settings


def timed(action) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    policy = load_policy()
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as folder:
        _, _, engine = agent_cache(folder, args.accounts, policy)
        ws = build_workstation(engine, load_settings(), FixedClock(NOW), policy, "agente01", "demo")
        print(f"workstation: {args.accounts:,} accounts for one agent, encrypted cache")
        figure("score every account (screen start)", timed(lambda: ws.queue.rescore(None)) / 1000, "s")
        figure("first queue page (200 rows)", timed(lambda: ws.queue.page(None)), "ms", "instant: < 100 ms")
        page, deep = ws.queue.page(None), []
        while page.next_key is not None and len(deep) < 50:
            started = time.perf_counter()
            page = ws.queue.page(page.next_key)
            deep.append((time.perf_counter() - started) * 1000)
        if deep:
            figure("next queue page, p95 over the first 50", p95(deep), "ms")
        chosen = QueueFilter(bucket="30-59", promise=PromiseFilter.NONE)
        figure("filtered first page (bucket, no promise)", timed(lambda: ws.queue.page(None, chosen=chosen)), "ms")
        figure("next best account (f5)", timed(lambda: ws.accounts.next_best()), "ms")
        ids = [e.account_id for e in ws.queue.page(None, 2000).entries]
        opens = [timed(lambda: ws.accounts.open(rng.choice(ids))) for _ in range(args.samples)]
        figure("open an account, p95", p95(opens), "ms", "instant: < 100 ms")
        name = ws.accounts.open(ids[0]).file.customer.full_name.split()[1]
        figure("search by surname", timed(lambda: ws.queue.search(name)), "ms")
        figure("search by phone digits", timed(lambda: ws.queue.search("4751")), "ms")
        # The app does this in the background a second after its start, while the agent reads the queue.
        figure("prepare writes (background, after start)", timed(ws.prepare_writes), "ms")
        writes: list[float] = []
        for account_id in ids[1:]:
            if len(writes) >= max(2, args.samples // 10):
                break
            account = ws.accounts.open(account_id).file.account
            started = time.perf_counter()
            try:
                ws.contacts.log(
                    account_id=account.id, customer_id=account.customer_id, channel=Channel.VOICE, result_code="NC"
                )
            except ContactRefused:  # the rules hold this account (an opt-out, a cap): not a write
                continue
            writes.append((time.perf_counter() - started) * 1000)
        figure("log a contact + rescore its account, first", writes[0], "ms")
        figure(f"log a contact + rescore its account, median of {len(writes)}", statistics.median(writes), "ms")
        own, _ = peak_mib()
        figure("peak memory", own, "MiB")
        engine.dispose()


if __name__ == "__main__":
    main()
