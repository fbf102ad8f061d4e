"""The commands held above their requester's authority: the list a supervisor reviews, and the decision.

No `from __future__ import annotations` here: FastAPI reads the dependency annotations at runtime.
"""

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from cobro_tui.api.models import Approval, ApprovalDecision, Verdict
from cobro_tui.server import approvals, auth
from cobro_tui.server.db import write_tx
from cobro_tui.server.deps import PROBLEMS, ApiProblem, GateDep, problems, supervisor_user
from cobro_tui.server.schema import approvals as approvals_table

router = APIRouter()


@router.get("/v1/approvals", response_model=list[Approval], responses=PROBLEMS)
def approval_list(
    user: Annotated[auth.User, Depends(supervisor_user)],
    gate: GateDep,
    status: Annotated[str, Query(pattern="^(pending|approved|denied|all)$")] = "pending",
) -> list[Approval]:
    held = approvals.listing(gate.engine, None if status == "all" else status)
    members = gate.team_members(user)
    shown = [item for item in held if members is None or item.agent in members]
    with gate.engine.connect() as conn:
        return [
            Approval.model_validate({**dataclasses.asdict(item), **approvals.account_summary(conn, item.account_id)})
            for item in shown
        ]


@router.post("/v1/approvals/{mutation_id}", response_model=Verdict, responses=problems(404, 409))
def approval_decide(
    mutation_id: str, body: ApprovalDecision, user: Annotated[auth.User, Depends(supervisor_user)], gate: GateDep
) -> Verdict:
    with gate.engine.connect() as conn:
        asked_by = conn.execute(
            select(approvals_table.c.agent).where(approvals_table.c.mutation_id == mutation_id)
        ).scalar()
    if asked_by is not None:
        gate.ensure_member(user, asked_by)
    try:
        with write_tx(gate.engine) as conn:
            return approvals.decide(
                conn,
                mutation_id,
                user.username,
                user.role,
                body.decision == "approve",
                body.reason,
                gate.clock.now(),
                gate.limits,
            )
    except approvals.ApprovalRefused as refused:
        raise ApiProblem(refused.status, refused.code, refused.message) from None
