"""POST /v1/mutations: exactly one verdict per mutation, whatever is retried, duplicated or raced."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.exc import OperationalError

from cobro_tui.api.commands import ARGS, Args
from cobro_tui.api.models import (
    Halted,
    MutationIn,
    PushRequest,
    Reason,
    Verdict,
    Warning,
)
from cobro_tui.domain.audit import canonical_json
from cobro_tui.domain.decisions import digest
from cobro_tui.domain.text import cleaned
from cobro_tui.server import approvals as approval_queue
from cobro_tui.server import export
from cobro_tui.server.db import write_tx
from cobro_tui.server.feed import Seqs, Tx
from cobro_tui.server.hot import Hot, savepoint
from cobro_tui.server.mutations import (
    Context,
    Limits,
    Outcome,
    Refused,
    account_named,
    check_instant,
    parse_args,
    rejected,
    run,
)
from cobro_tui.server.schema import (
    approvals,
    compliance_exceptions,
    decisions,
    mutation_log,
    sync_clients,
)
from cobro_tui.server.security import record_security_event


class PushRefused(Exception):
    """The batch cannot be processed as sent (answered with a 4xx and a code)."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}


@dataclass
class PushResult:
    last_client_seq: int
    results: list[Verdict]
    halted: Halted | None = None


def fingerprint(m: MutationIn) -> str:
    return hashlib.sha256(canonical_json({"name": m.name, "args": m.args}).encode()).hexdigest()


_CLIENT = Hot(
    select(sync_clients).where(
        sync_clients.c.device_id == bindparam("d"), sync_clients.c.device_epoch == bindparam("e")
    )
)
# In a push, the device's row is read once and held (PostgreSQL: locked) until the commit: two
# pushes of one device never interleave their client_seqs.
_CLIENT_HELD = Hot(_CLIENT.statement.with_for_update())  # type: ignore[attr-defined]
_LOGGED_MANY = (
    select(mutation_log.c.mutation_id, mutation_log.c.payload_sha256, mutation_log.c.verdict, sync_clients.c.agent)
    .join(
        sync_clients,
        (sync_clients.c.device_id == mutation_log.c.device_id)
        & (sync_clients.c.device_epoch == mutation_log.c.device_epoch),
    )
    .where(mutation_log.c.mutation_id.in_(bindparam("ids", expanding=True)))
)
_LOG = Hot(insert(mutation_log))
_ADVANCE = Hot(
    update(sync_clients)
    .where(sync_clients.c.device_id == bindparam("d"), sync_clients.c.device_epoch == bindparam("e"))
    .values(last_client_seq=bindparam("b_seq"), last_seen_at=bindparam("b_seen"))
)


def _client_row(conn: Connection, device_id: str, epoch: int):  # type: ignore[no-untyped-def]
    return _CLIENT.first(conn, {"d": device_id, "e": epoch})


def _judge(ctx: Context, m: MutationIn) -> tuple[Outcome, Args | None]:
    """The outcome of one new command, and its arguments when they fit their model."""
    if m.name not in ARGS:
        return rejected("UNKNOWN_MUTATION", f"{m.name} is not a command this server knows"), None
    try:
        check_instant(ctx, "occurred_at_client", m.occurred_at_client)
        args = parse_args(m.name, m.args)
    except Refused as refusal:
        outcome = rejected(refusal.code, refusal.message)
        outcome.security = refusal.security
        return outcome, None
    waits = approval_queue.blocker(ctx.conn, ctx.agent, m.name, args)
    if waits is not None:  # behind a command of the same account waiting for a decision (B4)
        return approval_queue.block(
            ctx.conn, m.mutation_id, m.name, ctx.agent, waits[0], m.args, waits[1], ctx.now, m.occurred_at_client
        ), args
    return run(ctx, m.name, args), args


