"""Approvals: commands held above their requester's authority, decided by a supervisor (or a manager)
with a reason. Approving applies the command as pushed, checked again against the account as it is
now; denying rejects it with the reason. Either way the stored verdict changes, and the agent's
workstation reads it at its next sync."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, select, update

from cobro_tui.api.models import Reason, Verdict, Warning
from cobro_tui.domain.offers import AUTHORITY
from cobro_tui.server.feed import Tx
from cobro_tui.server.mutations import MUTATORS, Context, split_decision
from cobro_tui.server.schema import approvals, mutation_log

MIN_REASON = 10  # characters: a decision says why


class ApprovalRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True, slots=True)
class Held:
    mutation_id: str
    name: str
    agent: str
    account_id: str
    args: dict[str, object]
    level: str
    why: str
    requested_at: str
    status: str
    decided_by: str | None
    decided_at: str | None
    reason: str | None


def may_decide(role: str, level: str) -> bool:
    """A role decides at its own level and below (agents decide nothing)."""
    return role in AUTHORITY[1:] and AUTHORITY.index(role) >= AUTHORITY.index(level)


def listing(engine: Engine, status: str | None = "pending") -> list[Held]:
    query = select(approvals).order_by(approvals.c.requested_at, approvals.c.mutation_id)
    if status is not None:
        query = query.where(approvals.c.status == status)
    with engine.connect() as conn:
        return [Held(r.mutation_id, r.name, r.agent, r.account_id, json.loads(r.args), r.level, r.why, r.requested_at,
                     r.status, r.decided_by, r.decided_at, r.reason) for r in conn.execute(query)]


def decide(conn: Connection, mutation_id: str, decider: str, role: str, approve: bool, reason: str,
           now: datetime) -> Verdict:
    """Approve or deny a held command; the new verdict replaces the stored one."""
    row = conn.execute(select(approvals).where(approvals.c.mutation_id == mutation_id)).first()
    if row is None:
        raise ApprovalRefused(404, "UNKNOWN_APPROVAL", "no command waits for approval under that id")
    if row.status != "pending":
        raise ApprovalRefused(409, "ALREADY_DECIDED", f"{row.decided_by} already decided it ({row.status})")
    if not may_decide(role, row.level):
        raise ApprovalRefused(403, "AUTHORITY_TOO_LOW", f"this needs a {row.level}'s approval")
    if len(reason.strip()) < MIN_REASON:
        raise ApprovalRefused(422, "REASON_TOO_SHORT", f"say why in at least {MIN_REASON} characters")
    logged = conn.execute(select(mutation_log.c.client_seq).where(mutation_log.c.mutation_id == mutation_id)).first()
    if logged is None:
        raise ApprovalRefused(404, "UNKNOWN_MUTATION", "the held command is not in the mutation log")
    if approve:
        tx = Tx(conn, now)
        ctx = Context(tx, row.agent, now, now, row.observed_seq, approved_by=decider)
        outcome = MUTATORS[row.name](ctx, split_decision(json.loads(row.args))[0])
        verdict = Verdict(mutation_id=mutation_id, client_seq=logged.client_seq, status=outcome.status,  # type: ignore[arg-type]
                          server_seq=tx.last_seq, reason=Reason(**outcome.reason) if outcome.reason else None,
                          warnings=[Warning(**w) for w in outcome.warnings])
    else:
        verdict = Verdict(mutation_id=mutation_id, client_seq=logged.client_seq, status="rejected",
                          reason=Reason(code="DENIED", message=f"{decider}: {reason.strip()}", retryable=False))
    conn.execute(update(mutation_log).where(mutation_log.c.mutation_id == mutation_id).values(
        status=verdict.status, verdict=verdict.model_dump_json(exclude={"replayed"}), server_seq=verdict.server_seq))
    conn.execute(update(approvals).where(approvals.c.mutation_id == mutation_id).values(
        status="approved" if approve else "denied", decided_by=decider, decided_at=now.isoformat(), reason=reason.strip()))
    return verdict
