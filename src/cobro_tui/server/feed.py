"""Entity documents and the change feed: every write emits change rows in the same transaction,
numbered from one counter so that seq order is commit order."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from cobro_tui.server.facts import PROJECTED, project, row_of
from cobro_tui.server.hot import Hot
from cobro_tui.server.schema import change_log, counters, entities, meta

UNKNOWN = object()  # "look the stored version up"

# The push's hot path: every mutation runs several of these (see hot.py).
_NEXT_SEQ = Hot(
    update(counters).where(counters.c.name == "seq").values(value=counters.c.value + 1).returning(counters.c.value)
)
_SET_SEQ = Hot(update(counters).where(counters.c.name == "seq").values(value=bindparam("b_value")))
_INSERT_CHANGE = Hot(insert(change_log))
_INSERT_ENTITY = Hot(insert(entities))
_VERSION_OF = Hot(select(entities.c.version).where(entities.c.kind == bindparam("k"), entities.c.id == bindparam("i")))
_GET_DOC = Hot(select(entities).where(entities.c.kind == bindparam("k"), entities.c.id == bindparam("i")))
_UPDATE_ENTITY = Hot(
    update(entities)
    .where(entities.c.kind == bindparam("k"), entities.c.id == bindparam("i"))
    .values(
        account_id=bindparam("b_account_id"),
        customer_id=bindparam("b_customer_id"),
        agent=bindparam("b_agent"),
        version=bindparam("b_version"),
        data=bindparam("b_data"),
    )
)
_OF_CUSTOMER = Hot(select(entities).where(entities.c.customer_id == bindparam("c"), entities.c.kind == bindparam("k")))
_AGENTS_OF_CUSTOMER = Hot(
    select(entities.c.agent).where(entities.c.kind == "account", entities.c.customer_id == bindparam("c")).distinct()
)
_NO_PARAMS: dict[str, Any] = {}

# Kinds that belong to a person rather than to one account.
CUSTOMER_KINDS = ("customer", "contact_point", "restriction")


def public_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.startswith("_")}


@dataclass(frozen=True, slots=True)
class Doc:
    kind: str
    id: str
    version: int
    data: dict[str, Any]
    account_id: str | None
    customer_id: str | None
    agent: str | None

    def public(self) -> dict[str, Any]:
        """The document as workstations see it: server-only fields (`_name`) stay here."""
        return public_fields(self.data)


def server_epoch(conn: Connection) -> str:
    value = conn.execute(select(meta.c.value).where(meta.c.key == "epoch")).scalar()
    if value is None:
        value = "e" + secrets.token_hex(4)
        conn.execute(insert(meta).values(key="epoch", value=value))
        conn.execute(insert(counters).values(name="seq", value=0))
    return value


def head_seq(conn: Connection) -> int:
    return conn.execute(select(counters.c.value).where(counters.c.name == "seq")).scalar() or 0


class Seqs:
    """The seq counter held by one writer for a run of changes (a push): the counter row is taken
    (and, on PostgreSQL, locked) at the first change, later seqs are counted here, and `flush` writes
    the last one back before the commit. A writer that undoes a change (a savepoint rolled back)
    sets `value` back."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.value: int | None = None
        self.stored: int | None = None

    def next(self) -> int:
        if self.value is None:
            self.value = self.stored = _NEXT_SEQ.scalar(self.conn, _NO_PARAMS)
        else:
            self.value += 1
        return self.value

    def flush(self) -> None:
        if self.value is not None and self.value != self.stored:
            _SET_SEQ.run(self.conn, {"b_value": self.value})
            self.stored = self.value


