"""The cache side of sync: outbox batches and verdicts, change pages and snapshots applied with
their cursor in one transaction each."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, Index
from sqlalchemy.exc import DBAPIError

from cobro_tui.domain.models import SyncState
from cobro_tui.store import rows as R
from cobro_tui.store.device import meta, set_meta
from cobro_tui.store.engine import write_connection
from cobro_tui.store.types import instant_text

# Which local row a mutation created: mutation name -> (table, argument holding the row id).
MUTATION_ROWS = {
    "contact.log@1": ("contact_attempt", "id"),
    "note.add@1": ("note", "id"),
    "restriction.request@1": ("restriction", "id"),
    "promise.create@1": ("promise", "id"),
    "promise.cancel@1": ("promise", "promise_id"),
    "plan.propose@1": ("payment_plan", "id"),
}
# Local states the server's copy may replace; warnings and rejections stay until acknowledged.
_REPLACEABLE = ("'synced'", "'pending'", "'sending'")
ACCOUNT_CHILDREN = ("reference", "payment", "promise", "contact_attempt", "bucket_history", "note")


@dataclass(frozen=True, slots=True)
class SyncMeta:
    device_id: str
    device_epoch: int
    agent_id: str
    cursor: str | None
    server_url: str | None
    last_sync_at: datetime | None
    last_sync_error: str | None
    role: str = "agent"  # agent, supervisor or manager: what the user who signed in here is


@dataclass(frozen=True, slots=True)
class Pending:
    mutation_id: str
    client_seq: int
    name: str
    args: dict[str, Any]
    occurred_at: str
    observed_cursor: str | None
    base_version: int | None


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def read_meta(engine: Engine) -> SyncMeta | None:
    with engine.connect() as conn:
        row = meta(conn, *(f.name for f in fields(SyncMeta)))
    if row is None:
        return None
    return SyncMeta(**{**row, "last_sync_at": _instant(row["last_sync_at"]), "role": row["role"] or "agent"})


def set_server(engine: Engine, url: str, role: str = "agent") -> None:
    with write_connection(engine) as conn:
        set_meta(conn, server_url=url, role=role)


def note_sync(engine: Engine, at: datetime, error: str | None) -> None:
    """Remember when the last round ended and how (None = it went through)."""
    with write_connection(engine) as conn:
        if error is None:
            set_meta(conn, last_sync_at=instant_text(at), last_sync_error=None)
        else:
            set_meta(conn, last_sync_error=error)


@dataclass(frozen=True, slots=True)
class LastSync:
    """When the last sync round went through, and why the latest one did not (None: it did)."""

    at: datetime | None
    error: str | None


def last_sync(engine: Engine) -> LastSync:
    with engine.connect() as conn:
        row = meta(conn, "last_sync_at", "last_sync_error")
    return LastSync(None, None) if row is None else LastSync(_instant(row["last_sync_at"]), row["last_sync_error"])


def lowest_pending_seq(engine: Engine) -> int:
    """The client_seq of the oldest item still waiting (the next new one when none waits)."""
    with engine.connect() as conn:
        lowest = conn.exec_driver_sql(
            "SELECT min(client_seq) FROM outbox WHERE state IN ('pending', 'inflight')"
        ).scalar()
        following = meta(conn, "next_client_seq")
    if lowest is not None:
        return int(lowest)
    return int(following["next_client_seq"] or 1) if following else 1


def new_epoch(engine: Engine) -> tuple[int, int]:
    """The cache was restored from an older copy: start a new device epoch. Returns the epoch and the
    client_seq the pending items continue after."""
    with write_connection(engine) as conn:
        conn.exec_driver_sql("UPDATE sync_meta SET device_epoch = device_epoch + 1 WHERE id = 1")
        row = meta(conn, "device_epoch")
    if row is None:
        raise RuntimeError("the cache has no device yet; call ensure_device first")
    return int(row["device_epoch"]), lowest_pending_seq(engine) - 1


def reset_inflight(engine: Engine) -> int:
    """After a crash or a lost answer, items in flight are pending again (the server deduplicates)."""
    with write_connection(engine) as conn:
        return conn.exec_driver_sql("UPDATE outbox SET state = 'pending' WHERE state = 'inflight'").rowcount


def take_batch(engine: Engine, limit: int) -> list[Pending]:
    """The oldest pending items, marked in flight, in client_seq order."""
    with write_connection(engine) as conn:
        rows = (
            conn.exec_driver_sql(
                "SELECT mutation_id, client_seq, name, args_json AS args, occurred_at_client AS occurred_at, "
                "observed_cursor, base_version FROM outbox WHERE state IN ('pending', 'inflight') "
                "ORDER BY client_seq LIMIT ?",
                (limit,),
            )
            .mappings()
            .all()
        )
        if rows:
            conn.exec_driver_sql(
                f"UPDATE outbox SET state = 'inflight', attempts = attempts + 1 WHERE mutation_id IN ({','.join('?' * len(rows))})",
                tuple(r["mutation_id"] for r in rows),
            )
    return [Pending(**{**r, "args": json.loads(r["args"])}) for r in rows]


def release(engine: Engine, mutation_ids: Sequence[str], error: str) -> None:
    """The answer was lost or refused as a whole: the items go back to pending, same ids."""
    if not mutation_ids:
        return
    with write_connection(engine) as conn:
        conn.exec_driver_sql(
            f"UPDATE outbox SET state = 'pending', last_error = ? WHERE state = 'inflight' AND mutation_id IN ({','.join('?' * len(mutation_ids))})",
            (error, *mutation_ids),
        )


_ROW_STATE = {
    "applied": SyncState.PENDING,  # the server's copy arrives with the next pull and marks it synced
    "applied_with_warnings": SyncState.SYNCED_WITH_WARNINGS,
    "rejected": SyncState.REJECTED,
    "deferred": SyncState.HELD,
}


def record_verdicts(engine: Engine, verdicts: Sequence[dict[str, Any]]) -> None:
    """Store each verdict on its outbox item and mark the local row it concerns."""
    if not verdicts:
        return
    with write_connection(engine) as conn:
        ids = tuple(v["mutation_id"] for v in verdicts)
        sent = {
            mutation_id: (name, args)
            for mutation_id, name, args in conn.exec_driver_sql(
                f"SELECT mutation_id, name, args_json FROM outbox WHERE mutation_id IN ({','.join('?' * len(ids))})",
                ids,
            )
        }
        conn.exec_driver_sql(
            "UPDATE outbox SET state = ?, verdict_json = ?, server_seq = ?, last_error = NULL WHERE mutation_id = ?",
            [
                (v["status"], json.dumps(v, ensure_ascii=False), v.get("server_seq"), v["mutation_id"])
                for v in verdicts
                if v["mutation_id"] in sent
            ],
        )
        for verdict in verdicts:
            name, args = sent.get(verdict["mutation_id"], (None, None))
            target = MUTATION_ROWS.get(name or "")
            if target is not None:
                table, key = target
                conn.exec_driver_sql(
                    f"UPDATE {table} SET sync_state = ? WHERE id = ?",
                    (_ROW_STATE[verdict["status"]].value, json.loads(args)[key]),
                )


def pending_summary(engine: Engine) -> tuple[int, str | None]:
    """Items waiting to be sent (or in flight), and when the oldest was made (UTC text)."""
    with engine.connect() as conn:
        count, oldest = conn.exec_driver_sql(
            "SELECT count(*), min(occurred_at_client) FROM outbox WHERE state IN ('pending', 'inflight')"
        ).one()
    return int(count), oldest


def held_mutations(engine: Engine) -> list[str]:
    """Outbox items the server holds for a supervisor's decision."""
    with engine.connect() as conn:
        return list(
            conn.exec_driver_sql(
                "SELECT mutation_id FROM outbox WHERE state = 'deferred' ORDER BY client_seq"
            ).scalars()
        )


