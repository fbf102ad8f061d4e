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
    # contact point rows by customer: every column by name (`point_of_row` reads one), or only
    # PHONE_COLUMNS of the phones for the queue's pass (POINT_COLUMNS says where each is)
    points: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
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


def point_of_row(row: R.NamedRow) -> ContactPoint:
    return R.entity_from_row("contact_point", row)


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
                found = [(account_id, customer_id) for account_id, customer_id, _, _ in rows]
                facts.stored.update((account_id, (start, until)) for account_id, _, start, until in rows)
                facts.accounts += found
                _read_customers(conn, facts, since, sorted({c for _, c in found}), agent, phones_only)
        if with_references:
            for account_id, _ in facts.accounts:
                facts.references[account_id] = [
                    R.entity_from_row("reference", r)
                    for r in conn.exec_driver_sql(
                        "SELECT * FROM reference WHERE account_id = ?", (account_id,)
                    ).mappings()
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
        # The queue's pass reads every phone of every account: rows as they come, columns by POINT_COLUMNS.
        columns = ", ".join(PHONE_COLUMNS)
        sql = f"SELECT {columns} FROM contact_point WHERE {where} AND kind IN ('mobile', 'home', 'work')"
        customer = POINT_COLUMNS["customer_id"]
        for row in conn.exec_driver_sql(sql, params).fetchall():
            facts.points[row[customer]].append(row)
    else:
        for point in conn.exec_driver_sql(f"SELECT * FROM contact_point WHERE {where}", params).mappings().all():
            facts.points[point["customer_id"]].append(point)
    for held in conn.exec_driver_sql(f"SELECT * FROM restriction WHERE {where}", params).mappings():
        restriction = R.entity_from_row("restriction", held)
        facts.restrictions[restriction.customer_id].append(restriction)
    for customer_id, started_at, channel, account_id, direction, result_code, callback_at in conn.exec_driver_sql(
        "SELECT customer_id, started_at, channel, account_id, direction, result_code, callback_at FROM contact_attempt "
        f"WHERE {where} AND started_at >= :since",
        {**params, "since": instant_text(since)},
    ).fetchall():
        facts.history[customer_id].append((started_at, channel, account_id, direction, result_code))
        if callback_at:
            facts.callbacks[customer_id].append(datetime.fromisoformat(callback_at))


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
