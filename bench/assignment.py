"""Benchmark: assigning the new accounts of a portfolio import (server/assignment_rules.py).

    python bench/assignment.py --accounts 100000 --agents 10 --held 100000

A SQLite server with --agents agents in team norte (and a supervisor and a disabled agent, who get
nothing) already holding --held accounts (projection rows written straight, not timed). Then times
`assign` for --accounts new accounts by count, by balance and by the shipped assignment.toml, in one
call and in the import API's batches of 5,000, and reports how evenly they came out.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench")]

from _common import figure, peak_mib
from sqlalchemy import Engine, insert, update

from cobro_tui.domain.assignment import AssignmentRule, AssignmentRules, Load
from cobro_tui.policy import default_policy_dir
from cobro_tui.server.assignment_rules import NewAccount, assign, load_assignment, team_loads
from cobro_tui.server.auth import add_user
from cobro_tui.server.db import migrate, server_engine, write_tx
from cobro_tui.server.schema import account_facts, users

BUCKETS = ("preventiva", "1-29", "30-59", "60-89", "90-119", "120+", "castigo")
PRODUCTS = ("tarjeta_credito", "prestamo_personal", "nomina", "automotriz")


def seed(engine: Engine, agents: list[str], held: int, rng: random.Random) -> None:
    with write_tx(engine) as conn:
        for name in agents:
            add_user(conn, name, "", "agent", "norte", password_hash="-")
        add_user(conn, "aaa_supervisor", "", "supervisor", "norte", password_hash="-")
        add_user(conn, "aab_disabled", "", "agent", "norte", password_hash="-")
        conn.execute(update(users).where(users.c.username == "aab_disabled").values(disabled_at="2026-12-01T00:00:00"))
        rows = [
            {
                "id": f"held{i:07d}",
                "agent": rng.choice(agents),
                "bucket": rng.choice(BUCKETS),
                "balance": rng.randrange(100_00, 800_000_00),
                "opened_on": "2025-01-15",
            }
            for i in range(held)
        ]
        for start in range(0, len(rows), 20_000):
            conn.execute(insert(account_facts), rows[start : start + 20_000])


def spread_line(name: str, before: dict[str, Load], given: dict[str, str], balances: dict[str, int]) -> None:
    """What each agent holds once the new accounts are theirs: the range of counts and balances."""
    counts = Counter({agent: load.count for agent, load in before.items()})
    totals = Counter({agent: load.balance for agent, load in before.items()})
    for account_id, agent in given.items():
        counts[agent] += 1
        totals[agent] += balances[account_id]
    print(
        f"  {name}: {len(given):,} given to {len(set(given.values()))} agents; after, per agent "
        f"{min(counts.values()):,}-{max(counts.values()):,} accounts, "
        f"${min(totals.values()) / 100:,.0f}-${max(totals.values()) / 100:,.0f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000, help="new accounts to assign")
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--held", type=int, default=100_000, help="accounts the agents hold already")
    parser.add_argument("--batch", type=int, default=5_000, help="rows per call in the batched run (the API's)")
    args = parser.parse_args()
    rng = random.Random(7)
    agents = [f"agente{i:03d}" for i in range(1, args.agents + 1)]
    with tempfile.TemporaryDirectory() as folder:
        engine = server_engine(f"sqlite:///{Path(folder) / 'server.db'}")
        migrate(engine)
        seed(engine, agents, args.held, rng)
        accounts = [
            NewAccount(
                f"new{i:07d}",
                rng.choice(BUCKETS),
                rng.choice("ABCDE"),
                rng.choice(PRODUCTS),
                rng.randrange(100_00, 800_000_00),
            )
            for i in range(args.accounts)
        ]
        balances = {a.account_id: a.balance_centavos for a in accounts}
        print(
            f"{args.accounts:,} new accounts, {args.agents} agents holding {args.held:,} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
        )
        runs = {
            "by count": AssignmentRules((AssignmentRule("todo", "norte", "count"),)),
            "by balance": AssignmentRules((AssignmentRule("todo", "norte", "balance"),)),
            "shipped assignment.toml": load_assignment(default_policy_dir()),
        }
        with engine.connect() as conn:
            started = time.perf_counter()
            before = team_loads(conn, {"norte"})["norte"]
            figure("loads of the team, counts and balances", (time.perf_counter() - started) * 1000, "ms")
            started = time.perf_counter()
            team_loads(conn, {"norte"}, balance_of=())
            figure("loads of the team, counts only", (time.perf_counter() - started) * 1000, "ms")
            for name, rules in runs.items():
                started = time.perf_counter()
                given = assign(conn, rules, accounts)
                elapsed = time.perf_counter() - started
                figure(f"assign {args.accounts:,}, {name}", elapsed, "s")
                figure("  per account", elapsed / max(len(accounts), 1) * 1e6, "µs")
                spread_line(name, before, given, balances)
            # Each batch against the same loads here (the import stores each batch before the next).
            for name in ("by count", "by balance"):
                started = time.perf_counter()
                slowest = 0.0
                for start in range(0, len(accounts), args.batch):
                    began = time.perf_counter()
                    assign(conn, runs[name], accounts[start : start + args.batch])
                    slowest = max(slowest, time.perf_counter() - began)
                figure(f"assign in batches of {args.batch:,}, {name}", time.perf_counter() - started, "s")
                figure("  slowest batch", slowest * 1000, "ms")
        engine.dispose()
    own, _ = peak_mib()
    figure("peak memory", own, "MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