def accounts_of(engine: Engine, mutation_ids: Sequence[str]) -> set[str]:
    if not mutation_ids:
        return set()
    with engine.connect() as conn:
        return set(
            conn.exec_driver_sql(
                f"SELECT account_id FROM outbox WHERE mutation_id IN ({','.join('?' * len(mutation_ids))})",
                tuple(mutation_ids),
            ).scalars()
        )


def _upsert_tail(table: str, columns: tuple[str, ...]) -> str:
    """Replace when the incoming version is newer; keep local warnings and rejections."""
    updates = ", ".join(
        f"{c} = CASE WHEN {table}.sync_state IN ({', '.join(_REPLACEABLE)}) THEN excluded.{c} ELSE {table}.{c} END"
        if c == "sync_state"
        else f"{c} = excluded.{c}"
        for c in columns
        if c != "id"
    )
    return (
        f"ON CONFLICT(id) DO UPDATE SET {updates} "
        f"WHERE excluded.server_version > {table}.server_version OR {table}.sync_state IN ('pending', 'sending')"
    )


def _upsert_sql(table: str, columns: tuple[str, ...]) -> str:
    if table in R.CHILD_TABLES.values():
        return R.insert_sql(table, columns).replace("INSERT", "INSERT OR REPLACE", 1)
    return f"{R.insert_sql(table, columns)} {_upsert_tail(table, columns)}"


