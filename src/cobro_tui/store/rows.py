"""Domain values to cache rows and back: one column order per table, shared by bulk and single writes."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from cobro_tui.domain.cards import PAN_LENGTHS, STAR, holdable_number
from cobro_tui.domain.models import (
    Account,
    BucketHistoryEntry,
    ContactAttempt,
    ContactKind,
    ContactPoint,
    Customer,
    Note,
    Payment,
    PaymentPlan,
    Product,
    Promise,
    PromiseStatus,
    Provenance,
    Reference,
    ReferenceRole,
    Restriction,
    Stage,
    SyncState,
)
from cobro_tui.domain.money import Money
from cobro_tui.domain.records import from_record, instant_text


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _instant(value: datetime | None) -> str | None:
    return None if value is None else instant_text(value)


CUSTOMER = ("id", "full_name", "rfc", "curp", "birth_date", "sync_state", "server_version")


def customer_row(c: Customer, state: SyncState = SyncState.SYNCED, version: int = 1) -> tuple[Any, ...]:
    return (c.id, c.full_name, c.rfc, c.curp, c.birth_date.isoformat(), state.value, version)


ACCOUNT = (
    "id",
    "customer_id",
    "number",
    "product",
    "currency",
    "principal",
    "interest",
    "fees",
    "vat",
    "past_due",
    "min_to_cure",
    "dpd",
    "bucket",
    "stage",
    "risk_segment",
    "assigned_agent",
    "opened_on",
    "last_payment_on",
    "last_contact_at",
    "version",
    "sync_state",
    "server_version",
)


def account_row(a: Account, state: SyncState = SyncState.SYNCED) -> tuple[Any, ...]:
    return (
        a.id,
        a.customer_id,
        holdable_number(a.number),
        a.product.value,
        a.currency,
        a.principal.centavos,
        a.interest.centavos,
        a.fees.centavos,
        a.vat.centavos,
        a.past_due.centavos,
        a.min_to_cure.centavos,
        a.dpd,
        a.bucket,
        a.stage.value,
        a.risk_segment,
        a.assigned_agent,
        a.opened_on.isoformat(),
        _day(a.last_payment_on),
        _instant(a.last_contact_at),
        a.version,
        state.value,
        a.version,
    )


def account_from_row(r: Sequence[Any]) -> Account:
    cur = r[4]
    return Account(
        id=r[0],
        customer_id=r[1],
        number=r[2],
        product=Product(r[3]),
        principal=Money(r[5], cur),
        interest=Money(r[6], cur),
        fees=Money(r[7], cur),
        vat=Money(r[8], cur),
        past_due=Money(r[9], cur),
        min_to_cure=Money(r[10], cur),
        dpd=r[11],
        bucket=r[12],
        stage=Stage(r[13]),
        risk_segment=r[14],
        assigned_agent=r[15],
        opened_on=date.fromisoformat(r[16]),
        last_payment_on=date.fromisoformat(r[17]) if r[17] else None,
        last_contact_at=datetime.fromisoformat(r[18]) if r[18] else None,
        version=r[19],
    )


CONTACT_POINT = (
    "id",
    "customer_id",
    "kind",
    "value",
    "provenance",
    "state_code",
    "municipality_code",
    "postal_code",
    "consent_sms",
    "consent_whatsapp",
    "consent_email",
    "opted_out",
    "wrong_number",
    "is_primary",
    "sync_state",
    "server_version",
)


def contact_point_row(p: ContactPoint, state: SyncState = SyncState.SYNCED, version: int = 1) -> tuple[Any, ...]:
    return (
        p.id,
        p.customer_id,
        p.kind.value,
        p.value,
        p.provenance.value,
        p.state_code,
        p.municipality_code,
        p.postal_code,
        p.consent_sms,
        p.consent_whatsapp,
        p.consent_email,
        p.opted_out,
        p.wrong_number,
        p.is_primary,
        state.value,
        version,
    )


def contact_point_from_row(r: Sequence[Any]) -> ContactPoint:
    return ContactPoint(
        id=r[0],
        customer_id=r[1],
        kind=ContactKind(r[2]),
        value=r[3],
        provenance=Provenance(r[4]),
        state_code=r[5],
        municipality_code=r[6],
        postal_code=r[7],
        consent_sms=bool(r[8]),
        consent_whatsapp=bool(r[9]),
        consent_email=bool(r[10]),
        opted_out=bool(r[11]),
        wrong_number=bool(r[12]),
        is_primary=bool(r[13]),
    )


REFERENCE = ("id", "account_id", "role", "full_name", "phone", "relationship", "sync_state", "server_version")


def reference_row(r: Reference, state: SyncState = SyncState.SYNCED, version: int = 1) -> tuple[Any, ...]:
    return (r.id, r.account_id, r.role.value, r.full_name, r.phone, r.relationship, state.value, version)


def reference_from_row(r: Sequence[Any]) -> Reference:
    return Reference(id=r[0], account_id=r[1], role=ReferenceRole(r[2]), full_name=r[3], phone=r[4], relationship=r[5])


PAYMENT = ("id", "account_id", "amount", "currency", "paid_on", "channel", "reference", "sync_state", "server_version")


def payment_row(p: Payment, state: SyncState = SyncState.SYNCED, version: int = 1) -> tuple[Any, ...]:
    return (
        p.id,
        p.account_id,
        p.amount.centavos,
        p.amount.currency,
        p.paid_on.isoformat(),
        p.channel,
        p.reference,
        state.value,
        version,
    )


PROMISE = (
    "id",
    "account_id",
    "amount",
    "currency",
    "due_on",
    "channel",
    "created_at",
    "created_by",
    "status",
    "paid",
    "grace_days",
    "sync_state",
    "server_version",
)


def promise_row(p: Promise, state: SyncState = SyncState.SYNCED, version: int = 1) -> tuple[Any, ...]:
    return (
        p.id,
        p.account_id,
        p.amount.centavos,
        p.amount.currency,
        p.due_on.isoformat(),
        p.channel,
        instant_text(p.created_at),
        p.created_by,
        p.status.value,
        None if p.paid is None else p.paid.centavos,
        p.grace_days,
        state.value,
        version,
    )


def promise_from_row(r: Sequence[Any]) -> Promise:
    return Promise(
        id=r[0],
        account_id=r[1],
        amount=Money(r[2], r[3]),
        due_on=date.fromisoformat(r[4]),
        channel=r[5],
        created_at=datetime.fromisoformat(r[6]),
        created_by=r[7],
        status=PromiseStatus(r[8]),
        paid=None if r[9] is None else Money(r[9], r[3]),
        grace_days=r[10],
    )


PLAN = (
    "id",
    "account_id",
    "down_payment",
    "currency",
    "created_at",
    "created_by",
    "status",
    "kind",
    "forgiven",
    "sync_state",
    "server_version",
)
INSTALLMENT = ("plan_id", "number", "due_on", "amount", "status")


def plan_rows(
    p: PaymentPlan, state: SyncState = SyncState.SYNCED, version: int = 1
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    head = (
        p.id,
        p.account_id,
        p.down_payment.centavos,
        p.down_payment.currency,
        instant_text(p.created_at),
        p.created_by,
        p.status.value,
        p.kind.value,
        p.forgiven.centavos if p.forgiven else None,
        state.value,
        version,
    )
    items = [(p.id, i.number, i.due_on.isoformat(), i.amount.centavos, i.status.value) for i in p.installments]
    return head, items


CONTACT_ATTEMPT = (
    "id",
    "account_id",
    "customer_id",
    "contact_point_id",
    "channel",
    "direction",
    "started_at",
    "ended_at",
    "result_code",
    "agent",
    "problem_code",
    "circumstance",
    "resolution",
    "notes",
    "script_steps",
    "callback_at",
    "override_reason",
    "sync_state",
    "server_version",
)


def contact_attempt_row(c: ContactAttempt, state: SyncState = SyncState.SYNCED, version: int = 1) -> tuple[Any, ...]:
    return (
        c.id,
        c.account_id,
        c.customer_id,
        c.contact_point_id,
        c.channel.value,
        c.direction.value,
        instant_text(c.started_at),
        _instant(c.ended_at),
        c.result_code,
        c.agent,
        c.problem_code,
        c.circumstance,
        c.resolution,
        c.notes,
        steps_json(c.script_steps),
        _instant(c.callback_at),
        c.override_reason,
        state.value,
        version,
    )


RESTRICTION = (
    "id",
    "customer_id",
    "kind",
    "created_at",
    "source",
    "contact_point_id",
    "channel",
    "note",
    "sync_state",
    "server_version",
)


def restriction_row(r: Restriction, state: SyncState = SyncState.SYNCED, version: int = 1) -> tuple[Any, ...]:
    return (
        r.id,
        r.customer_id,
        r.kind.value,
        instant_text(r.created_at),
        r.source,
        r.contact_point_id,
        None if r.channel is None else r.channel.value,
        r.note,
        state.value,
        version,
    )


BUCKET_HISTORY = ("id", "account_id", "bucket", "entered_on", "left_on", "sync_state", "server_version")


def bucket_history_row(b: BucketHistoryEntry, state: SyncState = SyncState.SYNCED, version: int = 1) -> tuple[Any, ...]:
    return (b.id, b.account_id, b.bucket, b.entered_on.isoformat(), _day(b.left_on), state.value, version)


def insert_sql(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


def insert_rows(conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert many rows through the driver's executemany: the fast path for bulk loads."""
    if rows:
        conn.exec_driver_sql(insert_sql(table, columns), list(rows))


