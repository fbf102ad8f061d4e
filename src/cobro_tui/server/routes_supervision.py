"""A supervisor's team: the compliance exceptions to review, whose each account is (and giving it to
another agent), the agents' queues, and their workstations.

No `from __future__ import annotations` here: FastAPI reads the dependency annotations at runtime.
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response
from sqlalchemy import select, update

from cobro_tui.api.models import (
    AgentAccounts,
    Assignment,
    BulkReassignment,
    BulkReassignmentResult,
    ComplianceException,
    ExceptionReview,
    Reassignment,
    TeamQueues,
    WorkstationHealth,
)
from cobro_tui.server import approvals, auth
from cobro_tui.server.assign import UnknownAccount, VersionMismatch, move, reassign
from cobro_tui.server.db import write_tx
from cobro_tui.server.deps import PROBLEMS, ApiProblem, Gate, GateDep, problems, supervisor_user
from cobro_tui.server.feed import get_doc
from cobro_tui.server.schema import compliance_exceptions, sync_clients, users
from cobro_tui.server.team import agent_accounts, team_queues

router = APIRouter()


def _exception(row: dict[str, Any]) -> ComplianceException:
    return ComplianceException.model_validate(
        {**row, "details": json.loads(row["details"]) if row["details"] else None}
    )


@router.get("/v1/compliance-exceptions", response_model=list[ComplianceException], responses=PROBLEMS)
def exception_list(
    user: Annotated[auth.User, Depends(supervisor_user)],
    gate: GateDep,
    status: Annotated[str, Query(pattern="^(open|reviewed|all)$")] = "open",
) -> list[ComplianceException]:
    """Contacts recorded although the rules blocked them, oldest first, with the rule decision behind each."""
    query = select(compliance_exceptions).order_by(compliance_exceptions.c.id)
    members = gate.team_members(user)
    if members is not None:
        query = query.where(compliance_exceptions.c.agent.in_(sorted(members)))
    if status != "all":
        query = query.where(compliance_exceptions.c.status == status)
    with gate.engine.connect() as conn:
        return [
            _exception({**r._mapping, **approvals.account_summary(conn, r.account_id)})
            for r in conn.execute(query).all()
        ]


@router.post(
    "/v1/compliance-exceptions/{exception_id}",
    response_model=ComplianceException,
    responses=problems(404, 409),
)
def exception_review(
    exception_id: int, body: ExceptionReview, user: Annotated[auth.User, Depends(supervisor_user)], gate: GateDep
) -> ComplianceException:
    """Mark an exception reviewed, with what the supervisor found (10 characters at least)."""
    if len(body.note.strip()) < 10:
        raise ApiProblem(422, "NOTE_TOO_SHORT", "say what you found in at least 10 characters")
    this = select(compliance_exceptions).where(compliance_exceptions.c.id == exception_id)
    with write_tx(gate.engine) as conn:
        row = conn.execute(this).first()
        if row is None:
            raise ApiProblem(404, "UNKNOWN_EXCEPTION", f"no compliance exception {exception_id}")
        gate.ensure_member(user, row.agent)
        if row.status != "open":
            raise ApiProblem(409, "ALREADY_REVIEWED", f"{row.reviewed_by} already reviewed it")
        conn.execute(
            update(compliance_exceptions)
            .where(compliance_exceptions.c.id == exception_id)
            .values(
                status="reviewed",
                reviewed_by=user.username,
                reviewed_at=gate.clock.now().isoformat(),
                review_note=body.note.strip(),
            )
        )
        stored = dict(conn.execute(this).one()._mapping)
    return _exception(stored)


def _assignment(gate: Gate, account_id: str) -> Assignment:
    with gate.engine.connect() as conn:
        doc = get_doc(conn, "account", account_id)
    if doc is None:
        raise ApiProblem(404, "UNKNOWN_ACCOUNT", f"no account {account_id}")
    return Assignment(account_id=account_id, agent=doc.agent, version=doc.version)


def _receiver(gate: Gate, user: auth.User, agent: str) -> None:
    """The agent who receives accounts: an agent of this server, and of the supervisor's team."""
    with gate.engine.connect() as conn:
        known = conn.execute(select(users.c.username).where(users.c.username == agent, users.c.role == "agent")).first()
    if known is None:
        raise ApiProblem(422, "UNKNOWN_AGENT", f"{agent} is not an agent of this server")
    gate.ensure_member(user, agent)


@router.get("/v1/accounts/{account_id}/assignment", response_model=Assignment, responses=problems(404))
def assignment(
    account_id: str, response: Response, user: Annotated[auth.User, Depends(supervisor_user)], gate: GateDep
) -> Assignment:
    """Whose the account is; the ETag is what a reassignment must send in If-Match."""
    found = _assignment(gate, account_id)
    gate.ensure_member(user, found.agent)
    response.headers["ETag"] = f'"{found.version}"'
    return found


