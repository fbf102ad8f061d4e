"""The KPIs for a period and a team (docs/kpi.md), from the KPI projections: grouped in the
database, worked out by domain/kpi.py."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Integer, and_, case, func, literal, or_, select, true

from cobro_tui.domain.kpi import (
    AgentFigures,
    ContactFigures,
    KeptFigures,
    RecoveryFigures,
    aging_from_sums,
    contact_figures_from_sums,
    period_target,
    ratio,
    roll_rates_from_moves,
    vintage_from_counts,
)
from cobro_tui.domain.records import instant_text
from cobro_tui.server.mutations import server_policy
from cobro_tui.server.schema import (
    account_facts,
    bucket_facts,
    contact_facts,
    contact_hours,
    payment_facts,
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


def _attempts(
    conn: Connection,
    since: datetime,
    until: datetime,
    agents: list[str] | None,
    attempt_codes: list[str],
    contact_codes: list[str],
) -> tuple[Counter[tuple[str, str]], dict[str, list[int]], dict[str, list[int]]]:
    """Attempts by (channel, result code) in [since, until); per clock hour (UTC, "2026-11-20T15"):
    attempts, right-party contacts, agents with an attempt; per agent: attempts, right-party contacts,
    hours with an attempt. Whole hours come from contact_hours, the hours the window cuts from
    contact_facts; both are summed in the database."""
    first_whole = _hour(since) if _hour(since) == since else _hour(since) + timedelta(hours=1)
    last_whole = _hour(until)
    sums: Counter[tuple[str, str]] = Counter()
    hours: dict[str, list[int]] = {}
    by_agent: dict[str, list[int]] = {}

    def add(table: Any, hour: Any, value: Any, where: Any) -> None:
        """Sums of `value` (the row's count) by (channel, code) and by hour, over the rows `where` picks."""
        if agents is not None:
            where = and_(where, table.c.agent.in_(agents))
        for channel, code, n in conn.execute(
            select(table.c.channel, table.c.result_code, func.sum(value))
            .where(where)
            .group_by(table.c.channel, table.c.result_code)
        ):
            sums[(channel, code)] += int(n)
        # Per (hour, agent): one pass in the order of contact_hours' key, folded per hour here.
        attempt = table.c.result_code.in_(attempt_codes)
        for key, agent, tried, reached in conn.execute(
            select(
                hour,
                table.c.agent,
                func.sum(case((attempt, value), else_=0)),
                func.sum(case((table.c.result_code.in_(contact_codes), value), else_=0)),
            )
            .where(where)
            .group_by(hour, table.c.agent)
        ):
            for row in (hours.setdefault(key, [0, 0, 0]), by_agent.setdefault(agent, [0, 0, 0])):
                row[0] += int(tried or 0)
                row[1] += int(reached or 0)
                row[2] += 1 if tried else 0

    edges = [(since, until)]
    if first_whole < last_whole:
        table = contact_hours
        add(
            table,
            table.c.hour,
            table.c.n,
            and_(table.c.hour >= instant_text(first_whole)[:13], table.c.hour < instant_text(last_whole)[:13]),
        )
        edges = [(since, first_whole), (last_whole, until)]
    facts = contact_facts
    for low, high in edges:
        if low < high:
            add(
                facts,
                func.substr(facts.c.started_at, 1, 13),
                literal(1),
                and_(facts.c.started_at >= instant_text(low), facts.c.started_at < instant_text(high)),
            )
    return sums, hours, by_agent


def by_hour_of_day(hours: dict[str, list[int]], zone: ZoneInfo) -> list[dict[str, int | float | None]]:
    """The per-hour counts folded onto the hours of the day in `zone` (0..23, only those with attempts)."""
    folded: dict[int, list[int]] = {}
    for key, (tried, reached, agents) in hours.items():
        local = datetime.fromisoformat(f"{key}:00+00:00").astimezone(zone).hour
        row = folded.setdefault(local, [0, 0, 0])
        row[0], row[1], row[2] = row[0] + tried, row[1] + reached, row[2] + agents
    return [
        {"hour": h, "attempts": a, "contacts": c, "agent_hours": n, "contacts_per_hour": ratio(c, n)}
        for h, (a, c, n) in sorted(folded.items())
        if a
    ]


@dataclass(frozen=True, slots=True)
class Figures:
    agents: list[str]
    contacts: ContactFigures
    kept: KeptFigures
    hours: dict[str, list[int]]  # UTC clock hour -> attempts, right-party contacts, agents dialling
    by_agent: list[AgentFigures]
    recovered: RecoveryFigures
    first_day: date  # the period's days in the institution's zone, both counted
    last_day: date


def period_days(since: datetime, until: datetime, zone: ZoneInfo) -> tuple[date, date]:
    """The days in `zone` that [since, until) touches: from since's day to the day of its last instant."""
    return since.astimezone(zone).date(), (until - timedelta(microseconds=1)).astimezone(zone).date()


def figures(conn: Connection, since: datetime, until: datetime, team: str | None) -> Figures:
    """Contacts, promises and payments of the period [since, until) for the team's agents (every agent without a team)."""
    policy = server_policy()
    agents = team_agents(conn, team)
    start, end = instant_text(since), instant_text(until)
    codes = policy.result_codes
    sums, hours, dialled = _attempts(
        conn,
        since,
        until,
        agents if team is not None else None,
        [c.code for c in codes.codes if c.attempt],
        [c.code for c in codes.codes if c.right_party_contact],
    )
    made = and_(promise_facts.c.created_at >= start, promise_facts.c.created_at < end)
    judged = and_(
        promise_facts.c.deadline >= since.date().isoformat(),
        promise_facts.c.deadline < until.date().isoformat(),
        promise_facts.c.status.in_(("kept", "broken")),
    )
    first, last = period_days(since, until, ZoneInfo(policy.zones.fallback))
    received = and_(payment_facts.c.paid_on >= first.isoformat(), payment_facts.c.paid_on <= last.isoformat())
    if team is not None:
        made = and_(made, promise_facts.c.agent.in_(agents))
        judged = and_(judged, promise_facts.c.agent.in_(agents))
        received = and_(received, payment_facts.c.agent.in_(agents))
    taken_by: dict[str, int] = dict(
        conn.execute(select(promise_facts.c.agent, func.count()).where(made).group_by(promise_facts.c.agent)).all()
    )
    taken = sum(taken_by.values())
    contacts = contact_figures_from_sums(sums.items(), sum(h[2] for h in hours.values()), codes, promises=taken)
    # The kept figures (domain.kpi.kept_figures) summed in the database: judged, kept, promised, paid up to each amount.
    paid = case((promise_facts.c.paid < promise_facts.c.amount, promise_facts.c.paid), else_=promise_facts.c.amount)
    kept_by = {
        agent: (n, int(k), int(owed), int(got))
        for agent, n, k, owed, got in conn.execute(
            select(
                promise_facts.c.agent,
                func.count(),
                func.sum(case((promise_facts.c.status == "kept", 1), else_=0)),
                func.sum(promise_facts.c.amount),
                func.sum(paid),
            )
            .where(judged)
            .group_by(promise_facts.c.agent)
        )
    }
    judged_count, kept_count, promised, kept_amount = (sum(v[i] for v in kept_by.values()) for i in range(4))
    # The amount recovered (domain.kpi.recovery_figures) summed in the database, against the prorated target.
    received_by = {
        agent: (n, int(total))
        for agent, n, total in conn.execute(
            select(payment_facts.c.agent, func.count(), func.sum(payment_facts.c.amount))
            .where(received)
            .group_by(payment_facts.c.agent)
        )
    }
    count, amount = sum(n for n, _ in received_by.values()), sum(total for _, total in received_by.values())
    monthly = policy.targets.get(team) if team is not None else (sum(policy.targets.values()) or None)
    recovered = RecoveryFigures(int(amount), count, period_target(monthly, first, last) if monthly else None)
    by_agent = []
    for agent in agents:
        attempts, contacts_made, agent_hours = dialled.get(agent, [0, 0, 0])
        judged_n, kept_n = kept_by.get(agent, (0, 0, 0, 0))[:2]
        by_agent.append(
            AgentFigures(
                agent,
                attempts,
                contacts_made,
                agent_hours,
                taken_by.get(agent, 0),
                judged_n,
                kept_n,
                received_by.get(agent, (0, 0))[1],
            )
        )
    return Figures(
        agents,
        contacts,
        KeptFigures(judged_count, kept_count, promised, kept_amount),
        hours,
        by_agent,
        recovered,
        first,
        last,
    )


def report(conn: Connection, since: datetime, until: datetime, team: str | None) -> dict[str, Any]:
    found = figures(conn, since, until, team)
    contacts, kept, recovered = found.contacts, found.kept, found.recovered
    return {
        "since": since,
        "until": until,
        "team": team,
        "agents": found.agents,
        "attempts": contacts.attempts,
        "contacts": contacts.contacts,
        "agent_hours": contacts.agent_hours,
        "attempts_per_hour": contacts.attempts_per_hour,
        "contacts_per_hour": contacts.contacts_per_hour,
        "rpc_rate": contacts.rpc_rate,
        "promises": contacts.promises,
        "promise_rate": contacts.promise_rate,
        "channels": [
            {
                "channel": name,
                "attempts": c.attempts,
                "contacts": c.contacts,
                "contact_rate": c.rpc_rate,
                "promises": c.promises,
                "promise_rate": c.promise_rate,
            }
            for name, c in sorted(contacts.by_channel.items())
        ],
        "kept": {
            "judged": kept.judged,
            "kept": kept.kept,
            "rate": kept.kept_rate,
            "promised": kept.promised_amount,
            "paid": kept.kept_amount,
            "amount_rate": kept.kept_amount_rate,
        },
        "recovered": {
            "first_day": found.first_day,
            "last_day": found.last_day,
            "payments": recovered.payments,
            "amount": recovered.amount,
            "target": recovered.target,
            "share": recovered.share,
        },
        "hours": by_hour_of_day(found.hours, ZoneInfo(server_policy().zones.fallback)),
        "agents_figures": [
            {
                "agent": a.agent,
                "attempts": a.attempts,
                "contacts": a.contacts,
                "agent_hours": a.agent_hours,
                "contacts_per_hour": a.contacts_per_hour,
                "rpc_rate": a.rpc_rate,
                "promises": a.promises,
                "promise_rate": a.promise_rate,
                "judged": a.judged,
                "kept": a.kept,
                "kept_rate": a.kept_rate,
                "recovered": a.recovered,
            }
            for a in found.by_agent
        ],
    }


def _months(text: Any) -> Any:
    """A "YYYY-MM-DD" column as a count of months (year * 12 + month), in SQL."""
    return func.cast(func.substr(text, 1, 4), Integer) * 12 + func.cast(func.substr(text, 6, 2), Integer)


def _on(table: Any, day: date) -> Any:
    """The bucket-history rows in force on `day`."""
    return and_(
        table.c.entered_on <= day.isoformat(), or_(table.c.left_on.is_(None), table.c.left_on > day.isoformat())
    )


def portfolio(conn: Connection, since: datetime, until: datetime, team: str | None) -> dict[str, Any]:
    """Aging at `until`, roll rates from `since` to `until`, and vintage curves (12 months on book; bad:
    30 days past due or more), over the team's accounts (every account without a team). Counted in
    the database; domain/kpi.py turns the counts into shares."""
    policy = server_policy()
    order = [b.code for b in policy.buckets.buckets]
    bad = sorted((b.code for b in policy.buckets.buckets if b.min_dpd >= 30), key=order.index)
    accounts = account_facts
    mine: ColumnElement[bool] = true()
    if team is not None:
        mine = accounts.c.agent.in_(team_agents(conn, team))
    owed = conn.execute(
        select(accounts.c.bucket, func.count(), func.sum(accounts.c.balance)).where(mine).group_by(accounts.c.bucket)
    ).all()
    # Roll rates: each account's bucket on the first day against its bucket on the last (closed: none).
    before, after = bucket_facts.alias("before"), bucket_facts.alias("after")
    theirs = select(accounts.c.id).where(mine).scalar_subquery() if team is not None else None
    moves = (
        select(before.c.bucket, func.coalesce(after.c.bucket, "closed"), func.count())
        .select_from(before.outerjoin(after, and_(after.c.account_id == before.c.account_id, _on(after, until.date()))))
        .where(_on(before, since.date()))
        .group_by(before.c.bucket, func.coalesce(after.c.bucket, "closed"))
    )
    if theirs is not None:
        moves = moves.where(before.c.account_id.in_(theirs))
    # Vintage: accounts per origination month, and per months from its first day to the first bad day.
    cohort = func.substr(accounts.c.opened_on, 1, 7)
    sizes: dict[str, int] = dict(conn.execute(select(cohort, func.count()).where(mine).group_by(cohort)).all())
    first_bad = (
        select(bucket_facts.c.account_id, func.min(bucket_facts.c.entered_on).label("day"))
        .where(bucket_facts.c.bucket.in_(bad))
        .group_by(bucket_facts.c.account_id)
        .subquery()
    )
    month = _months(first_bad.c.day) - _months(accounts.c.opened_on)
    went_bad = conn.execute(
        select(cohort, month, func.count())
        .select_from(accounts.join(first_bad, first_bad.c.account_id == accounts.c.id))
        .where(mine)
        .group_by(cohort, month)
    ).all()
    return {
        "since": since,
        "until": until,
        "team": team,
        "aging": [
            {"bucket": b, "accounts": n, "balance": total}
            for b, n, total in aging_from_sums(((b, n, int(total)) for b, n, total in owed), order)
        ],
        "roll_rates": roll_rates_from_moves(((b, a), n) for b, a, n in conn.execute(moves)),
        "vintage": vintage_from_counts(sizes, {(c, int(m)): n for c, m, n in went_bad}, until.date()),
        "cohorts": sizes,
        "bad_buckets": bad,
    }
