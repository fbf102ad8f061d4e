"""The portfolio import on the server (PUT /v1/portfolio; the layout: docs/import.md).

A request is one transaction. Its rows are taken kind by kind (customers, accounts, contacts,
references: what a row names exists first) and each is decided before anything is written:

- the same row as the one the record last came from (its hash in `import_rows`) is unchanged, with
  no check and no read of the document: a second import of the same files costs one lookup a row;
- any other row is checked (domain/portfolio_file.py), its references looked up, and the document
  it makes compared with the stored one: only what differs is written and sent to the agents who
  see it, as every other write of the server does (documents, KPI projections, change feed).

A refused row writes nothing, and the rows of a request are written together, so no row is ever
half-applied. Accounts are never deleted: closing one takes it from its agent (a revoke) and keeps
it, with its history, in `account_closures`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, bindparam, delete, exists, insert, select, update

from cobro_tui.domain import portfolio_ids as ids
from cobro_tui.domain.buckets import BucketSet
from cobro_tui.domain.cards import truncate_pan
from cobro_tui.domain.models import (
    BucketHistoryEntry,
    ContactKind,
    ContactPoint,
    Customer,
    Product,
    Provenance,
    Reference,
    ReferenceRole,
    Stage,
)
from cobro_tui.domain.portfolio_file import KINDS, LAYOUT, Checked, Problem, check_row, key_of
from cobro_tui.domain.records import instant_text, to_record
from cobro_tui.server.assign import move
from cobro_tui.server.assignment_rules import AssignmentRules, NewAccount, assign
from cobro_tui.server.facts import TABLES as FACT_TABLES
from cobro_tui.server.facts import row_of
from cobro_tui.server.feed import CUSTOMER_KINDS, Doc, public_fields
from cobro_tui.server.holdings import hand_over
from cobro_tui.server.schema import (
    account_closures,
    assignment_history,
    change_log,
    counters,
    entities,
    import_rows,
    import_runs,
    import_seen,
    users,
)

MAX_ROWS = 5000
# The day of the import where the institution is (a cut taken in the evening is still that day).
CUT_ZONE = ZoneInfo("America/Mexico_City")
ENTITY_KIND = {"customers": "customer", "accounts": "account", "contacts": "contact_point", "references": "reference"}
STATUSES = ("new", "changed", "unchanged", "closed", "refused")


@dataclass(frozen=True, slots=True)
class Run:
    """What every request of one import says about it."""

    id: str
    full: bool = False
    close_missing: bool = False
    last: bool = False


@dataclass(slots=True)
class Verdict:
    status: str = "refused"
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()


@dataclass
class Outcome:
    verdicts: list[Verdict]
    closed_missing: int = 0
    counts: dict[str, int] = field(default_factory=dict)


class RunRefused(Exception):
    """The request cannot be taken as a part of its run (another caller's run id, options that
    differ from the run's first request, a run already finished, a closing with nothing named)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _plain(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str | int):
        return str(value).strip()
    return None


def raw_key(kind: str, data: Mapping[str, Any]) -> str | None:
    """The row's natural key as written (None when unreadable: the row is then checked in full)."""
    if kind == "customers":
        parts = [_plain(data.get("customer_ref"))]
    elif kind == "accounts":
        parts = [_plain(data.get("account_number"))]
    elif kind == "contacts":
        parts = [_plain(data.get(c)) for c in ("customer_ref", "kind", "value")]
    else:
        parts = [_plain(data.get(c)) for c in ("account_number", "role", "phone")]
    if any(not part for part in parts):
        return None
    return _digest("\x1f".join(parts))  # type: ignore[arg-type]


def salt_of(buckets: BucketSet) -> str:
    """What else decides what a row makes: the layout and the bucket set (a new set re-buckets)."""
    cover = ";".join(f"{b.code}:{b.min_dpd}:{b.max_dpd}" for b in buckets.buckets)
    return f"layout{LAYOUT}|{buckets.name}|{cover}|"


def _problems_json(problems: Sequence[Problem]) -> str | None:
    return json.dumps([[p.column, p.code] for p in problems]) if problems else None


def _problems_of(text: str | None) -> tuple[Problem, ...]:
    return tuple(Problem(column, code) for column, code in json.loads(text)) if text else ()


def _derived_stage(dpd: int) -> str:
    return Stage.PREVENTIVE.value if dpd <= 0 else Stage.COLLECTION.value


def _money(centavos: int, currency: str) -> dict[str, Any]:
    return {"centavos": centavos, "currency": currency}


@dataclass(slots=True)
class _Item:
    """One row of the request on its way: where it is in the request, what it is."""

    index: int
    kind: str
    data: Mapping[str, Any]
    key: str | None
    sha: str
    checked: Checked | None = None
    entity_id: str = ""
    extra: str | None = None


class _Import:
    """The writes of one request, planned in memory and flushed kind by kind."""

    def __init__(
        self,
        conn: Connection,
        run: Run,
        now: datetime,
        buckets: BucketSet,
        rules: Callable[[], AssignmentRules],
    ) -> None:
        self.conn, self.run, self.now, self.buckets, self.rules = conn, run, now, buckets, rules
        self.today = now.astimezone(CUT_ZONE).date()
        self.at = instant_text(now)
        self.salt = salt_of(buckets)
        self.pending: dict[tuple[str, str], tuple[Doc, bool]] = {}  # (kind, id) -> (doc, stored before)
        self.texts: dict[tuple[str, str], str] = {}  # (kind, id) -> the pending document as JSON
        self._customer_ids: dict[str, str] = {}
        self.changes: list[tuple[str, str, str, str, int, str | None]] = []
        self.row_marks: list[dict[str, Any]] = []
        self.closures: list[tuple[str, str | None, str]] = []  # (account id, agent it leaves, reason)
        self.reopened: list[str] = []
        self.holdings: list[dict[str, Any]] = []
        self.moves: list[tuple[str, str]] = []  # (account id, agent) after the flush
        self.seen: set[str] = set()
        self.agents: set[str] | None = None
        self.outcome: dict[int, Verdict] = {}

    # -- reading --------------------------------------------------------------------------------

    def cid(self, customer_ref: str) -> str:
        found = self._customer_ids.get(customer_ref)
        if found is None:
            found = self._customer_ids[customer_ref] = ids.customer_id(customer_ref)
        return found

    def docs(self, kind: str, entity_ids: Iterable[str]) -> dict[str, Doc]:
        wanted = sorted(set(entity_ids))
        found: dict[str, Doc] = {}
        for chunk in _chunks(wanted):
            for r in self.conn.execute(select(entities).where(entities.c.kind == kind, entities.c.id.in_(chunk))):
                found[r.id] = Doc(r.kind, r.id, r.version, json.loads(r.data), r.account_id, r.customer_id, r.agent)
        return found

    def current(self, stored: dict[str, Doc], kind: str, entity_id: str) -> Doc | None:
        planned = self.pending.get((kind, entity_id))
        return planned[0] if planned is not None else stored.get(entity_id)

    def existing(self, kind: str, entity_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(entity_ids))
        found: set[str] = set()
        for chunk in _chunks(wanted):
            found.update(
                self.conn.execute(
                    select(entities.c.id).where(entities.c.kind == kind, entities.c.id.in_(chunk))
                ).scalars()
            )
        return found

    def holders(self, customer_ids: Iterable[str]) -> dict[str, set[str]]:
        """Customer -> the agents who hold one of their accounts now."""
        found: dict[str, set[str]] = defaultdict(set)
        for chunk in _chunks(sorted(set(customer_ids))):
            for customer_id, agent in self.conn.execute(
                select(entities.c.customer_id, entities.c.agent)
                .where(entities.c.kind == "account", entities.c.customer_id.in_(chunk), entities.c.agent.is_not(None))
                .distinct()
            ):
                found[customer_id].add(agent)
        return found

    def agent_names(self) -> set[str]:
        if self.agents is None:
            self.agents = set(
                self.conn.execute(
                    select(users.c.username).where(users.c.role == "agent", users.c.disabled_at.is_(None))
                ).scalars()
            )
        return self.agents

    # -- planning -------------------------------------------------------------------------------

    def put(self, doc: Doc, before: Doc | None, audiences: Iterable[str]) -> Doc:
        """Plan `doc` as the next version of `before` (None: new) and its upserts to `audiences`."""
        version = 1 if before is None else before.version + 1
        stored_before = before is not None and (
            (doc.kind, doc.id) not in self.pending or self.pending[(doc.kind, doc.id)][1]
        )
        planned = Doc(doc.kind, doc.id, version, doc.data, doc.account_id, doc.customer_id, doc.agent)
        self.pending[(doc.kind, doc.id)] = (planned, stored_before)
        text = self.texts[(doc.kind, doc.id)] = json.dumps(doc.data, ensure_ascii=False)
        if audiences:
            private = doc.kind == "account" and any(key.startswith("_") for key in doc.data)
            payload = json.dumps(public_fields(doc.data), ensure_ascii=False) if private else text
            for audience in sorted(set(audiences)):
                self.changes.append((audience, doc.kind, doc.id, "upsert", version, payload))
        return planned

    def emit(self, audience: str, kind: str, entity_id: str, op: str, version: int, data: Any) -> None:
        payload = None if data is None else json.dumps(data, ensure_ascii=False)
        self.changes.append((audience, kind, entity_id, op, version, payload))

    def mark(self, item: _Item) -> None:
        """The row the record now comes from: next time the same row is unchanged at a glance."""
        if item.key is None:
            return
        warnings = item.checked.warnings if item.checked is not None else ()
        self.row_marks.append(
            {
                "kind": item.kind,
                "key": item.key,
                "entity_id": item.entity_id,
                "sha": item.sha,
                "warnings": _problems_json(warnings),
                "extra": item.extra,
                "updated_at": self.at,
            }
        )

    # -- writing --------------------------------------------------------------------------------

    def flush(self) -> None:
        conn = self.conn
        inserts = [doc for doc, stored in self.pending.values() if not stored]
        updates = [doc for doc, stored in self.pending.values() if stored]
        if inserts:
            _bulk(conn, entities, [_entity_row(d, self.texts[(d.kind, d.id)]) for d in inserts])
        if updates:
            conn.execute(
                update(entities)
                .where(entities.c.kind == bindparam("b_kind"), entities.c.id == bindparam("b_id"))
                .values(
                    account_id=bindparam("account_id"),
                    customer_id=bindparam("customer_id"),
                    agent=bindparam("agent"),
                    version=bindparam("version"),
                    data=bindparam("data"),
                ),
                [
                    {
                        **dict(zip(_ENTITY_COLUMNS, _entity_row(d, self.texts[(d.kind, d.id)]))),
                        "b_kind": d.kind,
                        "b_id": d.id,
                    }
                    for d in updates
                ],
            )
        for kind, table in FACT_TABLES.items():
            replaced = [d.id for d in updates if d.kind == kind]
            for chunk in _chunks(replaced):
                conn.execute(delete(table).where(table.c.id.in_(chunk)))
            rows = [
                tuple(row.values())
                for d in (*inserts, *updates)
                if d.kind == kind
                for row in [row_of(d.kind, d.id, d.agent, d.account_id, d.data)]
                if row is not None
            ]
            if rows:
                _bulk(conn, table, rows)
        if self.holdings:
            conn.execute(insert(assignment_history), self.holdings)
        for account_id, _agent, reason in self.closures:
            conn.execute(update(entities).where(entities.c.account_id == account_id).values(agent=None))
            hand_over(conn, account_id, None, self.now)
            conn.execute(
                insert(account_closures).values(
                    account_id=account_id, closed_on=self.today.isoformat(), reason=reason, run_id=self.run.id
                )
            )
        for account_id in self.reopened:
            conn.execute(
                update(account_closures)
                .where(account_closures.c.account_id == account_id, account_closures.c.reopened_on.is_(None))
                .values(reopened_on=self.today.isoformat())
            )
        if self.row_marks:
            for kind in {m["kind"] for m in self.row_marks}:
                marks = [m for m in self.row_marks if m["kind"] == kind]
                for chunk in _chunks(sorted({m["key"] for m in marks})):
                    conn.execute(delete(import_rows).where(import_rows.c.kind == kind, import_rows.c.key.in_(chunk)))
                for chunk in _chunks(sorted({m["entity_id"] for m in marks})):
                    conn.execute(
                        delete(import_rows).where(import_rows.c.kind == kind, import_rows.c.entity_id.in_(chunk))
                    )
                latest = {m["key"]: m for m in marks}
                _bulk(conn, import_rows, [tuple(m[c.name] for c in import_rows.columns) for m in latest.values()])
        self.flush_changes()
        self.texts = {}
        self.pending, self.row_marks, self.closures, self.reopened, self.holdings = {}, [], [], [], []
        for account_id, agent in self.moves:
            move(self.conn, account_id, agent, self.now)
        self.moves = []

    def flush_changes(self) -> None:
        if not self.changes:
            return
        n = len(self.changes)
        last = self.conn.execute(
            update(counters)
            .where(counters.c.name == "seq")
            .values(value=counters.c.value + n)
            .returning(counters.c.value)
        ).scalar_one()
        first = last - n + 1
        at = self.now.isoformat()
        _bulk(
            self.conn,
            change_log,
            [
                (first + i, audience, first, kind, entity_id, op, version, payload, at)
                for i, (audience, kind, entity_id, op, version, payload) in enumerate(self.changes)
            ],
        )
        self.changes = []

    # -- the kinds ------------------------------------------------------------------------------

    def customers(self, items: list[_Item]) -> None:
        good = [i for i in items if i.checked is not None and i.checked.ok]
        for item in good:
            item.entity_id = self.cid(item.checked.values["customer_ref"])  # type: ignore[union-attr]
        stored = self.docs("customer", (i.entity_id for i in good))
        holders = self.holders(i.entity_id for i in good)
        for item in good:
            v = item.checked.values  # type: ignore[union-attr]
            customer = Customer(item.entity_id, v["full_name"], v["rfc"], v["curp"], v["birth_date"])
            data = to_record(customer)
            before = self.current(stored, "customer", item.entity_id)
            status = self.compare(before, data)
            if status != "unchanged":
                doc = Doc("customer", item.entity_id, 0, data, None, item.entity_id, None)
                self.put(doc, before, holders.get(item.entity_id, ()) if before is not None else ())
            self.verdict(item, status)
            self.mark(item)

    def accounts(self, items: list[_Item]) -> None:
        good = [i for i in items if i.checked is not None and i.checked.ok]
        for item in good:
            item.entity_id = ids.account_id(item.checked.values["account_number"])  # type: ignore[union-attr]
        customer_ids = {self.cid(i.checked.values["customer_ref"]) for i in good}  # type: ignore[union-attr]
        known_customers = self.existing("customer", customer_ids)
        stored = self.docs("account", (i.entity_id for i in good))
        closed = self.open_closures(i.entity_id for i in good)
        holders = self.holders(customer_ids)
        customer_docs = self.customer_docs(customer_ids)
        new_accounts: list[tuple[_Item, Doc]] = []
        changed_bucket: list[tuple[_Item, Doc, str]] = []
        for item in good:
            v = item.checked.values  # type: ignore[union-attr]
            customer_id = self.cid(v["customer_ref"])
            if customer_id not in known_customers:
                self.refuse(item, Problem("customer_ref", "unknown_customer"))
                continue
            if v["agent"] is not None and v["agent"] not in self.agent_names():
                self.refuse(item, Problem("agent", "unknown_agent"))
                continue
            before = self.current(stored, "account", item.entity_id)
            if before is not None and before.customer_id != customer_id:
                self.refuse(item, Problem("customer_ref", "customer_changed"))
                continue
            owned = self.account_fields(v)
            item.extra = json.dumps(
                {"creditor": v["creditor"], "last_payment": v["last_payment"]}, sort_keys=True, ensure_ascii=False
            )
            if before is None:
                data = {
                    **owned,
                    "id": item.entity_id,
                    "customer_id": customer_id,
                    "assigned_agent": "",
                    "last_contact_at": None,
                    "version": 1,
                }
                doc = Doc("account", item.entity_id, 0, data, item.entity_id, customer_id, None)
                if v["closed"]:
                    self.put(doc, None, ())
                    self.closures.append((item.entity_id, None, "file"))
                    self.bucket_entry(doc, v, None)
                    self.verdict(item, "closed")
                else:
                    new_accounts.append((item, doc))
                self.mark(item)
                continue
            data = {**before.data, **owned}
            is_closed = item.entity_id in closed
            status = self.compare(before, data)
            if v["closed"]:
                if not is_closed:
                    data["assigned_agent"] = ""
                    if before.agent:
                        self.emit(before.agent, "account", before.id, "revoke", before.version, {"reason": "closed"})
                    self.put(replace(before, data=data, agent=None), before, ())
                    self.closures.append((item.entity_id, before.agent, "file"))
                    closed.add(item.entity_id)
                    status = "closed"
                elif status == "changed":
                    self.put(replace(before, data=data), before, ())
            elif is_closed:
                # Back in the portfolio: open again, and assigned as a new account would be.
                self.put(replace(before, data=data), before, ())
                self.reopened.append(item.entity_id)
                closed.discard(item.entity_id)
                agent = v["agent"] or self.rule_agent(before.id, data)
                if agent:
                    self.moves.append((before.id, agent))
                status = "changed"
            else:
                moving = v["agent"] is not None and v["agent"] != before.agent
                if status == "changed":
                    self.put(replace(before, data=data), before, () if moving or not before.agent else (before.agent,))
                if moving:
                    self.moves.append((before.id, v["agent"]))
                    status = "changed"
            if data["bucket"] != before.data.get("bucket") and status != "unchanged":
                changed_bucket.append(
                    (item, self.current(stored, "account", item.entity_id) or before, before.data.get("bucket", ""))
                )
            if status == "unchanged" and self.extra_changed(item):
                status = "changed"
            self.verdict(item, status)
            self.mark(item)
        self.assign_new(new_accounts, holders, customer_docs)
        self.roll_buckets(changed_bucket)

    def account_fields(self, v: Mapping[str, Any]) -> dict[str, Any]:
        currency = v["currency"]
        number = v["account_number"]
        if v["product"] == Product.CREDIT_CARD.value:
            number = truncate_pan(number)
        return {
            "number": number,
            "product": v["product"],
            **{
                part: _money(v[part], currency)
                for part in ("principal", "interest", "fees", "vat", "past_due", "min_to_cure")
            },
            "dpd": v["dpd"],
            "bucket": self.buckets.bucket_for(v["dpd"]).code,
            "stage": v["stage"] or _derived_stage(v["dpd"]),
            "risk_segment": v["segment"],
            "opened_on": v["opened_on"].isoformat(),
            "last_payment_on": v["last_payment_on"].isoformat() if v["last_payment_on"] else None,
        }

    def extra_changed(self, item: _Item) -> bool:
        stored = (
            self.conn.execute(
                select(import_rows.c.extra).where(
                    import_rows.c.kind == "accounts", import_rows.c.entity_id == item.entity_id
                )
            )
            .scalars()
            .first()
        )
        return stored is not None and stored != item.extra

    def rule_agent(self, account_id: str, data: Mapping[str, Any]) -> str | None:
        balance = sum(data[p]["centavos"] for p in ("principal", "interest", "fees", "vat"))
        given = assign(
            self.conn,
            self.rules(),
            [NewAccount(account_id, data["bucket"], data["risk_segment"], data["product"], balance)],
        )
        return given.get(account_id)

    def assign_new(
        self,
        new_accounts: list[tuple[_Item, Doc]],
        holders: dict[str, set[str]],
        customer_docs: dict[str, list[tuple[str, str, int, str]]],
    ) -> None:
        if not new_accounts:
            return
        by_rule = [
            NewAccount(
                doc.id,
                doc.data["bucket"],
                doc.data["risk_segment"],
                doc.data["product"],
                sum(doc.data[p]["centavos"] for p in ("principal", "interest", "fees", "vat")),
            )
            for item, doc in new_accounts
            if item.checked.values["agent"] is None  # type: ignore[union-attr]
        ]
        given = assign(self.conn, self.rules(), by_rule) if by_rule else {}
        for item, doc in new_accounts:
            if (doc.kind, doc.id) in self.pending:  # the same account twice in one request: the first row's
                self.verdict(item, "unchanged")
                continue
            agent = item.checked.values["agent"] or given.get(doc.id)  # type: ignore[union-attr]
            if agent:
                customer_id = doc.customer_id or ""
                if agent not in holders[customer_id]:
                    for kind, parent_id, version, text in customer_docs.get(customer_id, ()):
                        self.changes.append((agent, kind, parent_id, "upsert", version, text))
                    holders[customer_id].add(agent)
                doc = replace(doc, agent=agent, data={**doc.data, "assigned_agent": agent})
                self.holdings.append({"account_id": doc.id, "agent": agent, "held_from": self.at})
            self.put(doc, None, (agent,) if agent else ())
            self.bucket_entry(doc, item.checked.values, agent)  # type: ignore[union-attr]
            self.verdict(item, "new")

    def bucket_entry(self, account: Doc, v: Mapping[str, Any], agent: str | None) -> None:
        """A new account's stay in its bucket, since the day its days past due say it entered."""
        bucket = self.buckets.bucket_for(v["dpd"])
        opened: date = v["opened_on"]
        entered = opened if bucket.min_dpd <= 0 else self.today - timedelta(days=v["dpd"] - bucket.min_dpd)
        entered = min(max(entered, opened), self.today)
        self.new_stay(account, bucket.code, entered, agent)

    def new_stay(self, account: Doc, bucket: str, entered: date, agent: str | None) -> None:
        entry_id = str(uuid.uuid5(ids.NAMESPACE, f"bucket_history:{account.id}\x1f{bucket}\x1f{entered.isoformat()}"))
        data = to_record(BucketHistoryEntry(entry_id, account.id, bucket, entered, None))
        doc = Doc("bucket_history", entry_id, 0, data, account.id, account.customer_id, agent)
        before = self.pending.get(("bucket_history", entry_id))
        self.put(doc, before[0] if before else None, (agent,) if agent else ())

    def roll_buckets(self, changed: list[tuple[_Item, Doc, str]]) -> None:
        """Accounts that moved bucket: their open stay ends today, a new one starts."""
        if not changed:
            return
        stays: dict[str, list[Doc]] = defaultdict(list)
        for chunk in _chunks(sorted({doc.id for _, doc, _ in changed})):
            for r in self.conn.execute(
                select(entities).where(entities.c.kind == "bucket_history", entities.c.account_id.in_(chunk))
            ):
                stays[r.account_id].append(
                    Doc(r.kind, r.id, r.version, json.loads(r.data), r.account_id, r.customer_id, r.agent)
                )
        for _item, account, _old in changed:
            agent = account.agent
            moving = any(a == account.id for a, _ in self.moves)
            audience = () if moving or not agent else (agent,)
            for stay in stays.get(account.id, ()):
                if stay.data.get("left_on") is None:
                    current = self.current({}, "bucket_history", stay.id) or stay
                    self.put(
                        replace(current, data={**current.data, "left_on": self.today.isoformat()}), current, audience
                    )
            self.new_stay(account, account.data["bucket"], self.today, None if moving else agent)

    def contacts(self, items: list[_Item]) -> None:
        good = [i for i in items if i.checked is not None and i.checked.ok]
        customer_ids = {self.cid(i.checked.values["customer_ref"]) for i in good}  # type: ignore[union-attr]
        known = self.existing("customer", customer_ids)
        for item in good:
            v = item.checked.values  # type: ignore[union-attr]
            item.entity_id = ids.contact_point_id(v["customer_ref"], v["kind"], v["value"])
        stored = self.docs("contact_point", (i.entity_id for i in good))
        holders = self.holders(known)
        for item in good:
            v = item.checked.values  # type: ignore[union-attr]
            customer_id = self.cid(v["customer_ref"])
            if customer_id not in known:
                self.refuse(item, Problem("customer_ref", "unknown_customer"))
                continue
            before = self.current(stored, "contact_point", item.entity_id)
            point = ContactPoint(
                id=item.entity_id,
                customer_id=customer_id,
                kind=ContactKind(v["kind"]),
                value=v["value"],
                provenance=Provenance(v["provenance"]),
                state_code=v["state_code"],
                municipality_code=v["municipality_code"],
                postal_code=v["postal_code"],
                consent_sms=v["consent_sms"],
                consent_whatsapp=v["consent_whatsapp"],
                consent_email=v["consent_email"],
                # What the floor learnt stays: the file never clears an opt-out or a wrong number.
                opted_out=bool(before.data.get("opted_out")) if before else False,
                wrong_number=bool(before.data.get("wrong_number")) if before else False,
                is_primary=v["primary"],
            )
            data = to_record(point)
            status = self.compare(before, data)
            if status != "unchanged":
                doc = Doc("contact_point", item.entity_id, 0, data, None, customer_id, None)
                self.put(doc, before, holders.get(customer_id, ()))
            self.verdict(item, status)
            self.mark(item)

    def references(self, items: list[_Item]) -> None:
        good = [i for i in items if i.checked is not None and i.checked.ok]
        for item in good:
            v = item.checked.values  # type: ignore[union-attr]
            item.entity_id = ids.reference_id(v["account_number"], v["role"], v["phone"])
        accounts = self.docs("account", (ids.account_id(i.checked.values["account_number"]) for i in good))  # type: ignore[union-attr]
        stored = self.docs("reference", (i.entity_id for i in good))
        for item in good:
            v = item.checked.values  # type: ignore[union-attr]
            account = accounts.get(ids.account_id(v["account_number"]))
            if account is None:
                self.refuse(item, Problem("account_number", "unknown_account"))
                continue
            reference = Reference(
                item.entity_id, account.id, ReferenceRole(v["role"]), v["name"], v["phone"], v["relationship"]
            )
            data = to_record(reference)
            before = self.current(stored, "reference", item.entity_id)
            status = self.compare(before, data)
            if status != "unchanged" or (before is not None and before.agent != account.agent):
                doc = Doc("reference", item.entity_id, 0, data, account.id, account.customer_id, account.agent)
                self.put(doc, before, (account.agent,) if account.agent else ())
            self.verdict(item, status)
            self.mark(item)

    # -- helpers --------------------------------------------------------------------------------

    @staticmethod
    def compare(before: Doc | None, data: dict[str, Any]) -> str:
        if before is None:
            return "new"
        return "unchanged" if before.data == data else "changed"

    def verdict(self, item: _Item, status: str) -> None:
        self.outcome[item.index] = Verdict(status, (), item.checked.warnings if item.checked else ())

    def refuse(self, item: _Item, problem: Problem) -> None:
        warnings = item.checked.warnings if item.checked else ()
        self.outcome[item.index] = Verdict("refused", (problem,), warnings)

    def open_closures(self, account_ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(sorted(set(account_ids))):
            found.update(
                self.conn.execute(
                    select(account_closures.c.account_id).where(
                        account_closures.c.account_id.in_(chunk), account_closures.c.reopened_on.is_(None)
                    )
                ).scalars()
            )
        return found

    def customer_docs(self, customer_ids: Iterable[str]) -> dict[str, list[tuple[str, str, int, str]]]:
        """What a workstation gets of a person with their first account, customer first, then the rest:
        (kind, id, version, stored JSON) each; a person's documents hold no server-only field, so the
        stored text is what is sent."""
        found: dict[str, list[tuple[str, str, int, str]]] = defaultdict(list)
        order = {kind: n for n, kind in enumerate(CUSTOMER_KINDS)}
        c = entities.c
        for chunk in _chunks(sorted(set(customer_ids))):
            for r in self.conn.execute(
                select(c.customer_id, c.kind, c.id, c.version, c.data).where(
                    c.customer_id.in_(chunk), c.kind.in_(CUSTOMER_KINDS)
                )
            ):
                found[r.customer_id].append((r.kind, r.id, r.version, r.data))
        for docs in found.values():
            docs.sort(key=lambda d: (order[d[0]], d[1]))
        return found

    def close_missing(self) -> int:
        """Every open account no request of this full run named: closed, its agent's feed told."""
        seen = exists().where(import_seen.c.run_id == self.run.id, import_seen.c.account_id == entities.c.id)
        closed = exists().where(
            account_closures.c.account_id == entities.c.id, account_closures.c.reopened_on.is_(None)
        )
        rows = self.conn.execute(
            select(entities).where(entities.c.kind == "account", ~seen, ~closed).order_by(entities.c.id)
        ).all()
        for r in rows:
            before = Doc(r.kind, r.id, r.version, json.loads(r.data), r.account_id, r.customer_id, r.agent)
            if before.agent:
                self.emit(before.agent, "account", before.id, "revoke", before.version, {"reason": "closed"})
            self.put(replace(before, data={**before.data, "assigned_agent": ""}, agent=None), before, ())
            self.closures.append((before.id, before.agent, "missing"))
            if len(self.pending) >= MAX_ROWS:
                self.flush()
        for chunk in _chunks([r.id for r in rows]):
            # The same row again opens the account: it is not the row the account last came from.
            self.conn.execute(
                update(import_rows)
                .where(import_rows.c.kind == "accounts", import_rows.c.entity_id.in_(chunk))
                .values(sha="")
            )
        self.flush()
        return len(rows)


_ENTITY_COLUMNS = ("kind", "id", "account_id", "customer_id", "agent", "version", "data")


def _entity_row(doc: Doc, text: str) -> tuple[Any, ...]:
    return (doc.kind, doc.id, doc.account_id, doc.customer_id, doc.agent, doc.version, text)


_BULK: dict[tuple[str, str], str] = {}


def _bulk(conn: Connection, table: Any, rows: list[tuple[Any, ...]]) -> None:
    """Rows (tuples in the table's column order) inserted through the driver's executemany: the
    import writes hundreds of thousands, and SQLAlchemy's per-row parameter work would cost more
    than SQLite itself (as the seed does; the columns are plain text and integers)."""
    if not rows:
        return
    key = (conn.dialect.name, table.name)
    sql = _BULK.get(key)
    if sql is None:
        names = [c.name for c in table.columns]
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        sql = _BULK[key] = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"
    conn.exec_driver_sql(sql, rows)


def _chunks(values: Sequence[str], size: int = 900) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _run_row(conn: Connection, run: Run, caller: str, now: datetime) -> dict[str, Any]:
    """The run this request belongs to (made by its first request), checked against the request."""
    row = conn.execute(select(import_runs).where(import_runs.c.id == run.id)).first()
    if row is None:
        counts = dict.fromkeys((*STATUSES, "warnings"), 0)
        conn.execute(
            insert(import_runs).values(
                id=run.id,
                caller=caller,
                full=int(run.full),
                close_missing=int(run.close_missing),
                started_at=now.isoformat(),
                updated_at=now.isoformat(),
                counts=json.dumps(counts),
            )
        )
        return {"counts": counts}
    if row.caller != caller:
        raise RunRefused(409, "RUN_OF_ANOTHER", "that run id belongs to another credential's import; start a new run")
    if row.finished_at is not None:
        raise RunRefused(409, "RUN_FINISHED", "that import run already ended (its last request came); start a new run")
    if bool(row.full) != run.full or bool(row.close_missing) != run.close_missing:
        raise RunRefused(409, "RUN_OPTIONS_DIFFER", "full and close_missing must be the same on every request of a run")
    return {"counts": json.loads(row.counts)}


def import_batch(
    conn: Connection,
    run: Run,
    rows: Sequence[tuple[str, Mapping[str, Any]]],
    now: datetime,
    caller: str,
    buckets: BucketSet,
    rules: Callable[[], AssignmentRules],
) -> Outcome:
    """One request of an import, in the caller's (write) transaction: a verdict per row, in order."""
    if run.close_missing and not run.full:
        raise RunRefused(422, "CLOSE_NEEDS_FULL", "close_missing closes what a full import left out: send full too")
    # The feed's counter first: on PostgreSQL this request's seqs are then in commit order with every other writer's.
    conn.execute(select(counters.c.value).where(counters.c.name == "seq").with_for_update()).first()
    state = _run_row(conn, run, caller, now)
    job = _Import(conn, run, now, buckets, rules)
    items = [_Item(n, kind, data, raw_key(kind, data), "") for n, (kind, data) in enumerate(rows)]
    for item in items:
        # The row as sent, canonical (columns in order; repr tells "1" from 1): a changed cell changes it.
        canonical = "\x1e".join(f"{name}\x1f{value!r}" for name, value in sorted(item.data.items()))
        item.sha = _digest(job.salt + item.kind + canonical)
    if run.full:
        named = {ids.account_id(k) for kind, data in rows if kind == "accounts" for k in [key_of(kind, data)] if k}
        if named:
            _mark_seen(conn, run.id, named)
    for kind in KINDS:
        group = [i for i in items if i.kind == kind]
        if not group:
            continue
        marks = _marks(conn, kind, [i.key for i in group if i.key])
        todo: list[_Item] = []
        for item in group:
            mark = marks.get(item.key or "")
            if mark is not None and mark[0] == item.sha:
                job.outcome[item.index] = Verdict("unchanged", (), _problems_of(mark[1]))
                continue
            item.checked = check_row(kind, item.data, job.today)
            if not item.checked.ok:
                job.outcome[item.index] = Verdict("refused", item.checked.problems, item.checked.warnings)
                continue
            todo.append(item)
        getattr(job, kind)(todo)
        job.flush()
    closed_missing = 0
    if run.last and run.close_missing:
        named_any = conn.execute(
            select(import_seen.c.account_id).where(import_seen.c.run_id == run.id).limit(1)
        ).first()
        if named_any is None:
            raise RunRefused(
                422,
                "NOTHING_NAMED",
                "this full import named no account: closing what is missing would close every account; nothing was closed",
            )
        closed_missing = job.close_missing()
    verdicts = [job.outcome.get(n, Verdict("refused", (Problem("", "rejected"),))) for n in range(len(items))]
    counts = dict(state["counts"])
    for verdict in verdicts:
        counts[verdict.status] = counts.get(verdict.status, 0) + 1
        counts["warnings"] = counts.get("warnings", 0) + (1 if verdict.warnings else 0)
    conn.execute(
        update(import_runs)
        .where(import_runs.c.id == run.id)
        .values(
            updated_at=now.isoformat(),
            counts=json.dumps(counts),
            closed_missing=import_runs.c.closed_missing + closed_missing,
            finished_at=now.isoformat() if run.last else None,
        )
    )
    if run.last and run.full:
        conn.execute(delete(import_seen).where(import_seen.c.run_id == run.id))
    mine = dict.fromkeys((*STATUSES, "warnings"), 0)
    for verdict in verdicts:
        mine[verdict.status] += 1
        mine["warnings"] += 1 if verdict.warnings else 0
    return Outcome(verdicts, closed_missing, mine)


def _marks(conn: Connection, kind: str, keys: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    found: dict[str, tuple[str, str | None]] = {}
    for chunk in _chunks(sorted(set(keys))):
        for key, sha, warnings in conn.execute(
            select(import_rows.c.key, import_rows.c.sha, import_rows.c.warnings).where(
                and_(import_rows.c.kind == kind, import_rows.c.key.in_(chunk))
            )
        ):
            found[key] = (sha, warnings)
    return found


def _mark_seen(conn: Connection, run_id: str, account_ids: set[str]) -> None:
    known: set[str] = set()
    wanted = sorted(account_ids)
    for chunk in _chunks(wanted):
        known.update(
            conn.execute(
                select(import_seen.c.account_id).where(
                    import_seen.c.run_id == run_id, import_seen.c.account_id.in_(chunk)
                )
            ).scalars()
        )
    fresh = [{"run_id": run_id, "account_id": a} for a in wanted if a not in known]
    if fresh:
        conn.execute(insert(import_seen), fresh)