def _revoke_account(conn: Connection, account_id: str) -> None:
    """The account left this agent: its rows go; outbox items stay until the server answers them."""
    customer = conn.exec_driver_sql("SELECT customer_id FROM account WHERE id = ?", (account_id,)).scalar()
    for table in ACCOUNT_CHILDREN:
        conn.exec_driver_sql(f"DELETE FROM {table} WHERE account_id = ?", (account_id,))
    conn.exec_driver_sql(
        "DELETE FROM plan_installment WHERE plan_id IN (SELECT id FROM payment_plan WHERE account_id = ?)",
        (account_id,),
    )
    conn.exec_driver_sql("DELETE FROM payment_plan WHERE account_id = ?", (account_id,))
    conn.exec_driver_sql("DELETE FROM account WHERE id = ?", (account_id,))
    if (
        customer
        and not conn.exec_driver_sql("SELECT 1 FROM account WHERE customer_id = ? LIMIT 1", (customer,)).first()
    ):
        for table in ("contact_point", "restriction"):
            conn.exec_driver_sql(f"DELETE FROM {table} WHERE customer_id = ?", (customer,))
        conn.exec_driver_sql("DELETE FROM customer WHERE id = ?", (customer,))


# One step of writing a page: ("rows", [rows...]) | ("clear_plan", plan_id) | ("revoke", account_id) | ("delete", table, id)
Step = tuple[Any, ...]


def plan_page(changes: Sequence[dict[str, Any]]) -> list[Step]:
    """The writes a page of changes calls for, in order; pure work that may run in another thread."""
    steps: list[Step] = []
    batch: list[R.Row] = []
    for change in changes:
        if change["op"] == "upsert":
            if change["entity"] == "payment_plan":
                if batch:
                    steps.append(("rows", batch))
                    batch = []
                steps.append(("clear_plan", change["id"]))
            batch.extend(R.rows_from_record(change["entity"], change["data"], change["version"]))
            continue
        if batch:
            steps.append(("rows", batch))
            batch = []
        if change["op"] == "revoke" and change["entity"] == "account":
            steps.append(("revoke", change["id"]))
        elif change["op"] == "delete":
            steps.append(("delete", R.table_of(change["entity"]), change["id"]))
    if batch:
        steps.append(("rows", batch))
    return steps


def write_page(engine: Engine, steps: Sequence[Step], cursor: str | None) -> None:
    """One page's writes and its cursor in one transaction: both or neither.

    A snapshot's pages come with cursor None until the last, so a snapshot cut short starts again.
    """
    with write_connection(engine) as conn:
        for step in steps:
            match step:
                case ("rows", rows):
                    R.write_rows(conn, rows, _upsert_sql)
                case ("clear_plan", plan_id):
                    conn.exec_driver_sql("DELETE FROM plan_installment WHERE plan_id = ?", (plan_id,))
                case ("revoke", account_id):
                    _revoke_account(conn, account_id)
                case ("delete", table, row_id):
                    conn.exec_driver_sql(f"DELETE FROM {table} WHERE id = ?", (row_id,))
        if cursor is not None:
            set_meta(conn, cursor=cursor)


def apply_changes(engine: Engine, changes: Sequence[dict[str, Any]], cursor: str | None) -> None:
    """Plan and write one page."""
    write_page(engine, plan_page(changes), cursor)


