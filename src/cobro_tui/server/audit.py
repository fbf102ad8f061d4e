"""Each workstation's audit chain, kept on the server (PCI DSS 10.3.3: evidence off the machine that
made it). The server accepts only events that extend the chain it has, recomputing every hash; a
push whose chain head is shorter than what it keeps (a truncated tail) or differs from it (a chain
rebuilt from scratch) raises an alarm and a security event, once per change of state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from cobro_tui.api.models import AuditEventIn, AuditHead
from cobro_tui.domain.audit import GENESIS, StoredEvent, link_hash, verify_chain
from cobro_tui.domain.records import instant_text
from cobro_tui.domain.text import depth
from cobro_tui.server.schema import audit_chain, audit_heads
from cobro_tui.server.security import record_security_event

AUDIT_DEPTH = 8  # an event holds ids and codes: a flat object with a small `data`


class AuditRefused(Exception):
    def __init__(self, code: str, message: str, head_seq: int) -> None:
        super().__init__(message)
        self.code, self.message, self.head_seq = code, message, head_seq


@dataclass(frozen=True, slots=True)
class Head:
    seq: int
    hash: str


def head_of(conn: Connection, device_id: str) -> Head:
    row = conn.execute(
        select(audit_heads.c.head_seq, audit_heads.c.head_hash).where(audit_heads.c.device_id == device_id)
    ).first()
    return Head(row.head_seq, row.head_hash) if row else Head(0, GENESIS)


def _hash_at(conn: Connection, device_id: str, seq: int) -> str | None:
    return conn.execute(
        select(audit_chain.c.hash).where(audit_chain.c.device_id == device_id, audit_chain.c.seq == seq)
    ).scalar()


def _raise_alarm(
    conn: Connection, device_id: str, agent: str, alarm: str, detail: str, now: datetime, source: str | None
) -> None:
    """Mark the device's chain (a security event the first time it comes to this state)."""
    row = conn.execute(select(audit_heads.c.alarm).where(audit_heads.c.device_id == device_id)).first()
    if row is None:
        conn.execute(
            insert(audit_heads).values(
                device_id=device_id, agent=agent, head_seq=0, head_hash=GENESIS, updated_at=instant_text(now)
            )
        )
    elif row.alarm == alarm:
        return
    conn.execute(
        update(audit_heads)
        .where(audit_heads.c.device_id == device_id)
        .values(alarm=alarm, alarm_at=instant_text(now), alarm_detail=detail)
    )
    record_security_event(conn, now, f"AUDIT_{alarm.upper()}", agent, source, device_id, {"detail": detail})


def append(
    conn: Connection, agent: str, device_id: str, events: list[AuditEventIn], now: datetime, source: str | None
) -> Head:
    """Store the events that extend the device's chain; events it already holds are taken again only
    if they are the same (a resend after a lost answer). Anything else is refused, and alarmed."""
    head = head_of(conn, device_id)
    rows: list[dict[str, object]] = []  # written at once at the end
    taken: dict[int, str] = {}
    try:
        for event in sorted(events, key=lambda e: e.seq):
            if event.seq <= head.seq:
                kept = taken.get(event.seq) or _hash_at(conn, device_id, event.seq)
                if kept != event.hash:
                    detail = f"event {event.seq} differs from the one kept"
                    _raise_alarm(conn, device_id, agent, "forked", detail, now, source)
                    raise AuditRefused(
                        "AUDIT_CHAIN_FORKED", f"{detail}: this chain does not extend the one the server keeps", head.seq
                    )
                continue
            if event.seq != head.seq + 1:
                raise AuditRefused(
                    "AUDIT_CHAIN_GAP", f"the server's chain ends at {head.seq}; send from {head.seq + 1}", head.seq
                )
            problem = _problem(event, head, device_id, agent)
            if problem is not None:
                code, message = problem
                _raise_alarm(conn, device_id, agent, "forked", message, now, source)
                raise AuditRefused(code, message, head.seq)
            rows.append(
                {
                    "device_id": device_id,
                    "seq": event.seq,
                    "hash": event.hash,
                    "body": event.body,
                    "received_at": instant_text(now),
                }
            )
            taken[event.seq] = event.hash
            head = Head(event.seq, event.hash)
    finally:  # what was valid up to a refusal is kept, and the head moves with it
        if rows:
            conn.execute(insert(audit_chain), rows)
        values = {"agent": agent, "head_seq": head.seq, "head_hash": head.hash, "updated_at": instant_text(now)}
        if conn.execute(update(audit_heads).where(audit_heads.c.device_id == device_id).values(**values)).rowcount == 0:
            conn.execute(insert(audit_heads).values(device_id=device_id, **values))
    return head


def _problem(event: AuditEventIn, head: Head, device_id: str, agent: str) -> tuple[str, str] | None:
    """Why an event cannot follow the head, if it cannot (a code and a sentence): its hash, number,
    device or actor are wrong (AUDIT_EVENT_INVALID), or it links to another chain (AUDIT_CHAIN_FORKED)."""
    invalid = "AUDIT_EVENT_INVALID"
    if link_hash(event.body) != event.hash:
        return invalid, f"event {event.seq}: the hash does not match its content"
    try:
        body = json.loads(event.body)
    except (ValueError, RecursionError):
        return invalid, f"event {event.seq}: the content is not JSON"
    if depth(body) > AUDIT_DEPTH:
        return invalid, f"event {event.seq}: the content nests deeper than {AUDIT_DEPTH} levels"
    if not isinstance(body, dict) or body.get("seq") != event.seq:
        return invalid, f"event {event.seq}: the content names another sequence number"
    if body.get("device") != device_id:
        return invalid, f"event {event.seq}: it was written by another device"
    if body.get("actor") != agent:
        return invalid, f"event {event.seq}: it names another user as its actor"
    if body.get("prev") != head.hash:
        return "AUDIT_CHAIN_FORKED", f"event {event.seq}: it does not link to event {head.seq} the server keeps"
    return None


def compare_head(
    conn: Connection, agent: str, device_id: str, told: AuditHead, now: datetime, source: str | None
) -> None:
    """A workstation's chain head against the chain kept: shorter is a truncated tail, a different
    hash at a number kept is a rebuilt chain (alarmed; the push itself goes on)."""
    kept = head_of(conn, device_id)
    if told.seq < kept.seq:
        _raise_alarm(
            conn,
            device_id,
            agent,
            "truncated",
            f"the workstation's chain ends at {told.seq}; the server keeps {kept.seq} events",
            now,
            source,
        )
    elif told.seq > 0 and told.seq <= kept.seq and _hash_at(conn, device_id, told.seq) != told.hash:
        _raise_alarm(
            conn,
            device_id,
            agent,
            "rebuilt",
            f"event {told.seq} on the workstation differs from the one kept",
            now,
            source,
        )


def verification(conn: Connection, device_id: str) -> tuple[bool, int | None, str]:
    """The stored chain walked again: intact, or where and why it breaks."""
    rows = conn.execute(
        select(audit_chain.c.seq, audit_chain.c.body, audit_chain.c.hash)
        .where(audit_chain.c.device_id == device_id)
        .order_by(audit_chain.c.seq)
    )
    report = verify_chain(StoredEvent(r.seq, r.body, r.hash) for r in rows)
    return report.intact, report.broken_at, report.reason
