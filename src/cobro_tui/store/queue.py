"""Queue reads: ordered, filtered and paged in SQLite with a keyset, never loaded whole."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine

from cobro_tui.domain.models import Product
from cobro_tui.domain.money import Money
from cobro_tui.domain.queue import (
    PromiseFilter,
    QueueEntry,
    QueueFilter,
    QueueKey,
    QueuePage,
    SearchHit,
)
from cobro_tui.store.types import instant_text

_SELECT = (
    "SELECT a.id, c.full_name, a.number, a.product, a.bucket, a.dpd, a.past_due, "
    "a.principal + a.interest + a.fees + a.vat, a.currency, a.last_contact_at, a.sync_state, a.priority "
    "FROM account a JOIN customer c ON c.id = a.customer_id "
    "WHERE a.assigned_agent = ? "
)
_ORDER = " ORDER BY a.priority DESC, a.dpd DESC, a.id DESC LIMIT ?"


_PROMISE_WHERE = {
    PromiseFilter.OPEN: "EXISTS (SELECT 1 FROM promise p WHERE p.account_id = a.id AND +p.status = 'open')",
    PromiseFilter.DUE_TODAY: "EXISTS (SELECT 1 FROM promise p WHERE p.account_id = a.id AND +p.status = 'open' AND p.due_on = ?)",
    PromiseFilter.BROKEN: "EXISTS (SELECT 1 FROM promise p WHERE p.account_id = a.id AND +p.status = 'open' AND p.due_on < ?)",
    PromiseFilter.NONE: "NOT EXISTS (SELECT 1 FROM promise p WHERE p.account_id = a.id AND +p.status = 'open')",
}


def _filter_sql(chosen: QueueFilter | None, today: date | None) -> tuple[str, list[object]]:
    if chosen is None or not chosen.active:
        return "", []
    clauses, params = [], []
    for column, value in (("a.bucket", chosen.bucket), ("a.product", chosen.product), ("a.risk_segment", chosen.segment)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(str(value))
    if chosen.promise is not None:
        clauses.append(_PROMISE_WHERE[chosen.promise])
        if chosen.promise in (PromiseFilter.DUE_TODAY, PromiseFilter.BROKEN):
            if today is None:
                raise ValueError("the promise filters need the day they are for")
            params.append(today.isoformat())
    return "".join(f"AND {c} " for c in clauses), params


def queue_page(engine: Engine, agent: str, after: QueueKey | None, limit: int, chosen: QueueFilter | None = None,
               today: date | None = None) -> QueuePage:
    """One page of the agent's queue after `after` (from the top when None), with the total of
    accounts that pass the filter (`today` dates the promise filters)."""
    where, params = _filter_sql(chosen, today)
    sql = _SELECT + where
    page_params: list[object] = [agent, *params]
    if after is not None:
        sql += "AND (a.priority, a.dpd, a.id) < (?, ?, ?) "
        page_params += [after.priority, after.dpd, after.id]
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(sql + _ORDER, (*page_params, limit + 1)).fetchall()
        total = conn.exec_driver_sql(f"SELECT count(*) FROM account a WHERE a.assigned_agent = ? {where}",
                                     (agent, *params)).scalar_one()
    entries = tuple(
        QueueEntry(
            account_id=r[0], customer_name=r[1], account_last4=r[2][-4:], product=Product(r[3]), bucket=r[4],
            dpd=r[5], past_due=Money(r[6], r[8]), balance=Money(r[7], r[8]),
            last_contact_at=datetime.fromisoformat(r[9]) if r[9] else None, sync_state=r[10], priority=r[11],
        )
        for r in rows[:limit]
    )
    next_key = entries[-1].key if len(rows) > limit and entries else None
    return QueuePage(entries, total, next_key)


def search_accounts(engine: Engine, agent: str, text: str, limit: int = 20) -> list[SearchHit]:
    """The agent's accounts whose customer name holds `text`, whose number ends in it, or whose
    customer has a contact point holding its digits (at least 4 of them for numbers)."""
    text = text.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    hits: dict[str, SearchHit] = {}
    base = "SELECT a.id, c.full_name, a.number FROM account a JOIN customer c ON c.id = a.customer_id WHERE a.assigned_agent = ? "
    order = " ORDER BY a.priority DESC, a.id DESC LIMIT ?"
    with engine.connect() as conn:
        queries: list[tuple[str, str, tuple[object, ...]]] = []
        if len(digits) >= 4 and len(digits) == len(text.replace(" ", "")):
            queries.append(("account", base + "AND a.number LIKE ?", (agent, f"%{digits}")))
            queries.append(("phone", base + "AND a.customer_id IN (SELECT customer_id FROM contact_point WHERE value LIKE ?)",
                            (agent, f"%{digits}%")))
        elif len(text) >= 2:
            queries.append(("name", base + "AND c.full_name LIKE ?", (agent, f"%{text}%")))
        for matched, sql, params in queries:
            for account_id, name, number in conn.exec_driver_sql(sql + order, (*params, limit)):
                hits.setdefault(account_id, SearchHit(account_id, name, number[-4:], matched))
    return list(hits.values())[:limit]


def next_unworked(engine: Engine, agent: str, since: datetime, skip: tuple[str, ...] = ()) -> str | None:
    """The first account in queue order whose customer nobody has contacted since `since`
    (walks the queue index and stops at the first hit; `skip` leaves out accounts just seen)."""
    sql = (
        "SELECT a.id FROM account a WHERE a.assigned_agent = ? AND NOT EXISTS ("
        "SELECT 1 FROM contact_attempt c WHERE c.customer_id = a.customer_id AND c.started_at >= ?)"
    )
    if skip:
        sql += f" AND a.id NOT IN ({', '.join('?' * len(skip))})"
    with engine.connect() as conn:
        return conn.exec_driver_sql(sql + _ORDER, (agent, instant_text(since), *skip, 1)).scalar()


def accounts_of_customers(engine: Engine, customer_ids: list[str]) -> list[str]:
    """The accounts in this cache of the given customers."""
    if not customer_ids:
        return []
    found: list[str] = []
    with engine.connect() as conn:
        for start in range(0, len(customer_ids), 500):
            chunk = customer_ids[start:start + 500]
            found += conn.exec_driver_sql(
                f"SELECT id FROM account WHERE customer_id IN ({', '.join('?' * len(chunk))})", tuple(chunk)
            ).scalars().all()
    return found
