"""The change export for the core and the CRM (issue #16): one `export_events` row per business event,
written in the transaction of the change it describes, and read back in commit order by cursor.

Order: an event's seq is taken from the change feed's counter (feed.Seqs / feed.Tx), the row every
writer holds (on PostgreSQL: locked) from its first seq to its commit. A seq is therefore handed out
only after every smaller one was committed or rolled back, and a reader that reads the counter's
head first and then only the rows up to it never skips a row committed later with a smaller seq
(the same rule as the workstations' change feed, server/pull.py). Seqs of events are not dense: the
counter numbers the change feed's rows too.

Payloads are a stable, documented layout (version 1, docs/export.md): ids, codes, amounts in
centavos, instants in UTC; the account number and the contact point used or opted out (the core
needs them); never a customer's name, RFC or CURP, a password, a token or a key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select

from cobro_tui.domain.records import instant_text
from cobro_tui.server.feed import _NEXT_SEQ, Doc, Tx, get_doc, head_seq, server_epoch
from cobro_tui.server.hot import Hot
from cobro_tui.server.schema import entities, export_events

LAYOUT = 1  # the version of the payloads and of the cursor (docs/export.md)
MAX_LIMIT = 5000

KINDS = (
    "contact.logged",
    "note.added",
    "promise.created",
    "promise.cancelled",
    "promise.outcome",
    "plan.created",
    "plan.outcome",
    "approval.requested",
    "approval.decided",
    "restriction.recorded",
    "account.reassigned",
)

_INSERT = Hot(insert(export_events))
_NO_PARAMS: dict[str, Any] = {}


def _instant(text: str | None) -> str | None:
    """An instant the server wrote as ISO text, in the export's one form: fixed-width UTC."""
    return None if text is None else instant_text(datetime.fromisoformat(text))


def export_event(tx: Tx, kind: str, payload: dict[str, Any], account_id: str | None = None) -> int:
    """Record one business event in the caller's transaction; its seq (from the change feed's counter,
    taken through the transaction's own numbering so that a push's batch stays one run of seqs)."""
    assert kind in KINDS, kind
    seq = tx.seqs.next() if tx.seqs is not None else _NEXT_SEQ.scalar(tx.conn, _NO_PARAMS)
    _INSERT.run(
        tx.conn,
        {
            "seq": seq,
            "kind": kind,
            "account_id": account_id if account_id is not None else payload.get("account_id"),
            "at": _instant(tx.now),
            "payload": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        },
    )
    return seq


# --- payloads (layout 1) -------------------------------------------------------------------------


def _centavos(money: dict[str, Any] | None) -> int | None:
    return None if money is None else int(money["centavos"])


def _currency(money: dict[str, Any] | None) -> str | None:
    return None if money is None else str(money["currency"])


def account_number(conn: Connection, account_id: str | None, account: Doc | None = None) -> str | None:
    """The institution's account number (a card's as the server keeps it: first six and last four)."""
    if account is None and account_id is not None:
        account = get_doc(conn, "account", account_id)
    return None if account is None else account.data.get("number")


def contact_logged(
    tx: Tx, attempt: dict[str, Any], account: Doc, point: Doc | None, right_party: bool | None, compliance: str | None
) -> None:
    export_event(
        tx,
        "contact.logged",
        {
            "id": attempt["id"],
            "account_id": account.id,
            "account_number": account_number(tx.conn, account.id, account),
            "customer_id": attempt["customer_id"],
            "agent": attempt["agent"],
            "channel": attempt["channel"],
            "direction": attempt["direction"],
            "contact_point_id": attempt.get("contact_point_id"),
            "contact_point_value": point.data.get("value") if point is not None else None,
            "started_at": attempt["started_at"],
            "ended_at": attempt.get("ended_at"),
            "result_code": attempt["result_code"],
            "right_party_contact": right_party,
            "problem_code": attempt.get("problem_code"),
            "circumstance": attempt.get("circumstance", ""),
            "resolution": attempt.get("resolution", ""),
            "notes": attempt.get("notes", ""),
            "callback_at": attempt.get("callback_at"),
            "override_reason": attempt.get("override_reason"),
            "compliance": compliance,
        },
    )


def note_added(tx: Tx, note: dict[str, Any], account: Doc) -> None:
    export_event(
        tx,
        "note.added",
        {
            "id": note["id"],
            "account_id": account.id,
            "account_number": account_number(tx.conn, account.id, account),
            "author": note["author"],
            "created_at": note["created_at"],
            "text": note["text"],
        },
    )


def _promise_fields(conn: Connection, promise: dict[str, Any], account: Doc | None) -> dict[str, Any]:
    return {
        "id": promise["id"],
        "account_id": promise["account_id"],
        "account_number": account_number(conn, promise["account_id"], account),
        "amount_centavos": _centavos(promise["amount"]),
        "currency": _currency(promise["amount"]),
        "due_on": promise["due_on"],
        "channel": promise["channel"],
        "created_by": promise["created_by"],
    }