class Tx:
    """The change rows of one transaction: consecutive seqs sharing the first as their `tx`."""

    def __init__(self, conn: Connection, now: datetime, seqs: Seqs | None = None) -> None:
        self.conn = conn
        self.now = now.isoformat()
        self.seqs = seqs
        self.first: int | None = None
        self.last_seq: int | None = None

    def _next_seq(self) -> int:
        # The counter row is the serialization point (one writer at a time holds it).
        seq = self.seqs.next() if self.seqs is not None else _NEXT_SEQ.scalar(self.conn, _NO_PARAMS)
        if self.first is None:
            self.first = seq
        self.last_seq = seq
        return seq

    def emit(self, audience: str, kind: str, entity_id: str, op: str, version: int, data: dict[str, Any] | None) -> int:
        seq = self._next_seq()
        _INSERT_CHANGE.run(
            self.conn,
            {
                "seq": seq,
                "audience": audience,
                "tx": self.first,
                "kind": kind,
                "entity_id": entity_id,
                "op": op,
                "version": version,
                "payload": None if data is None else json.dumps(data, ensure_ascii=False),
                "created_at": self.now,
            },
        )
        return seq

    def audiences(self, doc: Doc) -> list[str]:
        if doc.kind in CUSTOMER_KINDS:
            return customer_agents(self.conn, doc.customer_id)
        return [doc.agent] if doc.agent else []

    def put(self, doc: Doc, current: int | object | None = UNKNOWN, before: Doc | None = None) -> Doc:
        """Insert or replace a document with the next version, and tell its audience.

        `current` is the stored version when the caller has just read it (None: it does not exist);
        left out, it is looked up. `before` is the stored document when the caller has it: a KPI
        projection it leaves as it was is not written again (a contact's new last-contact instant).
        """
        if current is UNKNOWN:
            current = _VERSION_OF.scalar(self.conn, {"k": doc.kind, "i": doc.id})
        assert current is None or isinstance(current, int)
        version = 1 if current is None else current + 1
        data = json.dumps(doc.data, ensure_ascii=False)
        if current is None:
            _INSERT_ENTITY.run(
                self.conn,
                {
                    "kind": doc.kind,
                    "id": doc.id,
                    "account_id": doc.account_id,
                    "customer_id": doc.customer_id,
                    "agent": doc.agent,
                    "version": version,
                    "data": data,
                },
            )
        else:
            _UPDATE_ENTITY.run(
                self.conn,
                {
                    "k": doc.kind,
                    "i": doc.id,
                    "b_account_id": doc.account_id,
                    "b_customer_id": doc.customer_id,
                    "b_agent": doc.agent,
                    "b_version": version,
                    "b_data": data,
                },
            )
        if doc.kind in PROJECTED and not (before is not None and same_projection(before, doc)):
            project(self.conn, doc.kind, doc.id, doc.agent, doc.account_id, doc.data, new=current is None)
        stored = Doc(doc.kind, doc.id, version, doc.data, doc.account_id, doc.customer_id, doc.agent)
        public = doc.public()
        for audience in self.audiences(stored):
            self.emit(audience, doc.kind, doc.id, "upsert", version, public)
        return stored


def same_projection(before: Doc, after: Doc) -> bool:
    return row_of(before.kind, before.id, before.agent, before.account_id, before.data) == row_of(
        after.kind, after.id, after.agent, after.account_id, after.data
    )


def customer_agents(conn: Connection, customer_id: str | None) -> list[str]:
    if customer_id is None:
        return []
    rows = _AGENTS_OF_CUSTOMER.all(conn, {"c": customer_id})
    return sorted(row.agent for row in rows if row.agent)


def get_doc(conn: Connection, kind: str, entity_id: str) -> Doc | None:
    row = _GET_DOC.first(conn, {"k": kind, "i": entity_id})
    if row is None:
        return None
    return Doc(row.kind, row.id, row.version, json.loads(row.data), row.account_id, row.customer_id, row.agent)


def docs_of_account(conn: Connection, account_id: str, kind: str | None = None) -> list[Doc]:
    query = select(entities).where(entities.c.account_id == account_id)
    if kind is not None:
        query = query.where(entities.c.kind == kind)
    return [
        Doc(r.kind, r.id, r.version, json.loads(r.data), r.account_id, r.customer_id, r.agent)
        for r in conn.execute(query)
    ]


def docs_of_customer(conn: Connection, customer_id: str, kind: str) -> list[Doc]:
    rows = _OF_CUSTOMER.all(conn, {"c": customer_id, "k": kind})
    return [Doc(r.kind, r.id, r.version, json.loads(r.data), r.account_id, r.customer_id, r.agent) for r in rows]