@router.put("/v1/accounts/{account_id}/assignment", response_model=Assignment, responses=problems(404, 412, 428))
def reassignment(
    account_id: str,
    body: Reassignment,
    user: Annotated[auth.User, Depends(supervisor_user)],
    gate: GateDep,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> Assignment:
    """Give the account to another agent: the loser's workstation gets a revoke, the gainer's the
    account, at their next sync. Only if it is still at the version read (If-Match)."""
    if not if_match or not if_match.strip('"').isdigit():
        raise ApiProblem(428, "IF_MATCH_REQUIRED", 'send If-Match with the ETag read (GET .../assignment), such as "3"')
    _receiver(gate, user, body.agent)
    gate.ensure_member(user, _assignment(gate, account_id).agent)
    try:
        reassign(gate.engine, account_id, body.agent, gate.clock.now(), int(if_match.strip('"')), user.username)
    except UnknownAccount:
        raise ApiProblem(404, "UNKNOWN_ACCOUNT", f"no account {account_id}") from None
    except VersionMismatch as stale:
        raise ApiProblem(
            412,
            "VERSION_CHANGED",
            "the account changed since it was read; read it again",
            {"current_version": stale.current},
        ) from None
    return _assignment(gate, account_id)


@router.post("/v1/assignments", response_model=BulkReassignmentResult, responses=PROBLEMS)
def reassign_many(
    body: BulkReassignment, user: Annotated[auth.User, Depends(supervisor_user)], gate: GateDep
) -> BulkReassignmentResult:
    """Give many accounts to one agent in one transaction, each only if it is still at the version
    read; the others are listed (changed since: read again; unknown; another team's) and keep their agent."""
    _receiver(gate, user, body.agent)
    members = gate.team_members(user)
    found: dict[str, list[Any]] = {"moved": [], "stale": [], "unknown": [], "other_team": []}
    now = gate.clock.now()
    with write_tx(gate.engine) as conn:
        for item in body.accounts:
            doc = get_doc(conn, "account", item.account_id)
            if doc is None:
                found["unknown"].append(item.account_id)
            elif members is not None and doc.agent not in members:
                found["other_team"].append(item.account_id)
            elif doc.version != item.version:
                found["stale"].append({"account_id": item.account_id, "current_version": doc.version})
            else:
                move(conn, item.account_id, body.agent, now, item.version, user.username)
                found["moved"].append(item.account_id)
    return BulkReassignmentResult.model_validate(found)


@router.get("/v1/team", response_model=TeamQueues, responses=PROBLEMS)
def team_view(
    user: Annotated[auth.User, Depends(supervisor_user)], gate: GateDep, team: str | None = None
) -> TeamQueues:
    """Per agent of the team (every agent without one): accounts by bucket, worked today, promises due today."""
    with gate.engine.connect() as conn:
        return TeamQueues.model_validate(team_queues(conn, gate.team_scope(user, team), gate.clock.now()))


@router.get("/v1/teams", response_model=list[str], responses=PROBLEMS)
def team_list(user: Annotated[auth.User, Depends(supervisor_user)], gate: GateDep) -> list[str]:
    """The teams the caller may review: a supervisor's own; every team with agents for a manager."""
    if user.role != "manager":
        return [user.team]
    with gate.engine.connect() as conn:
        return sorted(set(conn.execute(select(users.c.team).where(users.c.role == "agent")).scalars()))


@router.get("/v1/team/agents/{agent}/accounts", response_model=AgentAccounts, responses=problems(404))
def agent_account_list(
    agent: str, user: Annotated[auth.User, Depends(supervisor_user)], gate: GateDep
) -> AgentAccounts:
    """An agent's accounts, most days past due first, with the version a reassignment sends in If-Match."""
    with gate.engine.connect() as conn:
        team = conn.execute(select(users.c.team).where(users.c.username == agent, users.c.role == "agent")).scalar()
        if team is None:
            raise ApiProblem(404, "UNKNOWN_AGENT", f"{agent} is not an agent of this server")
        gate.ensure_member(user, agent)
        return AgentAccounts.model_validate({"agent": agent, "team": team, "accounts": agent_accounts(conn, agent)})


@router.get("/v1/workstations", response_model=list[WorkstationHealth], responses=PROBLEMS)
def workstations(user: Annotated[auth.User, Depends(supervisor_user)], gate: GateDep) -> list[WorkstationHealth]:
    """Every workstation (its latest epoch): whose, which version, last seen, items waiting to be sent."""
    with gate.engine.connect() as conn:
        rows = conn.execute(select(sync_clients).order_by(sync_clients.c.device_id, sync_clients.c.device_epoch)).all()
    members = gate.team_members(user)
    latest = {row.device_id: row for row in rows if members is None or row.agent in members}
    fields = WorkstationHealth.model_fields
    return [
        WorkstationHealth.model_validate({k: v for k, v in row._mapping.items() if k in fields})
        for row in sorted(latest.values(), key=lambda r: (r.agent, r.device_id))
    ]
