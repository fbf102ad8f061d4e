"""Entity documents and the change feed: every write emits change rows in the same transaction,
numbered from one counter so that seq order is commit order."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from cobro_tui.server.schema import change_log, counters, entities, meta

# Kinds that belong to a person rather than to one account.
CUSTOMER_KINDS = ("customer", "contact_point", "restriction")


@dataclass(frozen=True, slots=True)
class Doc:
    kind: str
    id: str
    version: int
    data: dict[str, Any]
    account_id: str | None
    customer_id: str | None
    agent: str | None


def server_epoch(conn: Connection) -> str:
    value = conn.execute(select(meta.c.value).where(meta.c.key == "epoch")).scalar()
    if value is None:
        value = "e" + secrets.token_hex(4)
        conn.execute(insert(meta).values(key="epoch", value=value))
        conn.execute(insert(counters).values(name="seq", value=0))
    return value


def head_seq(conn: Connection) -> int:
    return conn.execute(select(counters.c.value).where(counters.c.name == "seq")).scalar() or 0


class Tx:
    """The change rows of one transaction: consecutive seqs sharing the first as their `tx`."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn = conn
        self.now = now.isoformat()
        self.first: int | None = None
        self.last_seq: int | None = None

    def _next_seq(self) -> int:
        # The counter row is the serialization point (one writer at a time holds it).
        seq = self.conn.execute(
            update(counters).where(counters.c.name == "seq").values(value=counters.c.value + 1).returning(counters.c.value)
        ).scalar_one()
        if self.first is None:
            self.first = seq
        self.last_seq = seq
        return seq

    def emit(self, audience: str, kind: str, entity_id: str, op: str, version: int, data: dict[str, Any] | None) -> int:
        seq = self._next_seq()
        self.conn.execute(insert(change_log).values(
            seq=seq, audience=audience, tx=self.first, kind=kind, entity_id=entity_id, op=op, version=version,
            payload=None if data is None else json.dumps(data, ensure_ascii=False), created_at=self.now,
        ))
        return seq

    def audiences(self, doc: Doc) -> list[str]:
        if doc.kind in CUSTOMER_KINDS:
            return customer_agents(self.conn, doc.customer_id)
        return [doc.agent] if doc.agent else []

    def put(self, doc: Doc) -> Doc:
        """Insert or replace a document with the next version, and tell its audience."""
        current = self.conn.execute(
            select(entities.c.version).where(and_(entities.c.kind == doc.kind, entities.c.id == doc.id))
        ).scalar()
        version = 1 if current is None else current + 1
        values = dict(account_id=doc.account_id, customer_id=doc.customer_id, agent=doc.agent, version=version,
                      data=json.dumps(doc.data, ensure_ascii=False))
        if current is None:
            self.conn.execute(insert(entities).values(kind=doc.kind, id=doc.id, **values))
        else:
            self.conn.execute(update(entities).where(and_(entities.c.kind == doc.kind, entities.c.id == doc.id)).values(**values))
        stored = Doc(doc.kind, doc.id, version, doc.data, doc.account_id, doc.customer_id, doc.agent)
        public = {k: v for k, v in doc.data.items() if not k.startswith("_")}  # _fields stay on the server
        for audience in self.audiences(stored):
            self.emit(audience, doc.kind, doc.id, "upsert", version, public)
        return stored


def customer_agents(conn: Connection, customer_id: str | None) -> list[str]:
    if customer_id is None:
        return []
    rows = conn.execute(
        select(entities.c.agent).where(and_(entities.c.kind == "account", entities.c.customer_id == customer_id)).distinct()
    ).scalars()
    return sorted(a for a in rows if a)


def get_doc(conn: Connection, kind: str, entity_id: str) -> Doc | None:
    row = conn.execute(select(entities).where(and_(entities.c.kind == kind, entities.c.id == entity_id))).first()
    if row is None:
        return None
    return Doc(row.kind, row.id, row.version, json.loads(row.data), row.account_id, row.customer_id, row.agent)


def docs_of_account(conn: Connection, account_id: str, kind: str | None = None) -> list[Doc]:
    query = select(entities).where(entities.c.account_id == account_id)
    if kind is not None:
        query = query.where(entities.c.kind == kind)
    return [Doc(r.kind, r.id, r.version, json.loads(r.data), r.account_id, r.customer_id, r.agent) for r in conn.execute(query)]


def docs_of_customer(conn: Connection, customer_id: str, kind: str) -> list[Doc]:
    query = select(entities).where(and_(entities.c.customer_id == customer_id, entities.c.kind == kind))
    return [Doc(r.kind, r.id, r.version, json.loads(r.data), r.account_id, r.customer_id, r.agent) for r in conn.execute(query)]