NOTE = ("id", "account_id", "author", "created_at", "text", "sync_state", "server_version")


def note_row(n: Note, state: SyncState = SyncState.SYNCED, version: int = 1) -> tuple[Any, ...]:
    return (n.id, n.account_id, n.author, instant_text(n.created_at), n.text, state.value, version)


# From wire records straight to rows (the sync hot path), without building domain objects.
_TABLE_OF = {
    "customer": ("customer", CUSTOMER),
    "contact_point": ("contact_point", CONTACT_POINT),
    "restriction": ("restriction", RESTRICTION),
    "account": ("account", ACCOUNT),
    "reference": ("reference", REFERENCE),
    "payment": ("payment", PAYMENT),
    "promise": ("promise", PROMISE),
    "payment_plan": ("payment_plan", PLAN),
    "contact_attempt": ("contact_attempt", CONTACT_ATTEMPT),
    "bucket_history": ("bucket_history", BUCKET_HISTORY),
    "note": ("note", NOTE),
}
# Which money field gives a table its currency column.
_CURRENCY_FROM = {"account": "principal", "payment": "amount", "promise": "amount", "payment_plan": "down_payment"}


KNOWN_KINDS = frozenset(_TABLE_OF)


def table_of(kind: str) -> str:
    return _TABLE_OF[kind][0]


