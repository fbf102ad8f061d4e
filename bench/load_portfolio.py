"""Benchmark: generate a demo portfolio and load it into a fresh encrypted cache.

    python bench/load_portfolio.py --accounts 100000

Target (issue #2): 100,000 accounts in under 20 s with peak memory under 500 MB.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import figure, peak_mib

from cobro_tui.demo.portfolio import PortfolioSpec
from cobro_tui.policy import load_policy
from cobro_tui.store.engine import CacheFile
from cobro_tui.store.migrate import upgrade
from cobro_tui.store.portfolio import load_generated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: up to 2)")
    args = parser.parse_args()
    policy = load_policy()
    with tempfile.TemporaryDirectory() as folder:
        cache = CacheFile(Path(folder) / "cache.db", secrets.token_bytes(32))
        engine = cache.open()
        upgrade(engine)
        engine.dispose()
        spec = PortfolioSpec(args.accounts, args.seed, datetime(2026, 11, 22, 16, 30, tzinfo=UTC), policy.buckets)
        started = time.perf_counter()
        report = load_generated(cache, spec, workers=args.workers)
        elapsed = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(folder).iterdir()) / 2**20
    rows = sum(report.rows.values())
    own, child = peak_mib()
    print(f"load_portfolio: {args.accounts:,} accounts, seed {args.seed}")
    figure("generate + load, total", elapsed, "s", "< 20 s at 100,000")
    figure("accounts per second", report.accounts / elapsed, "acc/s")
    figure("rows per second", rows / elapsed, "rows/s")
    figure("rows written", rows, "rows")
    figure("cache size on disk", size, "MiB")
    figure("peak memory, main process", own, "MiB", "< 500 MB in all")
    figure("peak memory, largest worker", child, "MiB")
    for table, count in report.rows.items():
        print(f"  {table:<20} {count:>10,}")


if __name__ == "__main__":
    main()
