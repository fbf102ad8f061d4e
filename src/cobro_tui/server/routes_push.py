"""What a workstation sends: its device's registration, the push of its commands, and their verdicts
(with the health check a client asks before anything else).

No `from __future__ import annotations` here: FastAPI reads the dependency annotations at runtime.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import insert, select, update

from cobro_tui import __version__
from cobro_tui.api.models import (
    CLIENT_SCHEMA,
    DeviceRegistration,
    DeviceState,
    PushRequest,
    PushResponse,
    Verdict,
    VerdictQuery,
)
from cobro_tui.server import auth
from cobro_tui.server.db import write_tx
from cobro_tui.server.deps import PROBLEMS, ApiProblem, GateDep, agent_user, compare_audit_head, problems, source_of
from cobro_tui.server.feed import server_epoch
from cobro_tui.server.push import PushRefused, process_push
from cobro_tui.server.schema import mutation_log, sync_clients

RETENTION_DAYS = 90
# The oldest workstation cache schema this server still syncs (CLIENT_SCHEMA is the newest).
MIN_CLIENT_SCHEMA = 1

router = APIRouter()


@router.get("/v1/health")
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.post("/v1/devices/register", response_model=DeviceState, responses=problems(426))
def register(body: DeviceRegistration, user: Annotated[auth.User, Depends(agent_user)], gate: GateDep) -> DeviceState:
    if not MIN_CLIENT_SCHEMA <= body.schema_version <= CLIENT_SCHEMA:
        # A workstation this server cannot sync (too old, or newer than the server): it must be updated.
        raise ApiProblem(
            426,
            "CLIENT_UNSUPPORTED",
            f"this server syncs workstations of cache schema {MIN_CLIENT_SCHEMA} to {CLIENT_SCHEMA}, "
            f"not {body.schema_version}; install the cobro-tui version your institution supports",
        )
    now = gate.clock.now().isoformat()
    with write_tx(gate.engine) as conn:
        row = conn.execute(
            select(sync_clients).where(
                sync_clients.c.device_id == body.device_id, sync_clients.c.device_epoch == body.device_epoch
            )
        ).first()
        owner = conn.execute(
            select(sync_clients.c.agent)
            .where(sync_clients.c.device_id == body.device_id, sync_clients.c.agent != user.username)
            .limit(1)
        ).scalar()
        if owner is not None:  # a device is one agent's, whatever epoch it is at
            raise ApiProblem(403, "DEVICE_OF_ANOTHER_AGENT", "this device is registered to another agent")
        if row is None:
            last = body.resume_after_seq
            conn.execute(
                insert(sync_clients).values(
                    device_id=body.device_id,
                    device_epoch=body.device_epoch,
                    agent=user.username,
                    last_client_seq=last,
                    last_seen_at=now,
                    app_version=body.app_version,
                    schema_version=body.schema_version,
                )
            )
        elif row.agent != user.username:
            raise ApiProblem(403, "DEVICE_OF_ANOTHER_AGENT", "this device is registered to another agent")
        else:
            conn.execute(
                update(sync_clients)
                .where(sync_clients.c.device_id == body.device_id, sync_clients.c.device_epoch == body.device_epoch)
                .values(last_seen_at=now, app_version=body.app_version, schema_version=body.schema_version)
            )
            last = row.last_client_seq
        epoch = server_epoch(conn)
    return DeviceState(
        last_client_seq=last, server_epoch=epoch, min_supported_schema=MIN_CLIENT_SCHEMA, retention_days=RETENTION_DAYS
    )


@router.post("/v1/mutations", response_model=PushResponse, responses=problems(409))
def push(
    body: PushRequest, request: Request, user: Annotated[auth.User, Depends(agent_user)], gate: GateDep
) -> PushResponse:
    """A batch of commands, each judged on the server's state (api/commands.py has their arguments):
    one verdict per command, whatever is retried, duplicated or raced."""
    now = gate.clock.now()
    try:
        result = process_push(gate.engine, user.username, body, now, gate.limits, source_of(request))
        if body.audit_head is not None:
            compare_audit_head(gate, user, body.device_id, body.audit_head, source_of(request))
    except PushRefused as refused:
        raise ApiProblem(refused.status, refused.code, refused.message, refused.details) from None
    return PushResponse(
        server_time=now, last_client_seq=result.last_client_seq, results=result.results, halted=result.halted
    )


# A verdict is its agent's: the one whose device pushed the mutation.
_PUSHED_BY = (sync_clients.c.device_id == mutation_log.c.device_id) & (
    sync_clients.c.device_epoch == mutation_log.c.device_epoch
)


@router.post("/v1/mutations/verdicts", response_model=list[Verdict], responses=PROBLEMS)
def verdicts(body: VerdictQuery, user: Annotated[auth.User, Depends(agent_user)], gate: GateDep) -> list[Verdict]:
    """The current verdicts of many mutations at once (a workstation's held items, read each round);
    ids that are not from this agent's devices are left out."""
    with gate.engine.connect() as conn:
        rows = conn.execute(
            select(mutation_log.c.verdict)
            .join(sync_clients, _PUSHED_BY)
            .where(mutation_log.c.mutation_id.in_(body.mutation_ids), sync_clients.c.agent == user.username)
        ).scalars()
        return [Verdict.model_validate_json(row) for row in rows]


@router.get("/v1/mutations/{mutation_id}", response_model=Verdict, responses=problems(404))
def verdict(mutation_id: str, user: Annotated[auth.User, Depends(agent_user)], gate: GateDep) -> Verdict:
    with gate.engine.connect() as conn:
        row = conn.execute(
            select(mutation_log.c.verdict, sync_clients.c.agent)
            .join(sync_clients, _PUSHED_BY)
            .where(mutation_log.c.mutation_id == mutation_id)
        ).first()
    if row is None or row.agent != user.username:
        raise ApiProblem(404, "UNKNOWN_MUTATION", "no verdict for that mutation from your devices")
    return Verdict.model_validate_json(row.verdict)
