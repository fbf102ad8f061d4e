"""The KPI projections: a narrow row per contact attempt, promise, account, bucket stay and payment, written with their
documents (feed.Tx.put calls `project`; the seed writes them in bulk)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert

from cobro_tui.server.hot import Hot
from cobro_tui.server.schema import (
    account_facts,
    bucket_facts,
    contact_facts,
    contact_hours,
    payment_facts,
    promise_facts,
)

TABLES = {
    "contact_attempt": contact_facts,
    "promise": promise_facts,
    "account": account_facts,
    "bucket_history": bucket_facts,
    "payment": payment_facts,
}

PROJECTED = tuple(TABLES)

# Built once per table: every pushed contact or promise writes its projection row.
_DELETE = {kind: Hot(delete(table).where(table.c.id == bindparam("i"))) for kind, table in TABLES.items()}
_INSERT = {kind: Hot(insert(table)) for kind, table in TABLES.items()}
_COUNT_HOURS: dict[str, Any] = {}


def row_of(
    kind: str, entity_id: str, agent: str | None, account_id: str | None, data: dict[str, Any]
) -> dict[str, Any] | None:
    """The projection row of one document (None for kinds the KPIs do not count)."""
    if kind == "contact_attempt":
        return {
            "id": entity_id,
            "agent": data.get("agent") or agent or "",
            "account_id": account_id or "",
            "channel": data["channel"],
            "result_code": data["result_code"],
            "started_at": data["started_at"],
        }
    if kind == "promise":
        deadline = date.fromisoformat(data["due_on"]) + timedelta(days=int(data.get("grace_days") or 0))
        paid = data.get("paid")
        return {
            "id": entity_id,
            "agent": data.get("created_by") or agent or "",
            "account_id": account_id or "",
            "amount": data["amount"]["centavos"],
            "paid": paid["centavos"] if paid else 0,
            "status": data["status"],
            "created_at": data["created_at"],
            "deadline": deadline.isoformat(),
        }
    if kind == "account":
        balance = sum(data[part]["centavos"] for part in ("principal", "interest", "fees", "vat"))
        return {
            "id": entity_id,
            "agent": agent,
            "bucket": data["bucket"],
            "balance": balance,
            "opened_on": data["opened_on"],
        }
    if kind == "bucket_history":
        return {
            "id": entity_id,
            "account_id": data["account_id"],
            "bucket": data["bucket"],
            "entered_on": data["entered_on"],
            "left_on": data.get("left_on"),
        }
    if kind == "payment":
        return {
            "id": entity_id,
            "account_id": data["account_id"],
            "agent": agent,
            "amount": data["amount"]["centavos"],
            "paid_on": data["paid_on"],
            "channel": data["channel"],
        }
    return None


def project(
    conn: Connection,
    kind: str,
    entity_id: str,
    agent: str | None,
    account_id: str | None,
    data: dict[str, Any],
    new: bool = False,
) -> None:
    """The projection row of a document just written (`new`: it did not exist, so no row to replace)."""
    row = row_of(kind, entity_id, agent, account_id, data)
    if row is None:
        return
    replaced = 0 if new else _DELETE[kind].run(conn, {"i": entity_id})
    _INSERT[kind].run(conn, row)
    if kind == "contact_attempt" and not replaced:  # a new attempt: one more in its hour
        hour, agent_, channel, result = _hour_key(row)
        _count_hours_statement(conn.dialect.name, hot=True).run(
            conn, {"hour": hour, "agent": agent_, "channel": channel, "result_code": result, "n": 1}
        )


def project_many(conn: Connection, docs: list[tuple[str, str, str | None, str | None, dict[str, Any]]]) -> None:
    """Bulk rows for new documents (kind, id, agent, account id, data): the seed's path."""
    for kind, table in TABLES.items():
        rows = [
            row
            for k, i, agent, account, data in docs
            if k == kind
            for row in [row_of(k, i, agent, account, data)]
            if row is not None
        ]
        rows.sort(key=lambda row: row["id"])  # every multi-row write in key order (see count_hours)
        if rows:
            conn.execute(insert(table), rows)
            if kind == "contact_attempt":
                count_hours(conn, Counter(_hour_key(row) for row in rows))


def _hour_key(row: dict[str, Any]) -> tuple[str, str, str, str]:
    return row["started_at"][:13], row["agent"], row["channel"], row["result_code"]


def count_hours(conn: Connection, counts: Counter[tuple[str, str, str, str]]) -> None:
    """Add attempts to their hours' counts (insert, or add to the count already there).

    The rows go in key order: two writers adding to the same hours (the seed's processes, two
    imports) then lock them in one order and wait for each other instead of deadlocking."""
    rows = [
        {"hour": h, "agent": a, "channel": c, "result_code": r, "n": n} for (h, a, c, r), n in sorted(counts.items())
    ]
    if rows:
        conn.execute(_count_hours_statement(conn.dialect.name), rows)


def _count_hours_statement(dialect: str, hot: bool = False) -> Any:
    if dialect not in _COUNT_HOURS:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
        statement = upsert(contact_hours)
        _COUNT_HOURS[dialect] = statement.on_conflict_do_update(
            index_elements=["hour", "agent", "channel", "result_code"],
            set_={"n": contact_hours.c.n + statement.excluded.n},
        )
        _COUNT_HOURS["hot " + dialect] = Hot(_COUNT_HOURS[dialect])
    return _COUNT_HOURS[("hot " if hot else "") + dialect]


def backfill(conn: Connection, kinds: tuple[str, ...], batch: int = 5000) -> None:
    """Project the documents of `kinds` already stored (a migration's path; portable: no JSON SQL)."""
    import json

    from sqlalchemy import select

    from cobro_tui.server.schema import entities

    query = select(entities.c.kind, entities.c.id, entities.c.agent, entities.c.account_id, entities.c.data).where(
        entities.c.kind.in_(kinds)
    )
    docs: list[tuple[str, str, str | None, str | None, dict[str, Any]]] = []
    for kind, entity_id, agent, account_id, data in conn.execute(query):
        docs.append((kind, entity_id, agent, account_id, json.loads(data)))
        if len(docs) >= batch:
            project_many(conn, docs)
            docs = []
    if docs:
        project_many(conn, docs)
