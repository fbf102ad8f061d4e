"""Security events: what the server refused as an attempt on what is not the caller's, kept for
supervisors, managers and auditors to review (who, what, when, from where; never personal data)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from cobro_tui.domain.records import instant_text
from cobro_tui.server.schema import security_events


def record_security_event(
    conn: Connection,
    at: datetime,
    code: str,
    actor: str | None,
    source: str | None,
    subject: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    """One event, in the caller's transaction (it stands or falls with the verdict it explains)."""
    conn.execute(
        insert(security_events).values(
            at=instant_text(at),
            code=code[:48],
            actor=None if actor is None else actor[:64],
            source=None if source is None else source[:64],
            subject=None if subject is None else subject[:128],
            details=json.dumps(details, separators=(",", ":"), ensure_ascii=False) if details else None,
        )
    )


def security_listing(
    conn: Connection, since: datetime | None, actors: set[str] | None, limit: int
) -> list[dict[str, Any]]:
    """The newest events first (of the given actors only, when a supervisor's team limits them)."""
    query = select(security_events).order_by(security_events.c.id.desc()).limit(limit)
    if since is not None:
        query = query.where(security_events.c.at >= instant_text(since))
    if actors is not None:
        query = query.where(security_events.c.actor.in_(sorted(actors)))
    return [
        {**row._mapping, "details": json.loads(row.details) if row.details else None} for row in conn.execute(query)
    ]
