"""What a workstation reads: the changes to its portfolio after a cursor (long-polled), and the
snapshot pages of a first sync or a reset.

No `from __future__ import annotations` here: FastAPI reads the dependency annotations at runtime.
"""

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import Connection, update

from cobro_tui.api.models import INT32, ChangesResponse, SnapshotPage
from cobro_tui.server import auth, keeping
from cobro_tui.server.db import write_tx
from cobro_tui.server.deps import PROBLEMS, ApiProblem, Gate, GateDep, agent_user, problems
from cobro_tui.server.feed import head_seq, server_epoch
from cobro_tui.server.pull import ResetRequired, changes_after, make_cursor, parse_cursor, snapshot_page
from cobro_tui.server.schema import sync_clients

MAX_WAIT_S = 25

router = APIRouter()


def _sweep(gate: Gate, agent: str) -> None:
    """Promises whose grace ended are judged before an agent's changes are read, once a minute."""
    now = gate.clock.now()
    if now.timestamp() - gate.swept_at.get(agent, 0.0) >= 60:
        gate.swept_at[agent] = now.timestamp()
        keeping.sweep(gate.engine, now, agent)


def _changes(gate: Gate, agent: str, cursor: str | None, limit: int) -> tuple[ChangesResponse, int]:
    """The page of changes, and the feed's head it was read at."""
    _sweep(gate, agent)
    with gate.engine.connect() as conn:
        try:
            after = parse_cursor(conn, cursor)
        except ResetRequired as reset:
            raise ApiProblem(
                410, "RESET_REQUIRED", "the workstation must take a new snapshot", {"reason": reset.reason}
            ) from None
        page = changes_after(conn, agent, after, limit)
        response = ChangesResponse(
            server_time=gate.clock.now(),
            server_epoch=server_epoch(conn),
            changes=page.changes,
            next_cursor=make_cursor(conn, page.next_seq),
            has_more=page.has_more,
        )
        return response, page.head


def _note_health(gate: Gate, agent: str, device_id: str | None, pending: int | None, oldest: str | None) -> None:
    """What a workstation says of itself when it reads its changes: seen now, with its pending items."""
    if device_id is None:
        return
    with write_tx(gate.engine) as conn:
        conn.execute(
            update(sync_clients)
            .where(sync_clients.c.device_id == device_id, sync_clients.c.agent == agent)
            .values(last_seen_at=gate.clock.now().isoformat(), pending_items=pending, oldest_pending_at=oldest)
        )


@router.get("/v1/changes", response_model=ChangesResponse, responses=problems(410))
async def changes(
    user: Annotated[auth.User, Depends(agent_user)],
    gate: GateDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S)] = 0,
    device_id: Annotated[str | None, Header(alias="Device-Id")] = None,
    pending_items: Annotated[int | None, Header(alias="Pending-Items", ge=0, le=INT32)] = None,
    oldest_pending: Annotated[datetime | None, Header(alias="Oldest-Pending")] = None,
) -> ChangesResponse:
    if pending_items is not None:
        await run_in_threadpool(
            _note_health,
            gate,
            user.username,
            device_id,
            pending_items,
            oldest_pending.isoformat() if oldest_pending else None,
        )
    response, seen = await run_in_threadpool(_changes, gate, user.username, cursor, limit)
    # Long-poll: with nothing yet, wait for this agent's changes (pushed through any worker) until
    # `wait` runs out or the server begins to shut down, then answer what there is.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while not response.changes and await gate.watch.wait(user.username, seen, deadline - loop.time()):
        response, seen = await run_in_threadpool(_changes, gate, user.username, cursor, limit)
    return response


def _page_start(conn: Connection, page: str | None) -> tuple[int, int, str]:
    """Where a snapshot page starts: the sequence it is taken at, the kind and the id after which it goes on."""
    if not page:
        return head_seq(conn), 0, ""
    try:
        seq_text, kind_text, after_id = page.split(":", 2)
        return int(seq_text), int(kind_text), after_id
    except ValueError:
        raise ApiProblem(422, "MALFORMED_REQUEST", "page is not a token this server gave") from None


@router.get("/v1/snapshot", response_model=SnapshotPage, responses=PROBLEMS)
def snapshot(
    user: Annotated[auth.User, Depends(agent_user)],
    gate: GateDep,
    page: str | None = None,
    limit: Annotated[int, Query(ge=1, le=20000)] = 5000,
) -> Response:
    with gate.engine.connect() as conn:
        seq, kind_index, after_id = _page_start(conn, page)
        items, following = snapshot_page(conn, user.username, kind_index, after_id, limit)
        # The documents are stored as JSON already: the page is assembled as text (the shape is SnapshotPage).
        head = SnapshotPage(
            server_time=gate.clock.now(),
            server_epoch=server_epoch(conn),
            entities=[],
            next_page=None if following is None else f"{seq}:{following[0]}:{following[1]}",
            cursor=make_cursor(conn, seq),
        ).model_dump_json()
    body = head.replace('"entities":[]', '"entities":[' + ",".join(items) + "]", 1)
    return Response(body, media_type="application/json")
