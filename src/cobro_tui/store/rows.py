"""Cache rows of the domain's entities and of the sync feed's records, and back: one conversion, by
column name, for every entity table.

A row fills the columns its table's class in `store.tables` defines, less the ones the store keeps
itself (marked there): each from the entity field of that name, by the few rules below (money as
centavos with one currency column, the PCR steps as JSON, card numbers truncated), whether it
comes from an entity (local writes, bulk loads) or from its wire record (sync pages). A row read
back (`SELECT *`) is mapped by name, never by position.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields
from functools import cache
from itertools import groupby
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import Connection

from cobro_tui.domain.cards import PAN_LENGTHS, STAR, holdable_number
from cobro_tui.domain.models import Installment, PaymentPlan, SyncState
from cobro_tui.domain.money import Money
from cobro_tui.domain.records import KIND_OF, KINDS, field_encoders, field_types, from_record

# One row to write: its table, the columns it fills and their values in that order.
Row = tuple[str, tuple[str, ...], tuple[Any, ...]]
# One row read, by column name: SQLAlchemy's RowMapping (`result.mappings()`), or a dict.
NamedRow = Mapping[Any, Any]

KNOWN_KINDS = frozenset(KINDS)
# Entity fields kept in a table of their own, and that table.
CHILD_TABLES = {"installments": "plan_installment"}
# Which money field gives a table its currency column.
_CURRENCY_FROM = {"account": "principal", "payment": "amount", "promise": "amount", "payment_plan": "down_payment"}
# Fields added after the first version of the protocol, per table: a record without them reads as
# null (or as _ABSENT says). Per table, so that a contact point or a restriction missing its own
# `kind` is refused rather than read as a plan's default.
OPTIONAL_FIELDS: dict[str, frozenset[str]] = {
    "contact_attempt": frozenset({"callback_at", "override_reason"}),
    "payment_plan": frozenset({"kind", "forgiven"}),
}
# What an optional field reads as when a record lacks it.
_ABSENT = {"kind": "plan"}
# The columns of a row that say how it stands against the server, not what the entity is.
SYNC_COLUMNS = ("sync_state", "server_version")


def table_of(kind: str) -> str:
    """The cache table of an entity kind (each kind's table has its name)."""
    if kind not in KINDS:
        raise KeyError(kind)
    return kind


@cache
def columns_of(table: str) -> tuple[str, ...]:
    """The columns a row of `table` fills: every column the table's class defines but those the
    store keeps itself."""
    # Loaded at the first write, not at start: reads go by name and never need the definitions.
    from cobro_tui.store.tables import KEPT_BY_STORE, cache_table

    return tuple(c.name for c in cache_table(table).columns if not c.info.get(KEPT_BY_STORE))


@cache
def entity_tables() -> tuple[str, ...]:
    """The tables of the entity kinds and of their children, parents first (the order to fill them in)."""
    from cobro_tui.store.tables import cache_tables

    return tuple(t.name for t in cache_tables() if t.name in KINDS or t.name in CHILD_TABLES.values())


@cache
def stored_fields(cls: type) -> tuple[str, ...]:
    """The fields of an entity class that are columns of its row (the others have a table of their own)."""
    return tuple(f.name for f in fields(cls) if f.name not in CHILD_TABLES)


@cache
def money_fields(cls: type) -> frozenset[str]:
    """The fields of an entity class holding money: the wire sends {"centavos": n, "currency": "MXN"},
    the row keeps the centavos (and the currency once, in its own column)."""
    return frozenset(name for name, hint in field_types(cls).items() if hint in (Money, Money | None))


def steps_json(steps: Sequence[str]) -> str:
    """The PCR steps done as stored in the cache: compact JSON, as SQLite's json() writes it."""
    return json.dumps(list(steps), separators=(",", ":"), ensure_ascii=False)


# -- Entities and wire records to rows: the same rules read an entity (local writes, bulk loads) and
# its wire record (sync pages); tests/test_rows.py holds the two to the same rows. --

Convert = Callable[[Any], Any]


def _money_centavos(money: Money | None) -> int | None:
    return None if money is None else money.centavos


def _record_centavos(money: dict[str, Any] | None) -> int | None:
    return None if money is None else money["centavos"]


def _rule(cls: type, column: str) -> tuple[str, Convert | None, Convert | None]:
    """Which field fills `column`, and how it is converted from an entity and from its wire record
    (None: as it is)."""
    kind = KIND_OF.get(cls)
    if column == "currency" and kind is not None:
        return _CURRENCY_FROM[kind], attrgetter("currency"), itemgetter("currency")
    if column in money_fields(cls):
        return column, _money_centavos, _record_centavos
    if column == "script_steps":
        return column, steps_json, steps_json
    if kind == "account" and column == "number":
        return column, holdable_number, holdable_number
    # Dates, instants and codes as their records write them (the record has them so already).
    return column, _encoders(cls).get(column), None


@cache
def _encoders(cls: type) -> dict[str, Convert | None]:
    return dict(field_encoders(cls))


# The column of a child row naming its parent, which the parent's rows fill.
_PARENT_KEYS = frozenset({"plan_id"})
# The maker's arguments that fill the sync columns.
_SYNC_ARGUMENTS = {"sync_state": "state", "server_version": "version"}
_STATE_TEXT = {state: state.value for state in SyncState}
# make(source, state, version, parent=None) -> (table, columns, values): one row of an entity or a record.
RowMaker = Callable[..., Row]


def _row_maker(table: str, from_record: bool) -> RowMaker:
    """How rows of `table` are made, from entities or from wire records, as one function written from
    the table's columns and compiled once: a bulk load makes millions of rows, and a row spelled out as
    one tuple is about twice as quick as one gathered column by column."""
    cls = Installment if table in CHILD_TABLES.values() else KINDS[table]
    names: dict[str, Any] = {"table": table, "columns": columns_of(table)}
    values = []
    for column in columns_of(table):
        if column in _SYNC_ARGUMENTS:
            values.append(_SYNC_ARGUMENTS[column])
            continue
        if column in _PARENT_KEYS:
            values.append("parent")
            continue
        field, from_entity, from_wire = _rule(cls, column)
        convert = from_wire if from_record else from_entity
        if not from_record:
            value = f"source.{field}"
        elif field in OPTIONAL_FIELDS.get(table, ()) or field in money_fields(cls):
            value = f"source.get({field!r}, {_ABSENT.get(field)!r})"
        else:
            value = f"source[{field!r}]"
        if convert is not None:
            names[f"convert_{column}"] = convert
            value = f"convert_{column}({value})"
        values.append(value)
    # The text is made from the table's own column names, never from data.
    source = f"def make(source, state, version, parent=None):\n    return table, columns, ({', '.join(values)},)"
    exec(compile(source, f"<store.rows: {'record' if from_record else 'entity'} to {table} row>", "exec"), names)
    maker: RowMaker = names["make"]
    return maker


_ENTITY_ROWS: dict[type, tuple[RowMaker, bool]] = {}  # entity class -> (its maker, whether it has a version)
_RECORD_ROWS: dict[str, RowMaker] = {}


def _entity_maker(cls: type) -> tuple[RowMaker, bool]:
    found = _ENTITY_ROWS[cls] = (_row_maker(KIND_OF[cls], False), "version" in stored_fields(cls))
    return found


def _record_maker(kind: str) -> RowMaker:
    make = _RECORD_ROWS[kind] = _row_maker(kind, True)
    return make


def prepare_writes() -> None:
    """Make every table's row makers now (importing the table definitions, 0.1-0.4 s, and compiling
    the makers, about 2 ms): the workstation calls this in the background after its start, so that
    the agent's first contact of the day does not wait for it."""
    for kind, cls in KINDS.items():
        if cls not in _ENTITY_ROWS:
            _entity_maker(cls)
        if kind not in _RECORD_ROWS:
            _record_maker(kind)
    _installment_maker(False)
    _installment_maker(True)


def rows_of(entity: Any, state: SyncState = SyncState.SYNCED, version: int | None = None) -> list[Row]:
    """The cache rows of a domain entity marked `state`, at server `version` (by default the entity's
    own version where it has one, else 1); a plan brings its installments."""
    cls: type = type(entity)
    make, versioned = _ENTITY_ROWS.get(cls) or _entity_maker(cls)
    if version is None:
        version = entity.version if versioned else 1
    out = [make(entity, _STATE_TEXT[state], version)]
    if cls is PaymentPlan:
        out += _installment_rows(entity.id, entity.installments, False)
    return out


def rows_from_record(kind: str, data: dict[str, Any], version: int, state: SyncState = SyncState.SYNCED) -> list[Row]:
    """The cache rows of one wire record at server `version`, marked `state`; a plan brings its installments."""
    make = _RECORD_ROWS.get(kind) or _record_maker(kind)
    out = [make(data, _STATE_TEXT[state], version)]
    if kind == "payment_plan":
        out += _installment_rows(data["id"], data["installments"], True)
    return out


@cache
def _installment_maker(from_record: bool) -> RowMaker:
    return _row_maker("plan_installment", from_record)


def _installment_rows(plan_id: str, installments: Iterable[Any], from_record: bool) -> list[Row]:
    make = _installment_maker(from_record)
    return [make(item, "", 0, plan_id) for item in installments]


def insert_sql(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


def write_rows(conn: Connection, rows: Iterable[Row], sql_of: Callable[[str, tuple[str, ...]], str]) -> None:
    """Write rows through the driver's executemany, one statement (`sql_of(table, columns)`) for each
    run of rows of one table; the order across tables is kept (parents first)."""
    for (table, columns), run in groupby(rows, key=itemgetter(0, 1)):
        conn.exec_driver_sql(sql_of(table, columns), [values for _, _, values in run])


def insert_rows(conn: Connection, rows: Iterable[Row]) -> None:
    """Insert rows (the fast path for bulk loads, and the one for single writes)."""
    write_rows(conn, rows, insert_sql)


# -- Rows to records and entities, by column name. --


def _record_of(cls: type, row: NamedRow, currency: str | None) -> dict[str, Any]:
    money = money_fields(cls)
    record: dict[str, Any] = {}
    for name in stored_fields(cls):
        value = row[name]
        if name in money:
            value = None if value is None else {"centavos": value, "currency": currency}
        elif name == "script_steps":
            value = json.loads(value)
        record[name] = value
    return record


def record_from_row(kind: str, row: NamedRow, installments: Sequence[NamedRow] = ()) -> dict[str, Any]:
    """The wire record of a cache row read by name (columns it does not need are left alone): the
    inverse of `rows_from_record`. A plan's installments come from their own table, as rows too."""
    currency = row["currency"] if kind in _CURRENCY_FROM else None
    record = _record_of(KINDS[kind], row, currency)
    if kind == "payment_plan":
        record["installments"] = [_record_of(Installment, item, currency) for item in installments]
    return record


def entity_from_row(kind: str, row: NamedRow, installments: Sequence[NamedRow] = ()) -> Any:
    """The domain entity of a cache row read by name (a plan's installments as rows of their own table)."""
    return from_record(kind, record_from_row(kind, row, installments))


# -- The same reading in SQL, for snapshot pages, which SQLite reads itself. --


def column_sql(kind: str, column: str) -> str:
    """The reading of `_rule`, as an SQL expression over a JSONB `data` and `version` (the snapshot
    path, where SQLite reads the records without Python touching each one)."""
    if column == "sync_state":
        return f"'{SyncState.SYNCED.value}'"
    if column == "server_version":
        return "version"
    if column == "currency":
        return f"data->>'$.{_CURRENCY_FROM[kind]}.currency'"
    if column == "script_steps":
        return "json(data->'$.script_steps')"
    if column in money_fields(KINDS[kind]):
        return f"data->>'$.{column}.centavos'"
    if column in _ABSENT:
        return f"coalesce(data->>'$.{column}', '{_ABSENT[column]}')"
    if kind == "account" and column == "number":
        return _HOLDABLE_NUMBER_SQL
    return f"data->>'$.{column}'"


def installment_sql(column: str) -> str:
    """The reading of `_rule` for an installment's row in SQL, over a staged plan `s.data` and
    one of its installments `i.value`."""
    if column == "plan_id":
        return "s.data->>'$.id'"
    if column in money_fields(Installment):
        return f"i.value->>'$.{column}.centavos'"
    return f"i.value->>'{column}'"


# holdable_number in SQL: a run of 13 to 19 digits keeps its first six and last four.
_HOLDABLE_NUMBER_SQL = (
    f"CASE WHEN length(data->>'$.number') BETWEEN {PAN_LENGTHS.start} AND {PAN_LENGTHS.stop - 1} AND data->>'$.number' NOT GLOB '*[^0-9]*' "
    f"THEN substr(data->>'$.number', 1, 6) || substr('{STAR * 9}', 1, length(data->>'$.number') - 10) "
    "|| substr(data->>'$.number', -4) ELSE data->>'$.number' END"
)


def wire_fields(kind: str) -> tuple[str, ...]:
    """The fields a wire record of `kind` must carry (present, even if null) to fill its row."""
    needed = {
        _CURRENCY_FROM[kind] if c == "currency" else c
        for c in columns_of(kind)
        if c not in SYNC_COLUMNS and c not in OPTIONAL_FIELDS.get(kind, ())
    }
    needed.update(f.name for f in fields(KINDS[kind]) if f.name in CHILD_TABLES)
    return tuple(sorted(needed))
