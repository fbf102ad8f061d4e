"""Benchmark: the KPI report of the reference server (issue #7) over a large history.

    python bench/kpi.py --accounts 100000 --attempts 1000000

Seeds a SQLite server with the demo portfolio (its own contacts and promises), then adds contact
attempts up to --attempts, spread over the last 90 days across the demo agents (not timed). Then
times the report (GET /v1/kpi's work: grouped queries on the KPI projections and the formulas) for
the last 7 days, 30 days and the whole 90, for every agent and for one team; and the portfolio
report (GET /v1/kpi/portfolio: aging, roll rates over 30 days, vintage curves), the team's queues and one
agent's account list (the supervisor's reassignment screen); last, reassignment one account at a time
and 1,000 in one transaction.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench")]

from _common import figure, peak_mib
from sqlalchemy import select

from cobro_tui.domain.ids import new_id
from cobro_tui.domain.records import instant_text
from cobro_tui.policy import load_policy
from cobro_tui.server.assign import move, reassign
from cobro_tui.server.db import migrate, server_engine, write_tx
from cobro_tui.server.facts import count_hours
from cobro_tui.server.kpi import portfolio, report
from cobro_tui.server.schema import contact_facts, entities
from cobro_tui.server.seed import DEMO_AGENTS, ensure_demo_users, load_demo_portfolio
from cobro_tui.server.team import agent_accounts, team_queues

NOW = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)
CODES = (("NC", 30), ("BZ", 18), ("OCUP", 6), ("TERC", 8), ("PP", 12), ("NEG", 5), ("CB", 6), ("YAPAGO", 3), ("MSJ", 4))
CHANNELS = (("voice", 85), ("whatsapp", 10), ("sms", 5))


def top_up(engine, attempts: int, seed: int = 11) -> int:  # type: ignore[no-untyped-def]
    """Contact attempts added straight to the projection until it holds `attempts` rows."""
    with engine.connect() as conn:
        have = conn.execute(contact_facts.select().with_only_columns(contact_facts.c.id).limit(attempts)).all()
    missing = attempts - len(have)
    rng = random.Random(seed)
    codes, code_weights = zip(*CODES)
    channels, channel_weights = zip(*CHANNELS)
    batch = 50_000
    for start in range(0, max(missing, 0), batch):
        rows = []
        for _ in range(min(batch, missing - start)):
            # Working hours: 08:00-21:00 in Mexico City (14:00-03:00 UTC), on any of the last 90 days.
            at = NOW - timedelta(days=rng.randrange(90), hours=rng.randrange(13), minutes=rng.randrange(60))
            rows.append(
                {
                    "id": new_id(),
                    "agent": rng.choice(DEMO_AGENTS),
                    "account_id": "bench",
                    "channel": rng.choices(channels, channel_weights)[0],
                    "result_code": rng.choices(codes, code_weights)[0],
                    "started_at": instant_text(at),
                }
            )
        with write_tx(engine) as conn:
            conn.execute(contact_facts.insert(), rows)
            count_hours(conn, Counter((r["started_at"][:13], r["agent"], r["channel"], r["result_code"]) for r in rows))
    return max(missing, 0)


def timed(engine, days: int, team: str | None, repeat: int, what=report) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        with engine.connect() as conn:
            what(conn, NOW - timedelta(days=days), NOW, team)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def queues(conn, since: datetime, until: datetime, team: str | None) -> object:  # type: ignore[no-untyped-def]
    return team_queues(conn, team, until)


def accounts_of(conn, since: datetime, until: datetime, agent: str) -> object:  # type: ignore[no-untyped-def]
    return agent_accounts(conn, agent)


def time_reassignments(engine, singles: int = 50, many: int = 1000) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Seconds per account moved one at a time, and for `many` accounts moved in one transaction
    (agente01's accounts to agente02; last, since it changes the portfolio)."""
    with engine.connect() as conn:
        ids = list(
            conn.execute(
                select(entities.c.id)
                .where(entities.c.kind == "account", entities.c.agent == "agente01")
                .limit(singles + many)
            ).scalars()
        )
    started = time.perf_counter()
    for account_id in ids[:singles]:
        reassign(engine, account_id, "agente02", NOW)
    per_account = (time.perf_counter() - started) / max(1, len(ids[:singles]))
    started = time.perf_counter()
    with write_tx(engine) as conn:
        for account_id in ids[singles:]:
            move(conn, account_id, "agente02", NOW)
    return per_account, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = server_engine(f"sqlite:///{Path(folder) / 'server.db'}")
        migrate(engine)
        ensure_demo_users(engine)
        started = time.perf_counter()
        load_demo_portfolio(engine, args.accounts, 7, NOW, load_policy().buckets)
        added = top_up(engine, args.attempts)
        with engine.connect() as conn:
            total = conn.execute(contact_facts.select().with_only_columns(contact_facts.c.id)).all()
        print(
            f"kpi: {args.accounts:,} accounts, {len(total):,} contact attempts ({added:,} added), SQLite; "
            f"prepared in {time.perf_counter() - started:.0f} s"
        )
        report_all = timed(engine, 90, None, args.repeat)
        figure("KPI report, 90 days, every agent", report_all, "s", "< 1 s")
        figure("KPI report, 30 days, every agent", timed(engine, 30, None, args.repeat), "s")
        figure("KPI report, 7 days, every agent", timed(engine, 7, None, args.repeat), "s")
        figure("KPI report, 90 days, one team", timed(engine, 90, "norte", args.repeat), "s")
        figure("attempts counted per second (90 days)", len(total) / report_all, "/s")
        figure(
            "portfolio (aging, roll rates, vintage), every agent", timed(engine, 30, None, args.repeat, portfolio), "s"
        )
        figure("portfolio, one team", timed(engine, 30, "norte", args.repeat, portfolio), "s")
        figure("team queues (GET /v1/team), every agent", timed(engine, 0, "norte", args.repeat, queues), "s")
        figure(
            "one agent's accounts (GET /v1/team/agents/{agent}/accounts)",
            timed(engine, 0, DEMO_AGENTS[0], args.repeat, accounts_of),
            "s",
        )
        per_account, bulk = time_reassignments(engine)
        figure("reassign one account (PUT .../assignment's work)", per_account * 1000, "ms")
        figure("reassign 1,000 accounts in one transaction (POST /v1/assignments' work)", bulk, "s")
        figure("peak memory", peak_mib()[0], "MiB")
        engine.dispose()


if __name__ == "__main__":
    main()