def finish_snapshot(engine: Engine, seen_accounts: set[str], cursor: str) -> int:
    """After the last snapshot page: accounts the server no longer gives this agent are revoked,
    and the cursor is stored. Returns how many accounts were revoked."""
    with write_connection(engine) as conn:
        local = conn.exec_driver_sql("SELECT id FROM account").scalars().all()
        gone = [account_id for account_id in local if account_id not in seen_accounts]
        for account_id in gone:
            _revoke_account(conn, account_id)
        set_meta(conn, cursor=cursor)
    return len(gone)


# -- A first snapshot fills empty tables: their secondary indexes are built once at the end, which
# is far cheaper than keeping them up to date through a million random inserts. --


def _snapshot_indexes() -> list[Index]:
    # The table definitions (SQLModel) are read only at sync time and by writes: a start never loads them.
    from cobro_tui.store.tables import cache_table

    return [index for name in R.entity_tables() for index in cache_table(name).indexes]


def drop_indexes_if_empty(engine: Engine) -> bool:
    """Before a first snapshot: with no account in the cache yet, drop the indexes the snapshot
    would have to maintain. Returns whether it did; `ensure_indexes` puts them back."""
    with write_connection(engine) as conn:
        if conn.exec_driver_sql("SELECT 1 FROM account LIMIT 1").first() is not None:
            return False
        for index in _snapshot_indexes():
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")
    return True


def ensure_indexes(engine: Engine) -> None:
    """Every index of the snapshot tables exists (after a snapshot, or a process killed during one)."""
    with write_connection(engine) as conn:
        for index in _snapshot_indexes():
            index.create(conn, checkfirst=True)


# -- Snapshot pages: SQLite reads the page's JSON itself, so no record passes through Python. --


class PageUnreadable(ValueError):
    """A snapshot page that is not what the protocol promises (cut, garbled, or from a newer server)."""


@dataclass(frozen=True, slots=True)
class SnapshotPage:
    """A snapshot page decoded to JSONB, with what the loop needs to ask for the next one."""

    body: bytes
    next_page: str | None
    cursor: str


@dataclass(frozen=True, slots=True)
class SnapshotWritten:
    entities: int
    accounts: list[str]


_STAGE = "temp.snapshot_stage"
_STAGE_TABLE = "CREATE TEMP TABLE IF NOT EXISTS snapshot_stage (n INTEGER PRIMARY KEY, kind TEXT, op TEXT, version INTEGER, data BLOB)"
_SNAPSHOT_SQL: dict[str, str] = {}


def _snapshot_sql(kind: str) -> str:
    sql = _SNAPSHOT_SQL.get(kind)
    if sql is None:
        table, columns = R.table_of(kind), R.columns_of(kind)
        values = ", ".join(R.column_sql(kind, c) for c in columns)
        # "WHERE ... ORDER BY" before ON CONFLICT: SQLite's rule for upserts fed by a SELECT.
        sql = _SNAPSHOT_SQL[kind] = (
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM {_STAGE} "
            f"WHERE kind = '{kind}' ORDER BY n {_upsert_tail(table, columns)}"
        )
    return sql


def decode_snapshot_page(engine: Engine, text: str) -> SnapshotPage:
    """Parse a page (in SQLite, which lets other threads run meanwhile) and read its tokens."""
    with engine.connect() as conn:
        try:
            body, next_page, cursor = conn.exec_driver_sql(
                "SELECT jsonb(:t), :t->>'$.next_page', :t->>'$.cursor'", {"t": text}
            ).one()
        except DBAPIError:
            raise PageUnreadable("the server's answer was cut or garbled") from None
        conn.rollback()
    if not isinstance(cursor, str):
        raise PageUnreadable("the server's snapshot page has no cursor")
    return SnapshotPage(body, next_page, cursor)


