"""Recording what an agent does: the domain rows, the outbox row and the audit event commit together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from cobro_tui.domain.decisions import digest
from cobro_tui.domain.ids import new_id
from cobro_tui.domain.models import (
    ContactAttempt,
    Note,
    PaymentPlan,
    Promise,
    Restriction,
    RestrictionKind,
    SyncState,
)
from cobro_tui.domain.records import to_record
from cobro_tui.domain.text import without_controls
from cobro_tui.store import rows as R
from cobro_tui.store.audit_log import append_event
from cobro_tui.store.device import Device
from cobro_tui.store.engine import write_connection
from cobro_tui.store.outbox import OutboxItem, enqueue
from cobro_tui.store.types import instant_text


class UnknownAccount(LookupError):
    """The action names an account that is not in this cache."""


def _account_version(conn: Connection, account_id: str) -> int:
    version = conn.exec_driver_sql("SELECT version FROM account WHERE id = ?", (account_id,)).scalar()
    if version is None:
        raise UnknownAccount(account_id)
    return int(version)


def _record(
    engine: Engine,
    *,
    name: str,
    args: dict[str, Any],
    account_id: str | None,
    rows: list[R.Row] | None,
    event: str,
    data: dict[str, Any],
    actor: str,
    device: Device,
    at: datetime,
    config_hash: str,
    also: Callable[[Connection], None] | None = None,
) -> OutboxItem:
    """The one shape of every local action: its row, its outbox item and its audit event, together."""
    with write_connection(engine) as conn:
        version = _account_version(conn, account_id) if account_id else None
        if rows is not None:
            R.insert_rows(conn, rows)
        if also is not None:
            also(conn)
        item = enqueue(conn, name=name, args=args, occurred_at=at, account_id=account_id, base_version=version)
        # Ids and codes only: the audit log never holds personal data.
        append_event(
            conn,
            at=at,
            type=event,
            actor=actor,
            device=device.device_id,
            data={**data, "mutation_id": item.mutation_id, "config_hash": config_hash},
        )
    return item


def _with_decision(args: dict[str, Any], data: dict[str, Any], decision: dict[str, Any] | None) -> None:
    """The decision snapshot goes with the command to the server; the audit log keeps its hash."""
    if decision is not None:
        args["decision"] = decision
        data["decision_sha256"] = digest(decision)


def record_promise(
    engine: Engine,
    promise: Promise,
    *,
    device: Device,
    at: datetime,
    config_hash: str,
    decision: dict[str, Any] | None = None,
) -> OutboxItem:
    """A promise to pay, pending until the server validates it (promise.create@1)."""
    record = to_record(promise)
    # What the agent agreed; status, payments and grace days are the server's (api/commands.py).
    args = {k: record[k] for k in ("id", "account_id", "amount", "due_on", "channel", "created_at")}
    data = {
        "promise_id": promise.id,
        "account_id": promise.account_id,
        "amount": promise.amount.centavos,
        "due_on": promise.due_on.isoformat(),
    }
    _with_decision(args, data, decision)
    return _record(
        engine,
        name="promise.create@1",
        args=args,
        account_id=promise.account_id,
        rows=R.rows_of(promise, SyncState.PENDING, 0),
        event="promise.created",
        data=data,
        actor=promise.created_by,
        device=device,
        at=at,
        config_hash=config_hash,
    )


def record_promise_cancel(
    engine: Engine, promise: Promise, *, device: Device, at: datetime, config_hash: str
) -> OutboxItem:
    """A promise called off: cancelled here at once, on the server when promise.cancel@1 reaches it
    (behind its own promise when that one still waits for a supervisor)."""

    def cancel(conn: Connection) -> None:
        conn.exec_driver_sql(
            "UPDATE promise SET status = 'cancelled', sync_state = 'pending' WHERE id = ?", (promise.id,)
        )

    ids = {"promise_id": promise.id, "account_id": promise.account_id}
    return _record(
        engine,
        name="promise.cancel@1",
        args=dict(ids),
        account_id=promise.account_id,
        rows=None,
        event="promise.cancelled",
        data=dict(ids),
        actor=device.agent_id,
        device=device,
        at=at,
        config_hash=config_hash,
        also=cancel,
    )


def record_plan(
    engine: Engine,
    plan: PaymentPlan,
    *,
    device: Device,
    at: datetime,
    config_hash: str,
    decision: dict[str, Any] | None = None,
) -> OutboxItem:
    """A payment plan proposed: the plan and its installments, pending until the server answers (plan.propose@1)."""
    record = to_record(plan)
    args = {k: record[k] for k in ("id", "account_id", "down_payment", "created_at", "kind")}
    args["installments"] = [{k: i[k] for k in ("number", "due_on", "amount")} for i in record["installments"]]
    data = {
        "plan_id": plan.id,
        "account_id": plan.account_id,
        "kind": plan.kind.value,
        "total": plan.total.centavos,
        "installments": len(plan.installments),
    }
    _with_decision(args, data, decision)
    return _record(
        engine,
        name="plan.propose@1",
        args=args,
        account_id=plan.account_id,
        rows=R.rows_of(plan, SyncState.PENDING, 0),
        event="plan.proposed",
        data=data,
        actor=plan.created_by,
        device=device,
        at=at,
        config_hash=config_hash,
    )


def record_refusal(
    engine: Engine, decision: dict[str, Any], *, actor: str, device: Device, at: datetime, config_hash: str
) -> OutboxItem:
    """An offer the policy refused as the agent entered it: the snapshot goes to the server as a fact
    (decision.record@1); here the audit log keeps the rules that refused it and the snapshot's hash."""
    account_id = decision["account_id"]
    rules = [p["rule"] for p in decision["eligibility"]["problems"]]
    return _record(
        engine,
        name="decision.record@1",
        args={"id": new_id(), "account_id": account_id, "decision": decision},
        account_id=account_id,
        rows=None,
        event="offer.refused",
        data={"account_id": account_id, "offer": decision["kind"], "rules": rules, "decision_sha256": digest(decision)},
        actor=actor,
        device=device,
        at=at,
        config_hash=config_hash,
    )


