"""GET /v1/changes and GET /v1/snapshot: what an agent may see, in commit order, in whole transactions."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    case,
    cast,
    exists,
    func,
    literal,
    select,
)

from cobro_tui.api.models import Change
from cobro_tui.server.feed import CUSTOMER_KINDS, head_seq, public_fields, server_epoch
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
    return Change(
        seq=row.seq,
        entity=row.kind,
        id=row.entity_id,
        op=row.op,
        version=row.version,
        data=None if row.payload is None else json.loads(row.payload),
    )


@dataclass
class ChangesPage:
    changes: list[Change]
    next_seq: int
    has_more: bool
    head: int  # the feed's head the page was read at


def changes_after(conn: Connection, agent: str, after: int, limit: int) -> ChangesPage:
    """The agent's changes after `after`, whole transactions only, up to `limit` (a little more to
    finish the last transaction)."""
    # The head is read first: every seq up to it is committed (seqs come from one locked counter),
    # so reading only up to it can never skip a change committed a moment later, at any isolation level.
    head = head_seq(conn)
    mine = (change_log.c.audience == agent) & (change_log.c.seq > after) & (change_log.c.seq <= head)
    rows = conn.execute(select(change_log).where(mine).order_by(change_log.c.seq).limit(limit + 1)).all()
    has_more = len(rows) > limit
    rows = list(rows[:limit])
    if has_more and rows:
        # Never split a transaction across pages: finish the last one.
        last = rows[-1]
        rows += conn.execute(
            select(change_log)
            .where(mine, change_log.c.tx == last.tx, change_log.c.seq > last.seq)
            .order_by(change_log.c.seq)
        ).all()
        has_more = (
            conn.execute(select(change_log.c.seq).where(mine, change_log.c.seq > rows[-1].seq).limit(1)).first()
            is not None
        )
    # With nothing more for this agent, the cursor moves to the head, past other agents' changes.
    next_seq = head if not has_more else rows[-1].seq
    return ChangesPage([_change(r) for r in rows], next_seq, has_more, head)


SNAPSHOT_KINDS = (
    "customer",
    "contact_point",
    "restriction",
    "account",
    "reference",
    "payment",
    "promise",
    "payment_plan",
    "contact_attempt",
    "bucket_history",
    "note",
)


def _public_json(text: str) -> str:
    """The stored document as sent: server-only fields (_name) removed."""
    return json.dumps(public_fields(json.loads(text)), ensure_ascii=False)


def _visible(kind: str, agent: str) -> ColumnElement[bool]:
    """Customer records are visible while one of the customer's accounts is assigned to the agent
    (answered from ix_entities_customer alone); account records while the account is."""
    if kind in CUSTOMER_KINDS:
        account = entities.alias("account")
        return exists().where(
            account.c.customer_id == entities.c.customer_id, account.c.kind == "account", account.c.agent == agent
        )
    return entities.c.agent == agent


def snapshot_page(
    conn: Connection, agent: str, kind_index: int, after_id: str, limit: int
) -> tuple[list[str], tuple[int, str] | None]:
    """Entities the agent may see, kind by kind in dependency order, keyset-paged by id, as chunks of
    JSON text to join with commas. The database assembles the text from the stored documents
    (one string per chunk), so no record passes through Python; documents holding server-only
    fields (a reassigned account's "_former_agents") are the exception, cleaned one by one."""
    out: list[str] = []
    count, last_id = 0, after_id
    while kind_index < len(SNAPSHOT_KINDS) and count < limit:
        kind = SNAPSHOT_KINDS[kind_index]
        where = [entities.c.kind == kind, _visible(kind, agent)]
        if last_id:
            where.append(entities.c.id > last_id)
        private = entities.c.data.contains('"_', autoescape=True) if kind == "account" else literal(False)
        # Ids are checked on the way in (api.models.Id): no quoting needed.
        item = (
            literal(f'{{"seq":0,"entity":"{kind}","op":"upsert","id":"')
            + entities.c.id
            + literal('","version":')
            + cast(entities.c.version, String)
            + literal(',"data":')
            + entities.c.data
            + literal("}")
        )
        window = (
            select(entities.c.id, case((private, None), else_=item).label("item"))
            .where(*where)
            .order_by(entities.c.id)
            .limit(limit - count)
            .subquery()
        )
        text, taken, top = conn.execute(
            select(func.aggregate_strings(window.c.item, ","), func.count(), func.max(window.c.id))
        ).one()
        if text:
            out.append(text)
        if taken and kind == "account":
            head = f'{{"seq":0,"entity":"{kind}","op":"upsert","id":'
            for row in conn.execute(
                select(entities.c.id, entities.c.version, entities.c.data).where(*where, entities.c.id <= top, private)
            ):
                out.append(f'{head}{json.dumps(row.id)},"version":{row.version},"data":{_public_json(row.data)}}}')
        count += taken
        if count < limit:
            kind_index, last_id = kind_index + 1, ""
        else:
            last_id = top
    return out, (None if kind_index >= len(SNAPSHOT_KINDS) else (kind_index, last_id))
