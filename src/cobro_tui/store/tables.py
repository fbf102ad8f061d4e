"""The cache schema as SQLModel tables: the one definition of each table's columns, from which the
migrations are checked (tests/test_migrations.py) and the rows are filled (store.rows). Only the
store layer imports this module, and only where it writes: SQLModel costs a start about 0.12 s."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, Integer, Table, UniqueConstraint
from sqlmodel import Field, SQLModel

from cobro_tui.store.types import UTCDateTime

# Column info: the store fills this column itself (a queue score, a contact window); the entity's
# row leaves it alone, so a sync page or a bulk load never overwrites it.
KEPT_BY_STORE = "kept_by_store"


def _instant(nullable: bool = False, index: bool = False) -> object:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _kept_by_store(default: Any, server_default: str | None = None) -> Any:
    kwargs: dict[str, Any] = {"info": {KEPT_BY_STORE: True}}
    if server_default is not None:
        kwargs["server_default"] = server_default
    return Field(default=default, sa_column_kwargs=kwargs)


def cache_table(name: str) -> Table:
    """The definition of the cache table `name`."""
    return SQLModel.metadata.tables[name]


def cache_tables() -> list[Table]:
    """Every cache table, parents before the tables that refer to them."""
    return SQLModel.metadata.sorted_tables


class Synced(SQLModel):
    """Columns every mirrored domain row carries: its standing against the server (SyncState)."""

    sync_state: str = Field(default="synced", max_length=24)
    server_version: int = Field(default=0)


class CustomerRow(Synced, table=True):
    __tablename__ = "customer"
    id: str = Field(primary_key=True, max_length=36)
    full_name: str
    rfc: str = Field(max_length=13)
    curp: str = Field(max_length=18)
    birth_date: date


class AccountRow(Synced, table=True):
    __tablename__ = "account"
    __table_args__ = (
        Index("ix_account_queue", "assigned_agent", "dpd", "past_due", "id"),
        Index("ix_account_priority", "assigned_agent", "priority", "dpd", "id"),
        Index("ix_account_customer", "customer_id"),
        Index("ix_account_number", "number"),
    )
    id: str = Field(primary_key=True, max_length=36)
    customer_id: str = Field(foreign_key="customer.id", max_length=36)
    number: str = Field(max_length=20)
    product: str = Field(max_length=24)
    currency: str = Field(default="MXN", max_length=3)
    principal: int
    interest: int
    fees: int
    vat: int
    past_due: int
    min_to_cure: int
    dpd: int
    bucket: str = Field(max_length=16)
    stage: str = Field(max_length=16)
    risk_segment: str = Field(max_length=4)
    assigned_agent: str = Field(max_length=64)
    opened_on: date
    last_payment_on: date | None = None
    last_contact_at: datetime | None = _instant(nullable=True)  # type: ignore[assignment]
    version: int = 1
    # Queue score (domain.priority), kept by store.priority; not part of the wire record.
    priority: int = _kept_by_store(0, server_default="0")
    # Next instant contact is allowed and the end of the window it is in (store.rules; None: never / unknown).
    contact_from: str | None = _kept_by_store(None)
    contact_until: str | None = _kept_by_store(None)


class ContactPointRow(Synced, table=True):
    __tablename__ = "contact_point"
    __table_args__ = (Index("ix_contact_point_customer", "customer_id"), Index("ix_contact_point_value", "value"))
    id: str = Field(primary_key=True, max_length=36)
    customer_id: str = Field(foreign_key="customer.id", max_length=36)
    kind: str = Field(max_length=16)
    value: str
    provenance: str = Field(max_length=16)
    state_code: str = Field(max_length=3)
    municipality_code: str = Field(max_length=5)
    postal_code: str = Field(max_length=5)
    consent_sms: bool = False
    consent_whatsapp: bool = False
    consent_email: bool = False
    opted_out: bool = False
    wrong_number: bool = False
    is_primary: bool = False


class ReferenceRow(Synced, table=True):
    __tablename__ = "reference"
    __table_args__ = (Index("ix_reference_account", "account_id"),)
    id: str = Field(primary_key=True, max_length=36)
    account_id: str = Field(foreign_key="account.id", max_length=36)
    role: str = Field(max_length=20)
    full_name: str
    phone: str
    relationship: str


class PaymentRow(Synced, table=True):
    __tablename__ = "payment"
    __table_args__ = (Index("ix_payment_account", "account_id", "paid_on"),)
    id: str = Field(primary_key=True, max_length=36)
    account_id: str = Field(foreign_key="account.id", max_length=36)
    amount: int
    currency: str = Field(default="MXN", max_length=3)
    paid_on: date
    channel: str = Field(max_length=16)
    reference: str


class PromiseRow(Synced, table=True):
    __tablename__ = "promise"
    __table_args__ = (Index("ix_promise_account", "account_id", "status"), Index("ix_promise_due", "status", "due_on"))
    id: str = Field(primary_key=True, max_length=36)
    account_id: str = Field(foreign_key="account.id", max_length=36)
    amount: int
    currency: str = Field(default="MXN", max_length=3)
    due_on: date
    channel: str = Field(max_length=16)
    created_at: datetime = _instant()  # type: ignore[assignment]
    created_by: str = Field(max_length=64)
    status: str = Field(max_length=16)
    paid: int | None = None
    grace_days: int = 0


class PaymentPlanRow(Synced, table=True):
    __tablename__ = "payment_plan"
    __table_args__ = (Index("ix_payment_plan_account", "account_id"),)
    id: str = Field(primary_key=True, max_length=36)
    account_id: str = Field(foreign_key="account.id", max_length=36)
    down_payment: int
    currency: str = Field(default="MXN", max_length=3)
    created_at: datetime = _instant()  # type: ignore[assignment]
    created_by: str = Field(max_length=64)
    status: str = Field(max_length=16)
    kind: str = Field(default="plan", max_length=16, sa_column_kwargs={"server_default": "plan"})
    forgiven: int | None = None


class InstallmentRow(SQLModel, table=True):
    __tablename__ = "plan_installment"
    plan_id: str = Field(foreign_key="payment_plan.id", primary_key=True, max_length=36)
    number: int = Field(primary_key=True)
    due_on: date
    amount: int
    status: str = Field(max_length=16)


class ContactAttemptRow(Synced, table=True):
    __tablename__ = "contact_attempt"
    __table_args__ = (
        Index("ix_contact_attempt_account", "account_id", "started_at"),
        Index("ix_contact_attempt_customer", "customer_id", "started_at"),
    )
    id: str = Field(primary_key=True, max_length=36)
    account_id: str = Field(foreign_key="account.id", max_length=36)
    customer_id: str = Field(foreign_key="customer.id", max_length=36)
    contact_point_id: str | None = Field(default=None, max_length=36)
    channel: str = Field(max_length=16)
    direction: str = Field(max_length=16)
    started_at: datetime = _instant()  # type: ignore[assignment]
    ended_at: datetime | None = _instant(nullable=True)  # type: ignore[assignment]
    result_code: str = Field(max_length=16)
    agent: str = Field(max_length=64)
    problem_code: str | None = Field(default=None, max_length=32)
    circumstance: str = ""
    resolution: str = ""
    notes: str = ""
    script_steps: str = "[]"
    callback_at: datetime | None = _instant(nullable=True)  # type: ignore[assignment]
    override_reason: str | None = None


class RestrictionRow(Synced, table=True):
    __tablename__ = "restriction"
    __table_args__ = (Index("ix_restriction_customer", "customer_id"),)
    id: str = Field(primary_key=True, max_length=36)
    customer_id: str = Field(foreign_key="customer.id", max_length=36)
    kind: str = Field(max_length=16)
    created_at: datetime = _instant()  # type: ignore[assignment]
    source: str = Field(max_length=32)
    contact_point_id: str | None = Field(default=None, max_length=36)
    channel: str | None = Field(default=None, max_length=16)
    note: str = ""


class BucketHistoryRow(Synced, table=True):
    __tablename__ = "bucket_history"
    __table_args__ = (Index("ix_bucket_history_account", "account_id", "entered_on"),)
    id: str = Field(primary_key=True, max_length=36)
    account_id: str = Field(foreign_key="account.id", max_length=36)
    bucket: str = Field(max_length=16)
    entered_on: date
    left_on: date | None = None


class NoteRow(Synced, table=True):
    __tablename__ = "note"
    __table_args__ = (Index("ix_note_account", "account_id"),)
    id: str = Field(primary_key=True, max_length=36)
    account_id: str = Field(foreign_key="account.id", max_length=36)
    author: str = Field(max_length=64)
    created_at: datetime = _instant()  # type: ignore[assignment]
    text: str


class AuditEventRow(SQLModel, table=True):
    """The append-only hash chain; triggers in the migrations refuse UPDATE and DELETE."""

    __tablename__ = "audit_event"
    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    body: str
    hash: str = Field(max_length=64, unique=True)


class OutboxRow(SQLModel, table=True):
    """Local mutations waiting for (or answered by) the server: the transactional outbox."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("client_seq", name="uq_outbox_client_seq"),
        Index("ix_outbox_state", "state", "client_seq"),
    )
    mutation_id: str = Field(primary_key=True, max_length=36)
    client_seq: int
    name: str = Field(max_length=48)
    args_json: str
    account_id: str | None = Field(default=None, max_length=36)
    occurred_at_client: datetime = _instant()  # type: ignore[assignment]
    monotonic_ms: int = 0
    observed_cursor: str | None = None
    base_version: int | None = None
    state: str = Field(default="pending", max_length=24)
    attempts: int = 0
    next_attempt_at: datetime | None = _instant(nullable=True)  # type: ignore[assignment]
    last_error: str | None = None
    verdict_json: str | None = None
    server_seq: int | None = None
    acknowledged_by_agent: bool = False