def columns_of(kind: str) -> tuple[str, ...]:
    return _TABLE_OF[kind][1]


# Fields added after the first version of the protocol: a record without them reads as null.
OPTIONAL_FIELDS = frozenset({"callback_at", "override_reason", "kind", "forgiven"})
# What an optional field reads as when a record lacks it.
_ABSENT = {"kind": "plan"}
# Columns holding money: the wire sends {"centavos": n, "currency": "MXN"}, the cache keeps centavos.
MONEY_COLUMNS = frozenset(
    {"principal", "interest", "fees", "vat", "past_due", "min_to_cure", "amount", "paid", "down_payment", "forgiven"}
)


def steps_json(steps: Sequence[str]) -> str:
    """The PCR steps done as stored in the cache: compact JSON, as SQLite's json() writes it."""
    return json.dumps(list(steps), separators=(",", ":"), ensure_ascii=False)


def _column_reader(kind: str, column: str) -> Callable[[dict[str, Any], int], Any]:
    if column == "sync_state":
        synced = SyncState.SYNCED.value
        return lambda data, version: synced
    if column == "server_version":
        return lambda data, version: version
    if column == "currency":
        source = _CURRENCY_FROM[kind]
        return lambda data, version: data[source]["currency"]
    if column == "script_steps":
        return lambda data, version: steps_json(data["script_steps"])
    if column in MONEY_COLUMNS:
        return lambda data, version: None if data.get(column) is None else data[column]["centavos"]
    if column in OPTIONAL_FIELDS:
        absent = _ABSENT.get(column)
        return lambda data, version: data.get(column, absent)
    if kind == "account" and column == "number":
        return lambda data, version: holdable_number(data["number"])
    return lambda data, version: data[column]