def record_restriction(
    engine: Engine, restriction: Restriction, *, actor: str, device: Device, at: datetime, config_hash: str
) -> OutboxItem:
    """An opt-out or cease request: effective here at once (the contact point is marked), sent as a fact."""

    def mark_point(conn: Connection) -> None:
        if restriction.contact_point_id and restriction.kind is RestrictionKind.OPT_OUT:
            conn.exec_driver_sql("UPDATE contact_point SET opted_out = 1 WHERE id = ?", (restriction.contact_point_id,))

    record = to_record(restriction)
    args = {k: v for k, v in record.items() if k != "source"}  # the server says who recorded it
    return _record(
        engine,
        name="restriction.request@1",
        args=args,
        account_id=None,
        rows=R.rows_of(restriction, SyncState.PENDING, 0),
        event="restriction.requested",
        data={
            "restriction_id": restriction.id,
            "customer_id": restriction.customer_id,
            "kind": restriction.kind.value,
            "contact_point_id": restriction.contact_point_id,
        },
        actor=actor,
        device=device,
        at=at,
        config_hash=config_hash,
        also=mark_point,
    )


def record_note(engine: Engine, note: Note, *, device: Device, at: datetime, config_hash: str) -> OutboxItem:
    return _record(
        engine,
        name="note.add@1",
        args={"id": note.id, "account_id": note.account_id, "text": without_controls(note.text)},
        account_id=note.account_id,
        rows=R.rows_of(replace(note, text=without_controls(note.text)), SyncState.PENDING, 0),
        event="note.added",
        data={"note_id": note.id, "account_id": note.account_id},
        actor=note.author,
        device=device,
        at=at,
        config_hash=config_hash,
    )


def contact_args(attempt: ContactAttempt) -> dict[str, Any]:
    """The wire arguments of contact.log@1."""
    return {
        "id": attempt.id,
        "account_id": attempt.account_id,
        "customer_id": attempt.customer_id,
        "contact_point_id": attempt.contact_point_id,
        "channel": attempt.channel.value,
        "direction": attempt.direction.value,
        "started_at": instant_text(attempt.started_at),
        "ended_at": None if attempt.ended_at is None else instant_text(attempt.ended_at),
        "result_code": attempt.result_code,
        "problem_code": attempt.problem_code,
        "circumstance": attempt.circumstance,
        "resolution": attempt.resolution,
        "notes": attempt.notes,
        "script_steps": list(attempt.script_steps),
        "callback_at": None if attempt.callback_at is None else instant_text(attempt.callback_at),
        "override_reason": attempt.override_reason,
    }


def record_contact_attempt(
    engine: Engine, attempt: ContactAttempt, *, device: Device, at: datetime, config_hash: str
) -> OutboxItem:
    """Save a contact attempt as pending, queue contact.log@1 and chain an audit event: all or nothing."""

    def touch_account(conn: Connection) -> None:
        started = instant_text(attempt.started_at)
        conn.exec_driver_sql(
            "UPDATE account SET last_contact_at = ? WHERE id = ? AND (last_contact_at IS NULL OR last_contact_at < ?)",
            (started, attempt.account_id, started),
        )

    return _record(
        engine,
        name="contact.log@1",
        args=contact_args(attempt),
        account_id=attempt.account_id,
        rows=R.rows_of(attempt, SyncState.PENDING, 0),
        event="contact.logged",
        data={
            "contact_id": attempt.id,
            "account_id": attempt.account_id,
            "channel": attempt.channel.value,
            "result_code": attempt.result_code,
        },
        actor=attempt.agent,
        device=device,
        at=at,
        config_hash=config_hash,
        also=touch_account,
    )


def record_rule_decision(
    engine: Engine, *, kind: str, data: dict[str, Any], actor: str, device: Device, at: datetime
) -> None:
    """A contact-rule decision that gated an action (blocked, allowed, overridden): an audit event only."""
    with write_connection(engine) as conn:
        append_event(conn, at=at, type=kind, actor=actor, device=device.device_id, data=data)


def record_reveal(
    engine: Engine,
    *,
    account_id: str,
    what: str,
    reason: str,
    actor: str,
    device: Device,
    at: datetime,
    config_hash: str,
) -> None:
    """Personal data shown in full: an audit event only (nothing to send, nothing changes), with the
    reason the agent gave as its code."""
    with write_connection(engine) as conn:
        _account_version(conn, account_id)
        append_event(
            conn,
            at=at,
            type="pii.revealed",
            actor=actor,
            device=device.device_id,
            data={"account_id": account_id, "what": what, "reason": reason, "config_hash": config_hash},
        )