@dataclass
class _Batch:
    """What one push reads once and keeps while it runs: the verdicts already logged for its ids
    (and those it logs itself), and the device's row with the last client_seq applied so far."""

    logged: dict[str, tuple[str, str, str]]  # mutation id: fingerprint, verdict, the agent whose device sent it
    seqs: Seqs
    client: Any = None
    last_client_seq: int | None = None

    @classmethod
    def read(cls, conn: Connection, mutations: list[MutationIn]) -> _Batch:
        ids = [m.mutation_id for m in mutations]
        logged: dict[str, tuple[str, str, str]] = {}
        for start in range(0, len(ids), 500):
            for row in conn.execute(_LOGGED_MANY, {"ids": ids[start : start + 500]}):
                logged[row.mutation_id] = (row.payload_sha256, row.verdict, row.agent)
        return cls(logged, Seqs(conn))


def _apply_one(
    conn: Connection,
    agent: str,
    request: PushRequest,
    m: MutationIn,
    now: datetime,
    limits: Limits,
    source: str | None,
    batch: _Batch,
) -> Verdict:
    if batch.client is None:
        batch.client = _CLIENT_HELD.first(conn, {"d": request.device_id, "e": request.device_epoch})
        if batch.client is None:
            raise PushRefused(409, "DEVICE_NOT_REGISTERED", "register the device before pushing")
        batch.last_client_seq = batch.client.last_client_seq
    if batch.client.agent != agent:
        raise PushRefused(403, "DEVICE_OF_ANOTHER_AGENT", "this device is registered to another agent")
    stored = batch.logged.get(m.mutation_id)
    if stored is not None:
        if stored[2] != agent:  # another agent's command: its verdict is not the caller's to read
            raise PushRefused(409, "MUTATION_ID_TAKEN", f"mutation id {m.mutation_id} is taken; make a new one")
        if stored[0] != fingerprint(m):
            raise PushRefused(
                422, "IDEMPOTENCY_KEY_REUSED", f"mutation {m.mutation_id} was already received with other content"
            )
        return Verdict.model_validate({**json.loads(stored[1]), "replayed": True})
    last = batch.last_client_seq or 0
    if m.client_seq <= last:
        raise PushRefused(
            409,
            "SEQ_REGRESSION",
            "client_seq repeats with a new mutation id (restored cache?)",
            {"last_client_seq": last},
        )
    if m.client_seq > last + 1:
        raise PushRefused(409, "SEQ_GAP", f"expected client_seq {last + 1}", {"expected": last + 1})
    tx = Tx(conn, now, batch.seqs)
    outcome, args = _judge(Context(tx, agent, now, m.occurred_at_client, limits=limits), m)
    verdict = Verdict(
        mutation_id=m.mutation_id,
        client_seq=m.client_seq,
        status=outcome.status,
        server_seq=tx.last_seq,
        reason=Reason(**outcome.reason) if outcome.reason else None,
        warnings=[Warning(**w) for w in outcome.warnings],
    )
    account_id = account_named(args) if args is not None else None
    if outcome.security:
        record_security_event(
            conn,
            now,
            verdict.reason.code if verdict.reason else "REFUSED",
            agent,
            source,
            f"{m.name} {account_id or m.mutation_id}",
            {"mutation_id": m.mutation_id, "name": m.name, "account_id": account_id},
        )
    decision = getattr(args, "decision", None)
    if decision is not None and not outcome.security:  # evidence of what the agent saw, whatever the verdict
        conn.execute(
            insert(decisions).values(
                mutation_id=m.mutation_id,
                account_id=str(account_id),
                agent=agent,
                kind=str(decision.get("kind", "unknown"))[:24],
                subject_id=_short(decision.get("subject_id")),
                taken_at=_short(decision.get("taken_at")) or now.isoformat(),
                snapshot=json.dumps(decision, ensure_ascii=False),
                sha256=digest(decision),
            )
        )
    if outcome.status == "deferred" and outcome.approval is not None:
        conn.execute(
            insert(approvals).values(
                mutation_id=m.mutation_id,
                name=m.name,
                agent=agent,
                account_id=str(account_id),
                args=json.dumps(cleaned(m.args), separators=(",", ":"), ensure_ascii=False),  # supervisors read it
                level=outcome.approval["level"],
                why=outcome.approval["why"],
                requested_at=now.isoformat(),
                occurred_at=m.occurred_at_client.isoformat(),
            )
        )
        export.approval_requested(
            tx,
            m.mutation_id,
            m.name,
            agent,
            str(account_id),
            m.args,
            outcome.approval["level"],
            outcome.approval["why"],
        )
    for warning in outcome.warnings:
        if warning["code"].startswith("COMPLIANCE_"):
            conn.execute(
                insert(compliance_exceptions).values(
                    mutation_id=m.mutation_id,
                    account_id=str(account_id),
                    agent=agent,
                    code=warning["code"],
                    message=warning["message"],
                    created_at=now.isoformat(),
                    details=json.dumps(outcome.compliance, separators=(",", ":")) if outcome.compliance else None,
                )
            )
    sha, verdict_json = fingerprint(m), verdict.model_dump_json(exclude={"replayed"})
    _LOG.run(
        conn,
        {
            "mutation_id": m.mutation_id,
            "device_id": request.device_id,
            "device_epoch": request.device_epoch,
            "client_seq": m.client_seq,
            "name": m.name,
            "payload_sha256": sha,
            "status": verdict.status,
            "verdict": verdict_json,
            "server_seq": verdict.server_seq,
            "received_at": now.isoformat(),
        },
    )
    batch.logged[m.mutation_id] = (sha, verdict_json, agent)  # a copy later in the batch is a replay of it
    return verdict