def promise_created(tx: Tx, promise: dict[str, Any], account: Doc, approved_by: str | None) -> None:
    export_event(
        tx,
        "promise.created",
        {
            **_promise_fields(tx.conn, promise, account),
            "created_at": promise["created_at"],
            "grace_days": promise.get("grace_days", 0),
            "approved_by": approved_by,
        },
    )


def promise_cancelled(tx: Tx, promise: dict[str, Any], by: str) -> None:
    export_event(tx, "promise.cancelled", {**_promise_fields(tx.conn, promise, None), "cancelled_by": by})


def promise_outcome(tx: Tx, before: dict[str, Any], after: dict[str, Any]) -> None:
    """A promise judged against the account's payments (or its grace ended): kept, partial, broken."""
    export_event(
        tx,
        "promise.outcome",
        {
            **_promise_fields(tx.conn, after, None),
            "status": after["status"],
            "previous_status": before["status"],
            "paid_centavos": _centavos(after.get("paid")),
            "grace_days": after.get("grace_days", 0),
        },
    )


def _plan_fields(conn: Connection, plan: dict[str, Any], account: Doc | None) -> dict[str, Any]:
    installments = plan["installments"]
    down = _centavos(plan["down_payment"]) or 0
    return {
        "id": plan["id"],
        "account_id": plan["account_id"],
        "account_number": account_number(conn, plan["account_id"], account),
        "plan_kind": plan.get("kind", "plan"),
        "status": plan["status"],
        "currency": _currency(plan["down_payment"]),
        "down_payment_centavos": down,
        "total_centavos": down + sum(int(i["amount"]["centavos"]) for i in installments),
        "forgiven_centavos": _centavos(plan.get("forgiven")),
        "installments": [
            {
                "number": i["number"],
                "due_on": i["due_on"],
                "amount_centavos": int(i["amount"]["centavos"]),
                "status": i.get("status", "due"),
            }
            for i in installments
        ],
        "created_by": plan["created_by"],
    }


def plan_created(tx: Tx, plan: dict[str, Any], account: Doc, approved_by: str | None) -> None:
    export_event(
        tx,
        "plan.created",
        {**_plan_fields(tx.conn, plan, account), "created_at": plan["created_at"], "approved_by": approved_by},
    )


def plan_outcome(tx: Tx, before: dict[str, Any], after: dict[str, Any]) -> None:
    export_event(tx, "plan.outcome", {**_plan_fields(tx.conn, after, None), "previous_status": before["status"]})


def _subject(name: str, args: dict[str, Any]) -> tuple[str | None, str | None]:
    """The record a held command would create or change: its kind and id."""
    if name == "promise.create@1":
        return "promise", args.get("id")
    if name == "plan.propose@1":
        return str(args.get("kind") or "plan"), args.get("id")
    if name == "promise.cancel@1":
        return "promise", args.get("promise_id")
    return None, args.get("id")


def _money_of(args: dict[str, Any]) -> int | None:
    """What a held command is worth: a promise's amount, or a plan's down payment and installments."""
    try:
        if "amount" in args:
            return int(args["amount"]["centavos"])
        if "installments" in args:
            down = int((args.get("down_payment") or {}).get("centavos", 0))
            return down + sum(int(i["amount"]["centavos"]) for i in args["installments"])
    except (KeyError, TypeError, ValueError):
        return None
    return None


def approval_requested(
    tx: Tx, mutation_id: str, name: str, agent: str, account_id: str, args: dict[str, Any], level: str, why: str
) -> None:
    subject_kind, subject_id = _subject(name, args)
    export_event(
        tx,
        "approval.requested",
        {
            "mutation_id": mutation_id,
            "command": name,
            "subject_kind": subject_kind,
            "subject_id": subject_id,
            "account_id": account_id,
            "account_number": account_number(tx.conn, account_id),
            "agent": agent,
            "amount_centavos": _money_of(args),
            "level": level,
            "why": why,
            "requested_at": _instant(tx.now),
        },
    )


def approval_decided(
    tx: Tx,
    row: Any,
    approve: bool,
    decider: str,
    role: str,
    reason: str,
    result: str,
) -> None:
    """A supervisor's (or a manager's) decision on a held command: who, when, why, and what came of it."""
    args = json.loads(row.args)
    subject_kind, subject_id = _subject(row.name, args)
    export_event(
        tx,
        "approval.decided",
        {
            "mutation_id": row.mutation_id,
            "command": row.name,
            "subject_kind": subject_kind,
            "subject_id": subject_id,
            "account_id": row.account_id,
            "account_number": account_number(tx.conn, row.account_id),
            "agent": row.agent,
            "amount_centavos": _money_of(args),
            "level": row.level,
            "decision": "approved" if approve else "denied",
            "decided_by": decider,
            "decided_by_role": role,
            "decided_at": _instant(tx.now),
            "reason": reason,
            "result": result,
            "requested_at": _instant(row.requested_at),
        },
        account_id=row.account_id,
    )


