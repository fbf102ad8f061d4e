"""The KPIs for a period and a team (docs/kpi.md), from the KPI projections: grouped in the
database, worked out by domain/kpi.py."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from cobro_tui.domain.kpi import (
    ContactFigures,
    KeptFigures,
    aging,
    contact_figures_from_sums,
    roll_rates,
    vintage,
)
from cobro_tui.domain.models import BucketHistoryEntry
from cobro_tui.domain.records import instant_text
from cobro_tui.server.mutations import server_policy
from cobro_tui.server.schema import (
    account_facts,
    bucket_facts,
    contact_facts,
    contact_hours,
    promise_facts,
    users,
)


def team_agents(conn: Connection, team: str | None) -> list[str]:
    query = select(users.c.username).where(users.c.role == "agent")
    if team is not None:
        query = query.where(users.c.team == team)
    return sorted(conn.execute(query).scalars())


def _hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _attempts(conn: Connection, since: datetime, until: datetime, agents: list[str] | None,
              attempt_codes: list[str]) -> tuple[Counter[tuple[str, str]], int]:
    """Attempts by (channel, result code) in [since, until), and the agent-hours with an attempt:
    whole hours from contact_hours, the hours the window cuts from contact_facts, summed in the database."""
    first_whole = _hour(since) if _hour(since) == since else _hour(since) + timedelta(hours=1)
    last_whole = _hour(until)
    sums: Counter[tuple[str, str]] = Counter()
    hours: set[tuple[str, str]] = set()
    edges = [(since, until)]
    if first_whole < last_whole:
        table = contact_hours
        where = and_(table.c.hour >= instant_text(first_whole)[:13], table.c.hour < instant_text(last_whole)[:13])
        if agents is not None:
            where = and_(where, table.c.agent.in_(agents))
        for channel, code, n in conn.execute(select(table.c.channel, table.c.result_code, func.sum(table.c.n))
                                             .where(where).group_by(table.c.channel, table.c.result_code)):
            sums[(channel, code)] += int(n)
        hours.update(tuple(r) for r in conn.execute(select(table.c.agent, table.c.hour).distinct()
                                                    .where(where, table.c.result_code.in_(attempt_codes))))
        edges = [(since, first_whole), (last_whole, until)]
    facts = contact_facts
    hour = func.substr(facts.c.started_at, 1, 13)
    for low, high in edges:
        if low >= high:
            continue
        where = and_(facts.c.started_at >= instant_text(low), facts.c.started_at < instant_text(high))
        if agents is not None:
            where = and_(where, facts.c.agent.in_(agents))
        for channel, code, n in conn.execute(select(facts.c.channel, facts.c.result_code, func.count())
                                             .where(where).group_by(facts.c.channel, facts.c.result_code)):
            sums[(channel, code)] += int(n)
        hours.update(tuple(r) for r in conn.execute(select(facts.c.agent, hour).distinct()
                                                    .where(where, facts.c.result_code.in_(attempt_codes))))
    return sums, len(hours)


def figures(conn: Connection, since: datetime, until: datetime, team: str | None) -> tuple[list[str], ContactFigures, KeptFigures]:
    """Contacts and promises of the period [since, until) for the team's agents (every agent without a team)."""
    agents = team_agents(conn, team)
    start, end = instant_text(since), instant_text(until)
    codes = server_policy().result_codes
    sums, agent_hours = _attempts(conn, since, until, agents if team is not None else None,
                                  [c.code for c in codes.codes if c.attempt])
    made = and_(promise_facts.c.created_at >= start, promise_facts.c.created_at < end)
    judged = and_(promise_facts.c.deadline >= since.date().isoformat(), promise_facts.c.deadline < until.date().isoformat(),
                  promise_facts.c.status.in_(("kept", "broken")))
    if team is not None:
        made = and_(made, promise_facts.c.agent.in_(agents))
        judged = and_(judged, promise_facts.c.agent.in_(agents))
    taken = conn.execute(select(func.count()).select_from(promise_facts).where(made)).scalar_one()
    contacts = contact_figures_from_sums(sums.items(), agent_hours, codes, promises=taken)
    # The kept figures (domain.kpi.kept_figures) summed in the database: judged, kept, promised, paid up to each amount.
    paid = case((promise_facts.c.paid < promise_facts.c.amount, promise_facts.c.paid), else_=promise_facts.c.amount)
    judged_count, kept_count, promised, kept_amount = conn.execute(select(
        func.count(), func.coalesce(func.sum(case((promise_facts.c.status == "kept", 1), else_=0)), 0),
        func.coalesce(func.sum(promise_facts.c.amount), 0), func.coalesce(func.sum(paid), 0)).where(judged)).one()
    return agents, contacts, KeptFigures(judged_count, int(kept_count), int(promised), int(kept_amount))


def report(conn: Connection, since: datetime, until: datetime, team: str | None) -> dict[str, Any]:
    agents, contacts, kept = figures(conn, since, until, team)
    return {
        "since": since, "until": until, "team": team, "agents": agents,
        "attempts": contacts.attempts, "contacts": contacts.contacts, "agent_hours": contacts.agent_hours,
        "attempts_per_hour": contacts.attempts_per_hour, "contacts_per_hour": contacts.contacts_per_hour,
        "rpc_rate": contacts.rpc_rate, "promises": contacts.promises, "promise_rate": contacts.promise_rate,
        "channels": [{"channel": name, "attempts": c.attempts, "contacts": c.contacts, "contact_rate": c.contact_rate}
                     for name, c in sorted(contacts.by_channel.items())],
        "kept": {"judged": kept.judged, "kept": kept.kept, "rate": kept.kept_rate, "promised": kept.promised_amount,
                 "paid": kept.kept_amount, "amount_rate": kept.kept_amount_rate},
    }


def portfolio(conn: Connection, since: datetime, until: datetime, team: str | None) -> dict[str, Any]:
    """Aging at `until`, roll rates from `since` to `until`, and vintage curves (12 months on book; bad:
    30 days past due or more), over the team's accounts (every account without a team)."""
    policy = server_policy()
    accounts = select(account_facts.c.id, account_facts.c.bucket, account_facts.c.balance, account_facts.c.opened_on)
    history = select(bucket_facts.c.id, bucket_facts.c.account_id, bucket_facts.c.bucket, bucket_facts.c.entered_on,
                     bucket_facts.c.left_on)
    if team is not None:
        agents = team_agents(conn, team)
        accounts = accounts.where(account_facts.c.agent.in_(agents))
        history = history.join(account_facts, account_facts.c.id == bucket_facts.c.account_id).where(
            account_facts.c.agent.in_(agents))
    rows = conn.execute(accounts).all()
    entries = [BucketHistoryEntry(r[0], r[1], r[2], date.fromisoformat(r[3]), date.fromisoformat(r[4]) if r[4] else None)
               for r in conn.execute(history)]
    order = [b.code for b in policy.buckets.buckets]
    bad = {b.code for b in policy.buckets.buckets if b.min_dpd >= 30}
    return {
        "since": since, "until": until, "team": team,
        "aging": [{"bucket": b, "accounts": n, "balance": owed}
                  for b, n, owed in aging(((r.bucket, r.balance) for r in rows), order)],
        "roll_rates": roll_rates(entries, since.date(), until.date()),
        "vintage": vintage({r.id: date.fromisoformat(r.opened_on) for r in rows}, entries, bad, until.date()),
        "bad_buckets": sorted(bad, key=order.index),
    }