def _short(value: object) -> str | None:
    """A text of the snapshot kept in its own column (bounded there)."""
    return None if value is None else str(value)[:64]


def process_push(
    engine: Engine,
    agent: str,
    request: PushRequest,
    now: datetime,
    limits: Limits = Limits(),
    source: str | None = None,
) -> PushResult:
    """The batch in client_seq order in one transaction, each mutation inside its own savepoint (a
    refusal undoes only that one), committed once: one disk sync per push instead of one per command.
    A transient failure halts the batch; a commit that fails reports nothing applied."""
    results: list[Verdict] = []
    halted = None
    refused: PushRefused | None = None
    ordered = sorted(request.mutations, key=lambda item: item.client_seq)
    try:
        with write_tx(engine) as conn:
            batch = _Batch.read(conn, ordered)
            applied = None
            for m in ordered:
                mark = batch.seqs.value
                try:
                    with savepoint(conn):
                        verdict = _apply_one(conn, agent, request, m, now, limits, source, batch)
                except PushRefused as exc:
                    refused, batch.seqs.value = exc, mark
                    break
                except OperationalError:
                    halted, batch.seqs.value = Halted(at_client_seq=m.client_seq, code="DB_BUSY", retry_after_s=2), mark
                    break
                results.append(verdict)
                if not verdict.replayed:
                    applied = batch.last_client_seq = m.client_seq
            batch.seqs.flush()  # the counter, once for the batch
            if applied is not None:  # the device's row, once for the batch
                _ADVANCE.run(
                    conn,
                    {"d": request.device_id, "e": request.device_epoch, "b_seq": applied, "b_seen": now.isoformat()},
                )
    except OperationalError:  # the lock could not be taken or the commit failed: nothing was kept
        results, refused = [], None
        halted = Halted(at_client_seq=ordered[0].client_seq if ordered else 0, code="DB_BUSY", retry_after_s=2)
    if refused is not None:
        if results:  # what was applied stays applied; the client learns where to resume
            refused.details["results"] = [r.model_dump(mode="json") for r in results]
        raise refused
    last = results[-1].client_seq if results else 0
    if not results:
        with engine.connect() as conn:
            client = _client_row(conn, request.device_id, request.device_epoch)
            last = client.last_client_seq if client else 0
    return PushResult(last, results, halted)