def column_sql(kind: str, column: str) -> str:
    """The same reading as `_column_reader`, as an SQL expression over a JSONB `data` and `version`
    (the snapshot path, where SQLite reads the records without Python touching each one)."""
    if column == "sync_state":
        return f"'{SyncState.SYNCED.value}'"
    if column == "server_version":
        return "version"
    if column == "currency":
        return f"data->>'$.{_CURRENCY_FROM[kind]}.currency'"
    if column == "script_steps":
        return "json(data->'$.script_steps')"
    if column in MONEY_COLUMNS:
        return f"data->>'$.{column}.centavos'"
    if column in _ABSENT:
        return f"coalesce(data->>'$.{column}', '{_ABSENT[column]}')"
    if kind == "account" and column == "number":
        return _HOLDABLE_NUMBER_SQL
    return f"data->>'$.{column}'"


# holdable_number in SQL: a run of 13 to 19 digits keeps its first six and last four.
_HOLDABLE_NUMBER_SQL = (
    f"CASE WHEN length(data->>'$.number') BETWEEN {PAN_LENGTHS.start} AND {PAN_LENGTHS.stop - 1} AND data->>'$.number' NOT GLOB '*[^0-9]*' "
    f"THEN substr(data->>'$.number', 1, 6) || substr('{STAR * 9}', 1, length(data->>'$.number') - 10) "
    "|| substr(data->>'$.number', -4) ELSE data->>'$.number' END"
)


def wire_fields(kind: str) -> tuple[str, ...]:
    """The fields a wire record of `kind` must carry (present, even if null) to fill its row."""
    _table, columns = _TABLE_OF[kind]
    fields = {
        _CURRENCY_FROM[kind] if c == "currency" else c
        for c in columns
        if c not in ("sync_state", "server_version") and c not in OPTIONAL_FIELDS
    }
    if kind == "payment_plan":
        fields.add("installments")
    return tuple(sorted(fields))


_READERS: dict[str, tuple[Callable[[dict[str, Any], int], Any], ...]] = {}


def rows_from_record(
    kind: str, data: dict[str, Any], version: int
) -> list[tuple[str, tuple[str, ...], tuple[Any, ...]]]:
    """The cache rows of one wire record: (table, columns, row); plans bring their installments."""
    table, columns = _TABLE_OF[kind]
    readers = _READERS.get(kind)
    if readers is None:
        readers = _READERS[kind] = tuple(_column_reader(kind, c) for c in columns)
    out = [(table, columns, tuple(read(data, version) for read in readers))]
    if kind == "payment_plan":
        out += [
            (
                "plan_installment",
                INSTALLMENT,
                (data["id"], i["number"], i["due_on"], i["amount"]["centavos"], i["status"]),
            )
            for i in data["installments"]
        ]
    return out


def record_from_row(kind: str, row: Sequence[Any]) -> dict[str, Any]:
    """The wire record of a cache row in `columns_of(kind)` order: the inverse of `rows_from_record`
    (a plan's installments live in their own table and are not included)."""
    columns = _TABLE_OF[kind][1]
    values = dict(zip(columns, row, strict=True))
    record: dict[str, Any] = {}
    for column in columns:
        if column in ("sync_state", "server_version", "currency"):
            continue
        value = values[column]
        if column in MONEY_COLUMNS:
            value = None if value is None else {"centavos": value, "currency": values["currency"]}
        elif column == "script_steps":
            value = json.loads(value)
        record[column] = value
    return record


def entity_from_row(kind: str, row: Sequence[Any]) -> Any:
    """The domain entity of a cache row (columns in `columns_of(kind)` order)."""
    return from_record(kind, record_from_row(kind, row))