class SyncMetaRow(SQLModel, table=True):
    """One row: who this device is and where its sync stands."""

    __tablename__ = "sync_meta"
    id: int = Field(default=1, primary_key=True)
    device_id: str = Field(max_length=36)
    device_epoch: int = 1
    agent_id: str = Field(max_length=64)
    cursor: str | None = None
    server_epoch: str | None = None
    last_pull_server_time: datetime | None = _instant(nullable=True)  # type: ignore[assignment]
    clock_offset_ms: int | None = None
    next_client_seq: int = 1
    server_url: str | None = None
    last_sync_at: datetime | None = _instant(nullable=True)  # type: ignore[assignment]
    last_sync_error: str | None = None
    priority_day: str | None = Field(default=None, max_length=10)  # the day the queue scores are for
    priority_cursor: str | None = None  # the sync cursor when they were made (all of them, or the touched ones)
    role: str = Field(default="agent", max_length=16, sa_column_kwargs={"server_default": "agent"})  # who signed in
    # The head of the audit chain the server last acknowledged keeping (issue #14), and the server's
    # word when it refused the chain: `audit verify` compares with these when it cannot ask.
    audit_acked_seq: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    audit_acked_hash: str | None = Field(default=None, max_length=64)
    audit_acked_at: datetime | None = _instant(nullable=True)  # type: ignore[assignment]
    audit_alarm: str | None = None
