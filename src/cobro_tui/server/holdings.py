"""Who held an account when: the server's assignment history, kept by every assignment and
reassignment, and the questions the authorization of a command asks of it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, and_, bindparam, exists, insert, or_, select, update

from cobro_tui.domain.records import instant_text
from cobro_tui.server.hot import Hot
from cobro_tui.server.schema import assignment_history, change_log, entities

_OPEN = (
    update(assignment_history)
    .where(assignment_history.c.account_id == bindparam("a"), assignment_history.c.held_until.is_(None))
    .values(held_until=bindparam("b_until"))
)


def start_of(day: str) -> str:
    """The first instant of a day (an account's opening day) as history text."""
    return instant_text(datetime.combine(date.fromisoformat(day), time(0), tzinfo=UTC))


def hand_over(conn: Connection, account_id: str, to_agent: str | None, at: datetime) -> None:
    """The account leaves whoever holds it at `at` and, with `to_agent`, goes to them from then."""
    moment = instant_text(at)
    conn.execute(_OPEN, {"a": account_id, "b_until": moment})
    if to_agent:
        conn.execute(insert(assignment_history).values(account_id=account_id, agent=to_agent, held_from=moment))


def first_holdings(rows: Iterable[tuple[str, str | None, str]]) -> list[dict[str, str]]:
    """History rows for new accounts (id, agent, opening day), held since they opened: the seed's path."""
    return [
        {"account_id": account_id, "agent": agent, "held_from": start_of(opened_on)}
        for account_id, agent, opened_on in rows
        if agent
    ]


# Built once: these run for every command a workstation pushes.
_HELD_AT = Hot(
    select(assignment_history.c.id)
    .where(
        assignment_history.c.account_id == bindparam("a"),
        assignment_history.c.agent == bindparam("g"),
        assignment_history.c.held_from <= bindparam("latest"),
        or_(assignment_history.c.held_until.is_(None), assignment_history.c.held_until >= bindparam("earliest")),
    )
    .limit(1)
)
_EVER_HELD = (
    select(assignment_history.c.id)
    .where(assignment_history.c.account_id == bindparam("a"), assignment_history.c.agent == bindparam("g"))
    .limit(1)
)
_CUSTOMER_ACCOUNT = entities.alias("account")
_CUSTOMER_HELD_AT = (
    select(assignment_history.c.id)
    .where(
        exists().where(
            _CUSTOMER_ACCOUNT.c.kind == "account",
            _CUSTOMER_ACCOUNT.c.customer_id == bindparam("c"),
            _CUSTOMER_ACCOUNT.c.id == assignment_history.c.account_id,
        ),
        assignment_history.c.agent == bindparam("g"),
        assignment_history.c.held_from <= bindparam("latest"),
        or_(assignment_history.c.held_until.is_(None), assignment_history.c.held_until >= bindparam("earliest")),
    )
    .limit(1)
)


def held_at(conn: Connection, account_id: str, agent: str, at: datetime, slack_s: int) -> bool:
    """Whether `agent` held the account at `at`, give or take `slack_s` seconds of clock skew."""
    earliest, latest = _window(at, slack_s)
    found = _HELD_AT.first(conn, {"a": account_id, "g": agent, "latest": latest, "earliest": earliest})
    return found is not None


def _window(at: datetime, slack_s: int) -> tuple[str, str]:
    moment = at.astimezone(UTC)
    return instant_text(moment - timedelta(seconds=slack_s)), instant_text(moment + timedelta(seconds=slack_s))


def ever_held(conn: Connection, account_id: str, agent: str) -> bool:
    return conn.execute(_EVER_HELD, {"a": account_id, "g": agent}).first() is not None


def customer_held_at(conn: Connection, customer_id: str, agent: str, at: datetime, slack_s: int) -> bool:
    """Whether `agent` held one of the customer's accounts at `at` (facts about a person)."""
    earliest, latest = _window(at, slack_s)
    found = conn.execute(_CUSTOMER_HELD_AT, {"c": customer_id, "g": agent, "latest": latest, "earliest": earliest})
    return found.first() is not None


def backfill(conn: Connection) -> None:
    """The history of accounts stored before it was kept: each held since it opened, handed over at
    the instants of the revokes in the change feed (a migration's path; portable, no JSON SQL)."""
    revokes: dict[str, list[tuple[str, str]]] = {}
    for account_id, agent, at in conn.execute(
        select(change_log.c.entity_id, change_log.c.audience, change_log.c.created_at)
        .where(and_(change_log.c.kind == "account", change_log.c.op == "revoke"))
        .order_by(change_log.c.seq)
    ):
        revokes.setdefault(account_id, []).append((agent, instant_text(datetime.fromisoformat(at))))
    batch: list[dict[str, str | None]] = []
    for account_id, agent, data in conn.execute(
        select(entities.c.id, entities.c.agent, entities.c.data).where(entities.c.kind == "account")
    ):
        since = start_of(json.loads(data)["opened_on"])
        for former, until in revokes.get(account_id, []):
            batch.append({"account_id": account_id, "agent": former, "held_from": since, "held_until": until})
            since = until
        if agent:
            batch.append({"account_id": account_id, "agent": agent, "held_from": since, "held_until": None})
        if len(batch) >= 5000:
            conn.execute(insert(assignment_history), batch)
            batch = []
    if batch:
        conn.execute(insert(assignment_history), batch)
