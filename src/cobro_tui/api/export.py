"""The change export's wire shapes (GET /v1/export/events): layout version 1, docs/export.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from cobro_tui.api.models import Wire


class ExportEvent(Wire):
    seq: int
    """Where the event stands in commit order (not dense: the change feed numbers its rows from the same counter)."""
    kind: str
    """contact.logged, note.added, promise.created, promise.cancelled, promise.outcome, plan.created,
    plan.outcome, approval.requested, approval.decided, restriction.recorded, account.reassigned."""
    at: datetime
    """When the server recorded the change (UTC)."""
    data: dict[str, Any]
    """The event's fields, per kind (docs/export.md)."""


class ExportPage(Wire):
    layout: Literal[1]
    server_time: datetime
    next_cursor: str
    """Where to resume: give it back as `cursor`; a reader that does never sees an event twice nor misses one."""
    has_more: bool
    events: list[ExportEvent]
