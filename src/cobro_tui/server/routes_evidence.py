"""The evidence: security events, and each workstation's audit chain kept on the server.

No `from __future__ import annotations` here: FastAPI reads the dependency annotations at runtime.
"""

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import Connection, select

from cobro_tui.api.models import (
    AuditAck,
    AuditDevice,
    AuditEventOut,
    AuditUpload,
    Problem,
    SecurityEvent,
)
from cobro_tui.server import audit, auth
from cobro_tui.server.db import write_tx
from cobro_tui.server.deps import PROBLEMS, ApiProblem, GateDep, device_agent, problems, role, source_of
from cobro_tui.server.schema import audit_chain, audit_heads
from cobro_tui.server.security import security_listing

DeviceId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
chain_agent = role("agent", code="AGENTS_ONLY", message="only a workstation's agent sends its audit chain")
reviewer = role(
    "supervisor",
    "manager",
    "auditor",
    code="REVIEWERS_ONLY",
    message="only supervisors, managers and auditors read the evidence",
)
anyone = role(
    "agent",
    "supervisor",
    "manager",
    "auditor",
    code="PEOPLE_ONLY",
    message="a person's session reads a device's chain",
)

router = APIRouter()


@router.get("/v1/security-events", response_model=list[SecurityEvent], responses=PROBLEMS)
def security_event_list(
    user: Annotated[auth.User, Depends(reviewer)],
    gate: GateDep,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[SecurityEvent]:
    """Refused attempts on what was not the caller's, newest first (a supervisor: their team's agents)."""
    if since is not None and since.tzinfo is None:
        raise ApiProblem(422, "MALFORMED_REQUEST", "since is an instant with an offset")
    with gate.engine.connect() as conn:
        return [SecurityEvent.model_validate(e) for e in security_listing(conn, since, gate.team_members(user), limit)]


@router.post(
    "/v1/audit/events",
    response_model=AuditAck,
    responses={**PROBLEMS, 409: {"model": Problem, "description": "the events do not extend the chain kept"}},
)
def audit_upload(
    body: AuditUpload, request: Request, user: Annotated[auth.User, Depends(chain_agent)], gate: GateDep
) -> AuditAck:
    """The next events of this agent's device's audit chain; each hash is computed again here."""
    now = gate.clock.now()
    refused = None
    with write_tx(gate.engine) as conn:
        owner = device_agent(conn, body.device_id)
        if owner is None:
            raise ApiProblem(409, "DEVICE_NOT_REGISTERED", "register the device before sending its audit chain")
        if owner != user.username:
            raise ApiProblem(403, "DEVICE_OF_ANOTHER_AGENT", "this device is registered to another agent")
        try:
            head = audit.append(conn, user.username, body.device_id, body.events, now, source_of(request))
            if body.head is not None:
                audit.compare_head(conn, user.username, body.device_id, body.head, now, source_of(request))
        except audit.AuditRefused as exc:
            refused = exc  # what was valid before it, and the alarm, are kept: the transaction commits
    if refused is not None:
        raise ApiProblem(409, refused.code, refused.message, {"head_seq": refused.head_seq})
    with gate.engine.connect() as conn:
        alarm = conn.execute(select(audit_heads.c.alarm).where(audit_heads.c.device_id == body.device_id)).scalar()
    return AuditAck(device_id=body.device_id, head_seq=head.seq, head_hash=head.hash, acknowledged_at=now, alarm=alarm)


def _device(conn: Connection, device_id: str) -> AuditDevice:
    row = conn.execute(select(audit_heads).where(audit_heads.c.device_id == device_id)).first()
    if row is None:
        raise ApiProblem(404, "UNKNOWN_DEVICE", f"the server keeps no audit chain of device {device_id}")
    return AuditDevice.model_validate(dict(row._mapping))


@router.get("/v1/audit/devices", response_model=list[AuditDevice], responses=PROBLEMS)
def audit_devices(user: Annotated[auth.User, Depends(reviewer)], gate: GateDep) -> list[AuditDevice]:
    """Every device's chain kept here, those with an alarm first (a supervisor: their team's)."""
    members = gate.team_members(user)
    with gate.engine.connect() as conn:
        rows = conn.execute(
            select(audit_heads).order_by(audit_heads.c.alarm.is_(None), audit_heads.c.agent, audit_heads.c.device_id)
        ).all()
    return [AuditDevice.model_validate(dict(r._mapping)) for r in rows if members is None or r.agent in members]


@router.get("/v1/audit/devices/{device_id}", response_model=AuditDevice, responses=problems(404))
def audit_device(device_id: DeviceId, user: Annotated[auth.User, Depends(anyone)], gate: GateDep) -> AuditDevice:
    """One device's chain and its verification: for a reviewer, or the device's own agent (`audit verify`)."""
    with gate.engine.connect() as conn:
        found = _device(conn, device_id)
        if user.role == "agent":
            if found.agent != user.username:
                raise ApiProblem(404, "UNKNOWN_DEVICE", f"the server keeps no audit chain of device {device_id}")
        else:
            gate.ensure_member(user, found.agent)
        intact, broken_at, reason = audit.verification(conn, device_id)
    return found.model_copy(update={"intact": intact, "broken_at": broken_at, "reason": reason or None})


@router.get("/v1/audit/devices/{device_id}/events", response_model=list[AuditEventOut], responses=problems(404))
def audit_events(
    device_id: DeviceId,
    user: Annotated[auth.User, Depends(reviewer)],
    gate: GateDep,
    after_seq: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditEventOut]:
    """A device's events in order (ids and codes: the workstation writes no personal data there)."""
    with gate.engine.connect() as conn:
        gate.ensure_member(user, _device(conn, device_id).agent)
        rows = conn.execute(
            select(audit_chain)
            .where(audit_chain.c.device_id == device_id, audit_chain.c.seq > after_seq)
            .order_by(audit_chain.c.seq)
            .limit(limit)
        ).all()
    return [AuditEventOut(seq=r.seq, hash=r.hash, body=json.loads(r.body), received_at=r.received_at) for r in rows]