def write_snapshot_page(engine: Engine, page: SnapshotPage) -> SnapshotWritten:
    """Write one snapshot page in one transaction: staged from its JSONB, then one INSERT per kind in
    the order the kinds first appear (parents first), with the same upsert rules as change pages."""
    with write_connection(engine) as conn:
        conn.exec_driver_sql(_STAGE_TABLE)
        conn.exec_driver_sql(f"DELETE FROM {_STAGE}")
        conn.exec_driver_sql(
            f"INSERT INTO {_STAGE} (kind, op, version, data) SELECT value->>'entity', value->>'op', "
            "value->>'version', jsonb_extract(value, '$.data') FROM jsonb_each(?, '$.entities')",
            (page.body,),
        )
        kinds = list(conn.exec_driver_sql(f"SELECT kind FROM {_STAGE} GROUP BY kind ORDER BY min(n)").scalars())
        _check_stage(conn, kinds)
        for kind in kinds:
            if kind == "payment_plan":
                conn.exec_driver_sql(
                    f"DELETE FROM plan_installment WHERE plan_id IN (SELECT data->>'$.id' FROM {_STAGE} WHERE kind = 'payment_plan')"
                )
            try:
                conn.exec_driver_sql(_snapshot_sql(kind))
            except DBAPIError as exc:
                raise PageUnreadable(f"a {kind} record this version cannot store ({exc.orig})") from None
            if kind == "payment_plan":
                conn.exec_driver_sql(_installments_sql())
        accounts = list(conn.exec_driver_sql(f"SELECT data->>'$.id' FROM {_STAGE} WHERE kind = 'account'").scalars())
        count = conn.exec_driver_sql(f"SELECT count(*) FROM {_STAGE}").scalar_one()
        conn.exec_driver_sql(f"DELETE FROM {_STAGE}")
    return SnapshotWritten(count, accounts)


@cache
def _installments_sql() -> str:
    columns = R.columns_of("plan_installment")
    return (
        f"INSERT OR REPLACE INTO plan_installment ({', '.join(columns)}) "
        f"SELECT {', '.join(R.installment_sql(c) for c in columns)} "
        f"FROM {_STAGE} s, json_each(s.data, '$.installments') i WHERE s.kind = 'payment_plan'"
    )


def _check_stage(conn: Connection, kinds: Sequence[str]) -> None:
    """Every staged record is an upsert of a kind this version knows, with every field it needs."""
    for kind in kinds:
        if kind not in R.KNOWN_KINDS:
            raise PageUnreadable(
                f"the server sent records of a kind this version does not know ({kind!r}); update cobro-tui"
            )
    bad = conn.exec_driver_sql(
        f"SELECT kind, op FROM {_STAGE} WHERE op IS NOT 'upsert' OR version IS NULL LIMIT 1"
    ).first()
    if bad is not None:
        kind, op = bad
        raise PageUnreadable(f"a snapshot record that is not a plain upsert ({kind!r}, {op!r})")
    for kind in kinds:
        # The first record of each kind stands for its page: a server of another version leaves a field
        # out of every record, and checking them all would cost a third of the write.
        missing = " OR ".join(f"data->'$.{f}' IS NULL" for f in R.wire_fields(kind))
        row = conn.exec_driver_sql(
            f"SELECT n FROM {_STAGE} WHERE n = (SELECT min(n) FROM {_STAGE} WHERE kind = ?) AND ({missing})", (kind,)
        ).first()
        if row is not None:
            raise PageUnreadable(f"a {kind} record lacks fields this version needs; update cobro-tui")


@dataclass(frozen=True, slots=True)
class AuditAnchor:
    """The head of the audit chain the server last acknowledged keeping, and its word on the chain."""

    seq: int
    hash: str | None
    at: datetime | None
    alarm: str | None


def audit_anchor(engine: Engine) -> AuditAnchor:
    with engine.connect() as conn:
        row = meta(conn, "audit_acked_seq", "audit_acked_hash", "audit_acked_at", "audit_alarm")
    if row is None:
        return AuditAnchor(0, None, None, None)
    return AuditAnchor(
        int(row["audit_acked_seq"] or 0), row["audit_acked_hash"], _instant(row["audit_acked_at"]), row["audit_alarm"]
    )


def note_audit_ack(engine: Engine, seq: int, head_hash: str, at: datetime, alarm: str | None) -> None:
    with write_connection(engine) as conn:
        set_meta(
            conn, audit_acked_seq=seq, audit_acked_hash=head_hash, audit_acked_at=instant_text(at), audit_alarm=alarm
        )


def note_audit_alarm(engine: Engine, message: str) -> None:
    with write_connection(engine) as conn:
        set_meta(conn, audit_alarm=message)
