"""GET /v1/changes and GET /v1/snapshot: what an agent may see, in commit order, in whole transactions."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, and_, select

from cobro_tui.api.models import Change
from cobro_tui.server.feed import CUSTOMER_KINDS, head_seq, server_epoch
from cobro_tui.server.schema import change_log, entities


class ResetRequired(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_cursor(conn: Connection, cursor: str | None) -> int:
    """The seq after which to read; a cursor of another server epoch orders a reset."""
    epoch = server_epoch(conn)
    if not cursor:
        return 0
    cursor_epoch, _, seq = cursor.partition(".")
    if cursor_epoch != epoch or not seq.isdigit():
        raise ResetRequired("epoch_changed")
    if int(seq) > head_seq(conn):
        raise ResetRequired("cursor_ahead_of_server")
    return int(seq)


def make_cursor(conn: Connection, seq: int) -> str:
    return f"{server_epoch(conn)}.{seq}"


def _change(row) -> Change:  # type: ignore[no-untyped-def]
    return Change(seq=row.seq, entity=row.kind, id=row.entity_id, op=row.op, version=row.version,
                  data=None if row.payload is None else json.loads(row.payload))


@dataclass
class ChangesPage:
    changes: list[Change]
    next_seq: int
    has_more: bool


def changes_after(conn: Connection, agent: str, after: int, limit: int) -> ChangesPage:
    """The agent's changes after `after`, whole transactions only, up to `limit` (a little more to
    finish the last transaction)."""
    # The head is read first: every seq up to it is committed (seqs come from one locked counter),
    # so reading only up to it can never skip a change committed a moment later, at any isolation level.
    head = head_seq(conn)
    mine = (change_log.c.audience == agent) & (change_log.c.seq > after) & (change_log.c.seq <= head)
    rows = conn.execute(select(change_log).where(mine).order_by(change_log.c.seq).limit(limit + 1)).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    if has_more and rows:
        # Never split a transaction across pages: finish the last one.
        last = rows[-1]
        rows += conn.execute(select(change_log).where(mine, change_log.c.tx == last.tx, change_log.c.seq > last.seq)
                             .order_by(change_log.c.seq)).all()
        has_more = conn.execute(select(change_log.c.seq).where(mine, change_log.c.seq > rows[-1].seq).limit(1)).first() is not None
    # With nothing more for this agent, the cursor moves to the head, past other agents' changes.
    next_seq = head if not has_more else rows[-1].seq
    return ChangesPage([_change(r) for r in rows], next_seq, has_more)


SNAPSHOT_KINDS = ("customer", "contact_point", "restriction", "account", "reference", "payment", "promise",
                  "payment_plan", "contact_attempt", "bucket_history", "note")


def _public_json(kind: str, text: str) -> str:
    """The stored document as sent: server-only fields (_name) removed, else the text as it is."""
    if kind == "account" and '"_' in text:
        return json.dumps({k: v for k, v in json.loads(text).items() if not k.startswith("_")}, ensure_ascii=False)
    return text


def snapshot_page(conn: Connection, agent: str, kind_index: int, after_id: str, limit: int) -> tuple[list[str], tuple[int, str] | None]:
    """Entities the agent may see, kind by kind in dependency order, keyset-paged by id, as JSON
    objects ready to send (no parsing of the stored documents on the hot path)."""
    out: list[str] = []
    last_id = after_id
    while kind_index < len(SNAPSHOT_KINDS) and len(out) < limit:
        kind = SNAPSHOT_KINDS[kind_index]
        if kind in CUSTOMER_KINDS:
            mine = select(entities.c.customer_id).where(and_(entities.c.kind == "account", entities.c.agent == agent))
            visible = entities.c.customer_id.in_(mine)
        else:
            visible = entities.c.agent == agent
        query = select(entities.c.id, entities.c.version, entities.c.data).where(entities.c.kind == kind, visible)
        if last_id:
            query = query.where(entities.c.id > last_id)
        rows = conn.execute(query.order_by(entities.c.id).limit(limit - len(out))).all()
        head = f'{{"seq":0,"entity":"{kind}","op":"upsert","id":'
        for row in rows:
            out.append(f'{head}{json.dumps(row.id)},"version":{row.version},"data":{_public_json(kind, row.data)}}}')
        if len(out) < limit:
            kind_index, last_id = kind_index + 1, ""
        else:
            last_id = rows[-1].id
    return out, (None if kind_index >= len(SNAPSHOT_KINDS) else (kind_index, last_id))
