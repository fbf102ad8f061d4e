"""A team's queues for its supervisor: per agent, their state (enabled, disabled, locked out) and
when the server last saw them, accounts by bucket, accounts worked today and promises due today (the
institution's day, in the policy's fallback zone)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, select

from cobro_tui.domain.records import instant_text
from cobro_tui.server.kpi import team_agents
from cobro_tui.server.mutations import server_policy
from cobro_tui.server.schema import account_facts, contact_facts, entities, sync_clients, users


def team_queues(conn: Connection, team: str | None, now: datetime) -> dict[str, Any]:
    agents = team_agents(conn, team)
    policy = server_policy()
    zone = ZoneInfo(policy.zones.fallback)
    today = now.astimezone(zone).date()
    day_start = datetime.combine(today, time(0), zone)
    buckets: dict[str, Counter[str]] = defaultdict(Counter)
    for agent, bucket, n in conn.execute(
        select(account_facts.c.agent, account_facts.c.bucket, func.count())
        .where(account_facts.c.agent.in_(agents))
        .group_by(account_facts.c.agent, account_facts.c.bucket)
    ):
        buckets[agent][bucket] += n
    worked: dict[str, int] = dict(
        conn.execute(
            select(contact_facts.c.agent, func.count(func.distinct(contact_facts.c.account_id)))
            .where(and_(contact_facts.c.started_at >= instant_text(day_start), contact_facts.c.agent.in_(agents)))
            .group_by(contact_facts.c.agent)
        ).all()
    )
    due: Counter[str] = Counter()
    for agent, data in conn.execute(
        select(entities.c.agent, entities.c.data).where(entities.c.kind == "promise", entities.c.agent.in_(agents))
    ):
        promise = json.loads(data)
        if promise["due_on"] == today.isoformat() and promise["status"] in ("open", "partial"):
            due[agent] += 1
    people = _people(conn, agents, now)
    order = [b.code for b in policy.buckets.buckets]
    return {
        "team": team,
        "day": today.isoformat(),
        "buckets": order,
        "agents": [
            {
                "agent": agent,
                **people[agent],
                "accounts": sum(buckets[agent].values()),
                "by_bucket": {code: buckets[agent][code] for code in order},
                "worked_today": int(worked.get(agent, 0)),
                "promises_due_today": due[agent],
            }
            for agent in agents
        ],
    }


def _people(conn: Connection, agents: list[str], now: datetime) -> dict[str, dict[str, Any]]:
    """Per agent: enabled, disabled or locked out now, and the later of their last sign-in and their
    workstation's last sync (both on the server's clock)."""
    synced: dict[str, datetime] = {}
    for agent, at in conn.execute(
        select(sync_clients.c.agent, sync_clients.c.last_seen_at).where(sync_clients.c.agent.in_(agents))
    ):
        when = datetime.fromisoformat(at)  # written by more than one route: compared as instants
        if agent not in synced or when > synced[agent]:
            synced[agent] = when
    now_text = instant_text(now)
    found: dict[str, dict[str, Any]] = {}
    for row in conn.execute(
        select(users.c.username, users.c.disabled_at, users.c.locked_until, users.c.last_login_at).where(
            users.c.username.in_(agents)
        )
    ):
        signed = datetime.fromisoformat(row.last_login_at) if row.last_login_at else None
        seen = max((at for at in (signed, synced.get(row.username)) if at is not None), default=None)
        locked = row.locked_until is not None and row.locked_until > now_text
        state = "disabled" if row.disabled_at is not None else ("locked" if locked else "enabled")
        found[row.username] = {"state": state, "seen_at": seen}
    return found


def agent_accounts(conn: Connection, agent: str) -> list[dict[str, Any]]:
    """The agent's accounts, most days past due first (then the largest balance)."""
    found = []
    for account_id, version, data in conn.execute(
        select(entities.c.id, entities.c.version, entities.c.data).where(
            entities.c.kind == "account", entities.c.agent == agent
        )
    ):
        account = json.loads(data)
        found.append(
            {
                "account_id": account_id,
                "number_tail": account["number"][-4:],
                "product": account["product"],
                "bucket": account["bucket"],
                "dpd": account["dpd"],
                "version": version,
                "balance": sum(account[part]["centavos"] for part in ("principal", "interest", "fees", "vat")),
                "last_contact_at": account.get("last_contact_at"),
            }
        )
    return sorted(found, key=lambda a: (-a["dpd"], -a["balance"], a["account_id"]))
