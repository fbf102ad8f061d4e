"""Approvals: commands held above their requester's authority, decided by a supervisor (or a manager)
with a reason. Approving applies the command as pushed, checked again against the account as it is
now; denying rejects it with the reason. Either way the stored verdict changes, and the agent's
workstation reads it at its next sync.

While one waits, the same agent's later offers and cancellations on that account wait behind it
(`blocked`; sync-protocol B4), so a cancellation never overtakes the promise it cancels. Once no
decision is pending on the account they run in the order they were pushed. Facts (contacts, notes,
restrictions) never wait."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from cobro_tui.api.commands import Args
from cobro_tui.api.models import Reason, Verdict, Warning
from cobro_tui.domain.offers import AUTHORITY
from cobro_tui.domain.text import cleaned
from cobro_tui.i18n import t
from cobro_tui.server import export
from cobro_tui.server.feed import Tx, get_doc
from cobro_tui.server.mutations import Context, Limits, Outcome, Refused, rejected, run, stored_args
from cobro_tui.server.schema import approvals, mutation_log

MIN_REASON = 10  # characters: a decision says why
# Commands whose order on an account matters; anything else (facts) never waits behind a decision.
ORDERED = ("promise.create@1", "promise.cancel@1", "plan.propose@1")
WAITING = ("pending", "blocked")


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


def account_summary(conn: Connection, account_id: str) -> dict[str, Any]:
    """Whose debt an offer is about, how late and how much, as the account is now."""
    account = get_doc(conn, "account", account_id)
    if account is None:
        return {}
    customer = get_doc(conn, "customer", account.customer_id) if account.customer_id else None
    data = account.data
    return {
        "customer_name": customer.data.get("full_name") if customer else None,
        "bucket": data["bucket"],
        "dpd": data["dpd"],
        "balance": sum(data[part]["centavos"] for part in ("principal", "interest", "fees", "vat")),
    }


def may_decide(role: str, level: str) -> bool:
    """A role decides at its own level and below (agents decide nothing)."""
    return role in AUTHORITY[1:] and AUTHORITY.index(role) >= AUTHORITY.index(level)


def listing(engine: Engine, status: str | None = "pending") -> list[Held]:
    query = select(approvals).order_by(approvals.c.requested_at, approvals.c.mutation_id)
    if status is not None:
        query = query.where(approvals.c.status == status)
    with engine.connect() as conn:
        return [
            Held(
                r.mutation_id,
                r.name,
                r.agent,
                r.account_id,
                json.loads(r.args),
                r.level,
                r.why,
                r.requested_at,
                r.status,
                r.decided_by,
                r.decided_at,
                r.reason,
            )
            for r in conn.execute(query)
        ]


def decide(
    conn: Connection,
    mutation_id: str,
    decider: str,
    role: str,
    approve: bool,
    reason: str,
    now: datetime,
    limits: Limits = Limits(),
) -> Verdict:
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
    tx = Tx(conn, now)
    if approve:
        ctx = Context(tx, row.agent, now, _acted_at(row, now), approved_by=decider, limits=limits)
        verdict = _verdict(mutation_id, logged.client_seq, _judged(ctx, row.name, row.args), tx)
    else:
        verdict = Verdict(
            mutation_id=mutation_id,
            client_seq=logged.client_seq,
            status="rejected",
            reason=Reason(code="DENIED", message=f"{decider}: {reason.strip()}", retryable=False),
        )
    _store(conn, verdict)
    export.approval_decided(tx, row, approve, decider, role, reason.strip(), verdict.status)
    conn.execute(
        update(approvals)
        .where(approvals.c.mutation_id == mutation_id)
        .values(
            status="approved" if approve else "denied",
            decided_by=decider,
            decided_at=now.isoformat(),
            reason=reason.strip(),
        )
    )
    release(conn, row.agent, row.account_id, now, limits)
    return verdict


def _acted_at(row: Any, now: datetime) -> datetime:
    return datetime.fromisoformat(row.occurred_at) if row.occurred_at else now


def _judged(ctx: Context, name: str, args_text: str) -> Outcome:
    """A held command judged now, on the account as it is now (its holder may have changed)."""
    try:
        args = stored_args(name, args_text)
    except Refused as refusal:
        return rejected(refusal.code, refusal.message)
    return run(ctx, name, args)


def _verdict(mutation_id: str, client_seq: int, outcome: Outcome, tx: Tx) -> Verdict:
    return Verdict(
        mutation_id=mutation_id,
        client_seq=client_seq,
        status=outcome.status,
        server_seq=tx.last_seq,
        reason=Reason(**outcome.reason) if outcome.reason else None,
        warnings=[Warning(**w) for w in outcome.warnings],
    )


def _store(conn: Connection, verdict: Verdict) -> None:
    """The command's verdict replaced in the mutation log (the workstation reads it again)."""
    conn.execute(
        update(mutation_log)
        .where(mutation_log.c.mutation_id == verdict.mutation_id)
        .values(
            status=verdict.status, verdict=verdict.model_dump_json(exclude={"replayed"}), server_seq=verdict.server_seq
        )
    )


