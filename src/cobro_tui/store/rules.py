"""What the contact rules need from the cache, for one account or a whole queue, and where the
queue keeps each account's next contact instant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from cobro_tui.domain.cards import holdable_number
from cobro_tui.domain.models import ContactPoint, Reference, Restriction
from cobro_tui.store import rows as R
from cobro_tui.store.engine import write_connection
from cobro_tui.store.types import instant_text

# Customers per statement when reading some of them.
_CHUNK = 500


@dataclass
class RuleFacts:
    """The rule inputs of a set of customers, and their accounts in view."""

    accounts: list[tuple[str, str]] = field(default_factory=list)  # (account id, customer id)
    stored: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # account -> contact_from, _until
    birth_dates: dict[str, date] = field(default_factory=dict)
    # contact point rows by customer: all columns (rows.columns_of("contact_point"), `point_of_row` reads
    # one), or only PHONE_COLUMNS of the phones for the queue's pass
    points: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: defaultdict(list))
    restrictions: dict[str, list[Restriction]] = field(default_factory=lambda: defaultdict(list))
    # (started_at, channel, account_id, direction, result_code), synced and pending alike
    history: dict[str, list[tuple[str, str, str, str, str]]] = field(default_factory=lambda: defaultdict(list))
    references: dict[str, list[Reference]] = field(default_factory=lambda: defaultdict(list))  # by account
    callbacks: dict[str, list[datetime]] = field(default_factory=lambda: defaultdict(list))  # asked for, by customer


def _customers_clause(agent: str | None, ids: Sequence[str] | None) -> tuple[str, dict[str, Any]]:
    if ids is None:
        return "customer_id IN (SELECT customer_id FROM account WHERE assigned_agent = :agent)", {"agent": agent}
    names = {f"c{i}": value for i, value in enumerate(ids)}
    return f"customer_id IN ({', '.join(':' + n for n in names)})", names


def point_of_row(row: Sequence[Any]) -> ContactPoint:
    return R.contact_point_from_row(row)


# The columns of a phone the queue's pass reads (no value: the rules never need the number itself).
PHONE_COLUMNS = (
    "id",
    "customer_id",
    "kind",
    "provenance",
    "state_code",
    "municipality_code",
    "postal_code",
    "consent_sms",
    "consent_whatsapp",
    "consent_email",
    "opted_out",
    "wrong_number",
    "is_primary",
)
POINT_COLUMNS = {name: index for index, name in enumerate(PHONE_COLUMNS)}


def agent_accounts(engine: Engine, agent: str) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.exec_driver_sql("SELECT id FROM account WHERE assigned_agent = ? ORDER BY id", (agent,)).scalars()
        )


def read_rule_facts(
    engine: Engine,
    since: datetime,
    *,
    agent: str | None = None,
    account_ids: Sequence[str] | None = None,
    with_references: bool = False,
    phones_only: bool = False,
) -> RuleFacts:
    """The facts of the agent's accounts (all when `account_ids` is None) and their customers:
    contact points, holds and opt-outs, birth dates, and every contact since `since`."""
    facts = RuleFacts()
    with engine.connect() as conn:
        if account_ids is None:
            facts.accounts = [
                tuple(r)
                for r in conn.exec_driver_sql("SELECT id, customer_id FROM account WHERE assigned_agent = ?", (agent,))
            ]
            _read_customers(conn, facts, since, None, agent, phones_only)
        else:
            for start in range(0, len(account_ids), _CHUNK):
                chunk = list(account_ids[start : start + _CHUNK])
                marks = ", ".join("?" * len(chunk))
                rows = conn.exec_driver_sql(
                    f"SELECT id, customer_id, contact_from, contact_until FROM account WHERE id IN ({marks})",
                    tuple(chunk),
                ).fetchall()
                found = [(r[0], r[1]) for r in rows]
                facts.stored.update((r[0], (r[2], r[3])) for r in rows)
                facts.accounts += found
                _read_customers(conn, facts, since, sorted({c for _, c in found}), agent, phones_only)
        if with_references:
            for account_id, _ in facts.accounts:
                facts.references[account_id] = [
                    R.reference_from_row(r)
                    for r in conn.exec_driver_sql(
                        f"SELECT {', '.join(R.REFERENCE[:6])} FROM reference WHERE account_id = ?", (account_id,)
                    )
                ]
    return facts


def _read_customers(
    conn: Connection, facts: RuleFacts, since: datetime, ids: list[str] | None, agent: str | None, phones_only: bool
) -> None:
    if ids == []:
        return
    where, params = _customers_clause(agent, ids)
    for cid, born in conn.exec_driver_sql(
        f"SELECT id, birth_date FROM customer WHERE {where.replace('customer_id', 'id', 1)}", params
    ).fetchall():
        facts.birth_dates[cid] = date.fromisoformat(born)
    if phones_only:
        columns = ", ".join(PHONE_COLUMNS)
        sql = f"SELECT {columns} FROM contact_point WHERE {where} AND kind IN ('mobile', 'home', 'work')"
    else:
        sql = f"SELECT {', '.join(R.columns_of('contact_point'))} FROM contact_point WHERE {where}"
    for row in conn.exec_driver_sql(sql, params).fetchall():
        facts.points[row[1]].append(row)
    columns = ", ".join(R.columns_of("restriction"))
    for row in conn.exec_driver_sql(f"SELECT {columns} FROM restriction WHERE {where}", params):
        restriction = R.entity_from_row("restriction", row)
        facts.restrictions[restriction.customer_id].append(restriction)
    for row in conn.exec_driver_sql(
        "SELECT customer_id, started_at, channel, account_id, direction, result_code, callback_at FROM contact_attempt "
        f"WHERE {where} AND started_at >= :since",
        {**params, "since": instant_text(since)},
    ).fetchall():
        facts.history[row[0]].append(tuple(row[1:6]))
        if row[6]:
            facts.callbacks[row[0]].append(datetime.fromisoformat(row[6]))


def store_contact_times(engine: Engine, times: Sequence[tuple[datetime | None, datetime | None, str]]) -> None:
    """Each account's next allowed contact instant and the end of its current window (None: never / unknown)."""
    if not times:
        return
    with write_connection(engine) as conn:
        conn.exec_driver_sql(
            "UPDATE account SET contact_from = ?, contact_until = ? WHERE id = ?",
            [
                (instant_text(a) if a else None, instant_text(b) if b else None, account_id)
                for a, b, account_id in times
            ],
        )


def contact_times_crossed(engine: Engine, agent: str, after: datetime, until: datetime) -> list[str]:
    """Accounts whose contact window opened or closed in (after, until]: their scores must change."""
    with engine.connect() as conn:
        return list(
            conn.exec_driver_sql(
                "SELECT id FROM account WHERE assigned_agent = :agent AND "
                "((contact_from > :after AND contact_from <= :until) OR (contact_until > :after AND contact_until <= :until))",
                {"agent": agent, "after": instant_text(after), "until": instant_text(until)},
            ).scalars()
        )


def find_account(engine: Engine, text: str) -> str | None:
    """An account by its id or its number (a card's, full or truncated, is looked up truncated: the
    cache holds no more)."""
    number = holdable_number(text)
    with engine.connect() as conn:
        return conn.exec_driver_sql(
            "SELECT id FROM account WHERE id = ? OR number = ? LIMIT 1", (text, number)
        ).scalar()
