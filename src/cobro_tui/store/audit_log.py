"""The audit chain in the cache: append inside the caller's transaction, read and verify."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping

from cobro_tui.domain.audit import (
    GENESIS,
    ChainReport,
    StoredEvent,
    event_body,
    link_hash,
    verify_chain,
)
from cobro_tui.store.types import instant_text


def append_event(
    conn: Connection, *, at: datetime, type: str, actor: str, device: str, data: dict[str, Any]
) -> StoredEvent:
    """Chain one event to the head. Call inside a write transaction with the change it records."""
    last, prev = chain_head(conn)
    seq = last + 1
    body = event_body(seq=seq, prev=prev, ts=instant_text(at), type=type, actor=actor, device=device, data=data)
    event = StoredEvent(seq, body, link_hash(body))
    conn.exec_driver_sql(
        "INSERT INTO audit_event (seq, body, hash) VALUES (?, ?, ?)", (event.seq, event.body, event.hash)
    )
    return event


def _events(conn: Connection, after: int, limit: int) -> Sequence[RowMapping]:
    return (
        conn.exec_driver_sql(
            "SELECT seq, body, hash FROM audit_event WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
        )
        .mappings()
        .all()
    )


def iter_events(conn: Connection, batch: int = 2000) -> Iterator[StoredEvent]:
    last = 0
    while True:
        rows = _events(conn, last, batch)
        if not rows:
            return
        for row in rows:
            yield StoredEvent(**row)
        last = rows[-1]["seq"]


def verify(engine: Engine) -> ChainReport:
    """Walk the whole local chain and report the first broken link, if any."""
    with engine.connect() as conn:
        return verify_chain(iter_events(conn))


def chain_head(conn: Connection) -> tuple[int, str]:
    """The last event's number and hash (0 and the genesis hash for an empty chain)."""
    row = conn.exec_driver_sql("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1").mappings().first()
    return (int(row["seq"]), str(row["hash"])) if row else (0, GENESIS)


def events_after(engine: Engine, seq: int, limit: int) -> list[StoredEvent]:
    """The events after `seq`, in order: what the server has not acknowledged yet."""
    with engine.connect() as conn:
        return [StoredEvent(**row) for row in _events(conn, seq, limit)]


def event_hash(conn: Connection, seq: int) -> str | None:
    return conn.exec_driver_sql("SELECT hash FROM audit_event WHERE seq = ?", (seq,)).scalar()
