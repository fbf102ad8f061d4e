"""The transactional outbox: mutations written with their domain rows, waiting for the server."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from cobro_tui.domain.audit import canonical_json
from cobro_tui.domain.ids import new_id
from cobro_tui.store.audit_log import append_event
from cobro_tui.store.device import meta, set_meta
from cobro_tui.store.engine import write_connection
from cobro_tui.store.types import instant_text


@dataclass(frozen=True, slots=True)
class OutboxItem:
    mutation_id: str
    client_seq: int
    name: str
    args: dict[str, Any]
    account_id: str | None
    state: str
    occurred_at: datetime


def enqueue(
    conn: Connection,
    *,
    name: str,
    args: dict[str, Any],
    occurred_at: datetime,
    account_id: str | None = None,
    base_version: int | None = None,
) -> OutboxItem:
    """Add a mutation with the next gapless client_seq. Call inside the action's write transaction."""
    row = meta(conn, "next_client_seq", "cursor")
    if row is None:
        raise RuntimeError("the cache has no device yet; call ensure_device first")
    seq, cursor = row["next_client_seq"], row["cursor"]
    mutation_id = new_id()
    conn.exec_driver_sql(
        "INSERT INTO outbox (mutation_id, client_seq, name, args_json, account_id, occurred_at_client, "
        "monotonic_ms, observed_cursor, base_version, state, attempts, acknowledged_by_agent) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, 0)",
        (
            mutation_id,
            seq,
            name,
            canonical_json(args),
            account_id,
            instant_text(occurred_at),
            int(time.monotonic() * 1000),
            cursor,
            base_version,
        ),
    )
    set_meta(conn, next_client_seq=seq + 1)
    return OutboxItem(mutation_id, seq, name, args, account_id, "pending", occurred_at)


def pending(engine: Engine) -> list[OutboxItem]:
    """Items not yet answered by the server, oldest first."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT mutation_id, client_seq, name, args_json AS args, account_id, state, "
            "occurred_at_client AS occurred_at FROM outbox WHERE state IN ('pending', 'inflight') ORDER BY client_seq"
        ).mappings()
        return [
            OutboxItem(**{**r, "args": json.loads(r["args"]), "occurred_at": datetime.fromisoformat(r["occurred_at"])})
            for r in rows
        ]


# Answers the agent must see until they say they have: refusals, and facts kept with a warning.
NEEDS_ATTENTION = ("rejected", "applied_with_warnings")


def item_rows(engine: Engine, limit: int) -> list[tuple[Any, ...]]:
    """Outbox items for the agent to follow: every unacknowledged one that needs attention, then the
    latest others, newest first: (mutation_id, name, account_id, state, occurred_at, verdict_json)."""
    columns = "mutation_id, name, account_id, state, occurred_at_client, verdict_json"
    with engine.connect() as conn:
        attention = conn.exec_driver_sql(
            f"SELECT {columns} FROM outbox WHERE acknowledged_by_agent = 0 AND state IN (?, ?) ORDER BY client_seq DESC",
            NEEDS_ATTENTION,
        ).all()
        others = conn.exec_driver_sql(
            f"SELECT {columns} FROM outbox WHERE acknowledged_by_agent = 0 AND state NOT IN (?, ?) "
            "ORDER BY client_seq DESC LIMIT ?",
            (*NEEDS_ATTENTION, limit),
        ).all()
    return [tuple(r) for r in (*attention, *others)]


def acknowledge(engine: Engine, mutation_id: str, *, actor: str, device: str, at: datetime) -> bool:
    """The agent has seen a refusal or warning: it leaves the list (the audit log keeps the moment)."""
    with write_connection(engine) as conn:
        changed = conn.exec_driver_sql(
            "UPDATE outbox SET acknowledged_by_agent = 1 WHERE mutation_id = ? AND acknowledged_by_agent = 0 "
            "AND state IN (?, ?)",
            (mutation_id, *NEEDS_ATTENTION),
        ).rowcount
        if changed:
            append_event(
                conn, at=at, type="item.acknowledged", actor=actor, device=device, data={"mutation_id": mutation_id}
            )
    return bool(changed)
