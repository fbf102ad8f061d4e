"""What the floor recorded, out to the core and the CRM: the change export, in commit order, by cursor
(an integration credential with the export scope; docs/export.md).

No `from __future__ import annotations` here: FastAPI reads the dependency annotations at runtime.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from cobro_tui.api.export import ExportPage
from cobro_tui.server import auth, keeping
from cobro_tui.server.deps import ApiProblem, Gate, GateDep, integration, problems
from cobro_tui.server.export import (
    MAX_LIMIT,
    CursorRefused,
    events_after,
    make_cursor,
    page_json,
    parse_cursor,
    start_for,
)
from cobro_tui.server.feed import head_seq, server_epoch

router = APIRouter()
export_feed = integration("export")

SWEEP_EVERY_S = 60


def _sweep(gate: Gate) -> None:
    """Promises whose grace ended are judged (broken) before the export is read, once a minute: the
    core learns of a broken promise without waiting for its agent's next sync."""
    now = gate.clock.now()
    if now.timestamp() - gate.swept_at.get("\x00export", 0.0) >= SWEEP_EVERY_S:
        gate.swept_at["\x00export"] = now.timestamp()
        keeping.sweep(gate.engine, now)


@router.get("/v1/export/events", response_model=ExportPage, responses=problems())
def export_events(
    user: Annotated[auth.User, Depends(export_feed)],
    gate: GateDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 1000,
) -> Response:
    """The events after `cursor` in commit order, at most `limit`; without a cursor, from the first
    event recorded at or after `since` (an instant with its offset), or from the first of all.
    `next_cursor` resumes exactly after the last event given (an empty page gives a cursor too)."""
    if since is not None and since.tzinfo is None:
        raise ApiProblem(
            422, "MALFORMED_REQUEST", "since: give the instant's offset, such as 2026-12-01T00:00:00-06:00"
        )
    _sweep(gate)
    with gate.engine.connect() as conn:
        epoch = server_epoch(conn)
        try:
            after = parse_cursor(conn, cursor) if cursor else None
        except CursorRefused as refused:
            raise ApiProblem(422, refused.code, refused.message) from None
        head = head_seq(conn)
        if after is None:
            after = start_for(conn, since, head) if since is not None else 0
        page = events_after(conn, after, limit, head)
        body = page_json(page.rows, make_cursor(epoch, page.next_seq), page.has_more, gate.clock.now())
    return Response(body, media_type="application/json")
