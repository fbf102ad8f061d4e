"""The KPIs for a period and a team (docs/kpi.md), from the KPI projections: grouped in the
database, worked out by domain/kpi.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select

from cobro_tui.domain.kpi import (
    ContactFigures,
    KeptFigures,
    PromiseFact,
    contact_figures_from_counts,
    kept_figures,
)
from cobro_tui.domain.records import instant_text
from cobro_tui.server.mutations import server_policy
from cobro_tui.server.schema import contact_facts, contact_hours, promise_facts, users


def team_agents(conn: Connection, team: str | None) -> list[str]:
    query = select(users.c.username).where(users.c.role == "agent")
    if team is not None:
        query = query.where(users.c.team == team)
    return sorted(conn.execute(query).scalars())


def _hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _attempt_counts(conn: Connection, since: datetime, until: datetime,
                    agents: list[str] | None) -> list[tuple[str, str, str, str, int]]:
    """Attempts by (agent, channel, clock hour, result code) in [since, until): whole hours from
    contact_hours, the hours the window cuts from contact_facts."""
    first_whole = _hour(since) if _hour(since) == since else _hour(since) + timedelta(hours=1)
    last_whole = _hour(until)
    rows: list[tuple[str, str, str, str, int]] = []
    edges = [(since, until)]
    if first_whole < last_whole:
        hours = and_(contact_hours.c.hour >= instant_text(first_whole)[:13], contact_hours.c.hour < instant_text(last_whole)[:13])
        if agents is not None:
            hours = and_(hours, contact_hours.c.agent.in_(agents))
        rows += [tuple(r) for r in conn.execute(select(contact_hours.c.agent, contact_hours.c.channel, contact_hours.c.hour,
                                                       contact_hours.c.result_code, contact_hours.c.n).where(hours))]
        edges = [(since, first_whole), (last_whole, until)]
    hour = func.substr(contact_facts.c.started_at, 1, 13)
    for low, high in edges:
        if low >= high:
            continue
        window = and_(contact_facts.c.started_at >= instant_text(low), contact_facts.c.started_at < instant_text(high))
        if agents is not None:
            window = and_(window, contact_facts.c.agent.in_(agents))
        rows += [tuple(r) for r in conn.execute(
            select(contact_facts.c.agent, contact_facts.c.channel, hour, contact_facts.c.result_code, func.count())
            .where(window).group_by(contact_facts.c.agent, contact_facts.c.channel, hour, contact_facts.c.result_code))]
    return rows  # type: ignore[return-value]


def figures(conn: Connection, since: datetime, until: datetime, team: str | None) -> tuple[list[str], ContactFigures, KeptFigures]:
    """Contacts and promises of the period [since, until) for the team's agents (every agent without a team)."""
    agents = team_agents(conn, team)
    start, end = instant_text(since), instant_text(until)
    rows = _attempt_counts(conn, since, until, agents if team is not None else None)
    made = and_(promise_facts.c.created_at >= start, promise_facts.c.created_at < end)
    judged = and_(promise_facts.c.deadline >= since.date().isoformat(), promise_facts.c.deadline < until.date().isoformat(),
                  promise_facts.c.status.in_(("kept", "broken")))
    if team is not None:
        made = and_(made, promise_facts.c.agent.in_(agents))
        judged = and_(judged, promise_facts.c.agent.in_(agents))
    taken = conn.execute(select(func.count()).select_from(promise_facts).where(made)).scalar_one()
    contacts = contact_figures_from_counts(rows, server_policy().result_codes, promises=taken)
    promises = [PromiseFact(r.agent, since, r.amount, date.fromisoformat(r.deadline), r.status, r.paid)
                for r in conn.execute(select(promise_facts.c.agent, promise_facts.c.amount, promise_facts.c.deadline,
                                             promise_facts.c.status, promise_facts.c.paid).where(judged))]
    return agents, contacts, kept_figures(promises, until.date())


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