def restriction_recorded(tx: Tx, restriction: dict[str, Any], agent: str, point: Doc | None) -> None:
    """An opt-out or a cease request (or a dispute, a legal hold): per person, so every account of the
    customer is named for the core."""
    accounts = tx.conn.execute(
        select(entities.c.id, entities.c.data)
        .where(entities.c.kind == "account", entities.c.customer_id == bindparam("c"))
        .order_by(entities.c.id),
        {"c": restriction["customer_id"]},
    ).all()
    export_event(
        tx,
        "restriction.recorded",
        {
            "id": restriction["id"],
            "customer_id": restriction["customer_id"],
            "account_ids": [row.id for row in accounts],
            "account_numbers": [json.loads(row.data).get("number") for row in accounts],
            "restriction_kind": restriction["kind"],
            "channel": restriction.get("channel"),
            "contact_point_id": restriction.get("contact_point_id"),
            "contact_point_kind": point.data.get("kind") if point is not None else None,
            "contact_point_value": point.data.get("value") if point is not None else None,
            "created_at": restriction["created_at"],
            "source": restriction.get("source"),
            "recorded_by": agent,
            "note": restriction.get("note", ""),
        },
        account_id=accounts[0].id if len(accounts) == 1 else None,
    )


def account_reassigned(tx: Tx, account: Doc, from_agent: str | None, to_agent: str, by: str | None) -> None:
    export_event(
        tx,
        "account.reassigned",
        {
            "account_id": account.id,
            "account_number": account_number(tx.conn, account.id, account),
            "from_agent": from_agent,
            "to_agent": to_agent,
            "by": by,
            "at": _instant(tx.now),
        },
    )


# --- reading -------------------------------------------------------------------------------------


class CursorRefused(ValueError):
    """A cursor this server cannot resume from (answered 422 with `code`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _check(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()[:10]


def make_cursor(epoch: str, seq: int) -> str:
    """An opaque cursor: where a reader stands (after `seq` of this server's epoch), with a check."""
    raw = f"{LAYOUT}:{epoch}:{seq}"
    return base64.urlsafe_b64encode(f"{raw}:{_check(raw)}".encode()).decode().rstrip("=")


def parse_cursor(conn: Connection, cursor: str) -> int:
    """The seq after which to read. A cursor not given by this server, one of another server (or of
    this one before its database was replaced), and one ahead of what was committed are refused."""
    garbage = CursorRefused(
        "CURSOR_INVALID", "the cursor is not one this server gave; resume with the next_cursor of a page, or use since"
    )
    if not cursor.isascii() or len(cursor) > 200:
        raise garbage
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise garbage from None
    parts = text.split(":")
    if len(parts) != 4 or parts[0] != str(LAYOUT) or not parts[2].isdigit() or len(parts[2]) > 18:
        raise garbage
    if _check(":".join(parts[:3])) != parts[3]:
        raise garbage
    if parts[1] != server_epoch(conn):
        raise CursorRefused(
            "CURSOR_OTHER_SERVER",
            "the cursor belongs to another server (or to this one before its database was replaced); "
            "start again with since",
        )
    seq = int(parts[2])
    if seq > head_seq(conn):
        raise CursorRefused(
            "CURSOR_AHEAD", "the cursor is ahead of every event this server has committed; it is not from this database"
        )
    return seq


def start_for(conn: Connection, since: datetime, head: int) -> int:
    """Where a first export from `since` starts: just before the first event recorded at or after it."""
    first = conn.execute(
        select(func.min(export_events.c.seq)).where(export_events.c.at >= instant_text(since))
    ).scalar()
    return head if first is None or first > head else int(first) - 1


@dataclass
class Page:
    rows: list[Any]
    next_seq: int
    has_more: bool


_PAGE = Hot(
    select(export_events.c.seq, export_events.c.kind, export_events.c.at, export_events.c.payload)
    .where(export_events.c.seq > bindparam("after"), export_events.c.seq <= bindparam("head"))
    .order_by(export_events.c.seq)
    .limit(bindparam("n"))
)


def events_after(conn: Connection, after: int, limit: int, head: int | None = None) -> Page:
    """The events after `after`, in commit order, up to `limit`. The head is read first: every seq up
    to it is committed, so nothing committed later can fall behind the cursor handed out."""
    if head is None:
        head = head_seq(conn)
    rows = _PAGE.all(conn, {"after": after, "head": head, "n": limit + 1})
    has_more = len(rows) > limit
    rows = list(rows[:limit])
    # With nothing more, the cursor moves to the head, past the change feed's own seqs.
    return Page(rows, rows[-1].seq if has_more else head, has_more)


def page_json(rows: list[Any], next_cursor: str, has_more: bool, server_time: datetime) -> str:
    """The page as JSON text (the shape of api.export.ExportPage); stored payloads are spliced in as they are."""
    head = json.dumps(
        {
            "layout": LAYOUT,
            "server_time": instant_text(server_time),
            "next_cursor": next_cursor,
            "has_more": has_more,
        },
        separators=(",", ":"),
    )
    events = ",".join(
        f'{{"seq":{int(row.seq)},"kind":{json.dumps(row.kind)},"at":{json.dumps(row.at)},"data":{row.payload}}}'
        for row in rows
    )
    return head[:-1] + ',"events":[' + events + "]}"
