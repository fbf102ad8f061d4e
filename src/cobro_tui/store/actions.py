"""Recording what an agent does: the domain rows, the outbox row and the audit event commit together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from cobro_tui.domain.models import ContactAttempt, SyncState
from cobro_tui.store import rows as R
from cobro_tui.store.audit_log import append_event
from cobro_tui.store.device import Device
from cobro_tui.store.engine import write_connection
from cobro_tui.store.outbox import OutboxItem, enqueue
from cobro_tui.store.types import instant_text


class UnknownAccount(LookupError):
    """The action names an account that is not in this cache."""


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
    }


def record_contact_attempt(
    engine: Engine, attempt: ContactAttempt, *, device: Device, at: datetime, config_hash: str
) -> OutboxItem:
    """Save a contact attempt as pending, queue contact.log@1 and chain an audit event: all or nothing."""
    with write_connection(engine) as conn:
        version = conn.exec_driver_sql("SELECT version FROM account WHERE id = ?", (attempt.account_id,)).scalar()
        if version is None:
            raise UnknownAccount(attempt.account_id)
        R.insert_rows(conn, "contact_attempt", R.CONTACT_ATTEMPT, [R.contact_attempt_row(attempt, SyncState.PENDING, 0)])
        conn.exec_driver_sql(
            "UPDATE account SET last_contact_at = ? WHERE id = ? AND (last_contact_at IS NULL OR last_contact_at < ?)",
            (instant_text(attempt.started_at), attempt.account_id, instant_text(attempt.started_at)),
        )
        item = enqueue(
            conn, name="contact.log@1", args=contact_args(attempt), occurred_at=at,
            account_id=attempt.account_id, base_version=version,
        )
        # Ids and codes only: the audit log never holds personal data.
        append_event(
            conn, at=at, type="contact.logged", actor=attempt.agent, device=device.device_id,
            data={
                "contact_id": attempt.id, "account_id": attempt.account_id, "channel": attempt.channel.value,
                "result_code": attempt.result_code, "mutation_id": item.mutation_id, "config_hash": config_hash,
            },
        )
    return item