def account_of(conn: Connection, agent: str, name: str, args: Args) -> str | None:
    """The account a command acts on: named in it, or for a cancellation its promise's (stored, or
    itself still waiting for approval)."""
    named = getattr(args, "account_id", None)
    if named is not None:
        return str(named)
    promise_id = getattr(args, "promise_id", None)
    if name == "promise.cancel@1" and promise_id is not None:
        doc = get_doc(conn, "promise", promise_id)
        if doc is not None:
            return doc.account_id
        for account_id, stored in conn.execute(
            select(approvals.c.account_id, approvals.c.args).where(
                approvals.c.agent == agent, approvals.c.name == "promise.create@1", approvals.c.status.in_(WAITING)
            )
        ):
            if json.loads(stored).get("id") == promise_id:
                return str(account_id)
    return None


def blocker(conn: Connection, agent: str, name: str, args: Args) -> tuple[str, str] | None:
    """For an offer or cancellation: the account and the first of the agent's commands on it still
    waiting, if any (the new one must wait behind it)."""
    if name not in ORDERED:
        return None
    account_id = account_of(conn, agent, name, args)
    if account_id is None:
        return None
    first = conn.execute(
        select(approvals.c.mutation_id)
        .where(approvals.c.account_id == account_id, approvals.c.agent == agent, approvals.c.status.in_(WAITING))
        .order_by(approvals.c.requested_at, approvals.c.mutation_id)
        .limit(1)
    ).scalar()
    return (account_id, first) if first is not None else None


def block(
    conn: Connection,
    mutation_id: str,
    name: str,
    agent: str,
    account_id: str,
    args: dict[str, Any],
    waits_for: str,
    now: datetime,
    occurred_at: datetime,
) -> Outcome:
    """Park a command behind `waits_for`, the command its account waits on; its verdict says so."""
    message = t("offer.blocked")
    conn.execute(
        insert(approvals).values(
            mutation_id=mutation_id,
            name=name,
            agent=agent,
            account_id=account_id,
            args=json.dumps(cleaned(args), separators=(",", ":"), ensure_ascii=False),  # supervisors read it
            level="agent",
            why=message,
            requested_at=now.isoformat(),
            status="blocked",
            occurred_at=occurred_at.isoformat(),
        )
    )
    return Outcome("deferred", {"code": "BLOCKED_BY", "message": message, "retryable": False})


def release(conn: Connection, agent: str, account_id: str, now: datetime, limits: Limits = Limits()) -> list[Verdict]:
    """Once no decision is pending on the account, the agent's blocked commands run in the order they
    were pushed; one that needs approval itself becomes pending, and the rest keep waiting behind it."""
    pending = conn.execute(
        select(func.count())
        .select_from(approvals)
        .where(approvals.c.account_id == account_id, approvals.c.agent == agent, approvals.c.status == "pending")
    ).scalar_one()
    if pending:
        return []
    waiting = conn.execute(
        select(approvals, mutation_log.c.client_seq)
        .join(mutation_log, mutation_log.c.mutation_id == approvals.c.mutation_id)
        .where(approvals.c.account_id == account_id, approvals.c.agent == agent, approvals.c.status == "blocked")
        .order_by(approvals.c.requested_at, mutation_log.c.client_seq)
    ).all()
    released = []
    for row in waiting:
        tx = Tx(conn, now)
        outcome = _judged(Context(tx, agent, now, _acted_at(row, now), limits=limits), row.name, row.args)
        verdict = _verdict(row.mutation_id, row.client_seq, outcome, tx)
        _store(conn, verdict)
        if outcome.status == "deferred" and outcome.approval is not None:
            conn.execute(
                update(approvals)
                .where(approvals.c.mutation_id == row.mutation_id)
                .values(
                    status="pending",
                    level=outcome.approval["level"],
                    why=outcome.approval["why"],
                    requested_at=now.isoformat(),
                )
            )
            export.approval_requested(
                tx,
                row.mutation_id,
                row.name,
                agent,
                account_id,
                json.loads(row.args),
                outcome.approval["level"],
                outcome.approval["why"],
            )
            break
        conn.execute(
            update(approvals)
            .where(approvals.c.mutation_id == row.mutation_id)
            .values(status="released", decided_at=now.isoformat())
        )
        released.append(verdict)
    return released
