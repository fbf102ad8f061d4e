"""Queue reads: ordered, filtered and paged in SQLite with a keyset, never loaded whole."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, Row

from cobro_tui.domain.models import Product
from cobro_tui.domain.money import Money
from cobro_tui.domain.phones import PhoneError, normalize_phone, search_digits
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
    "a.principal + a.interest + a.fees + a.vat AS balance, a.currency, a.last_contact_at, a.sync_state, a.priority, "
    "a.contact_from, coalesce(a.contact_from <= :now AND a.contact_until > :now, 0) AS callable_now "
    "FROM account a JOIN customer c ON c.id = a.customer_id "
    "WHERE a.assigned_agent = :agent "
)
_ORDER = " ORDER BY a.priority DESC, a.dpd DESC, a.id DESC LIMIT :limit"
_CALLABLE = "a.contact_from <= :now AND a.contact_until > :now"


_PROMISE_WHERE = {
    PromiseFilter.OPEN: "EXISTS (SELECT 1 FROM promise p WHERE p.account_id = a.id AND +p.status = 'open')",
    PromiseFilter.DUE_TODAY: "EXISTS (SELECT 1 FROM promise p WHERE p.account_id = a.id AND +p.status = 'open' AND p.due_on = :today)",
    PromiseFilter.BROKEN: "EXISTS (SELECT 1 FROM promise p WHERE p.account_id = a.id AND +p.status = 'open' AND p.due_on < :today)",
    PromiseFilter.NONE: "NOT EXISTS (SELECT 1 FROM promise p WHERE p.account_id = a.id AND +p.status = 'open')",
}


def _filter_sql(chosen: QueueFilter | None) -> str:
    if chosen is None or not chosen.active:
        return ""
    clauses = []
    for column, name in (("a.bucket", "bucket"), ("a.product", "product"), ("a.risk_segment", "segment")):
        if getattr(chosen, name) is not None:
            clauses.append(f"{column} = :{name}")
    if chosen.promise is not None:
        clauses.append(_PROMISE_WHERE[chosen.promise])
    if chosen.callable_now:
        clauses.append(_CALLABLE)
    return "".join(f"AND {c} " for c in clauses)


def _filter_params(chosen: QueueFilter | None) -> dict[str, object]:
    if chosen is None:
        return {}
    return {
        name: str(getattr(chosen, name))
        for name in ("bucket", "product", "segment")
        if getattr(chosen, name) is not None
    }


def queue_page(
    engine: Engine,
    agent: str,
    after: QueueKey | None,
    limit: int,
    chosen: QueueFilter | None = None,
    today: date | None = None,
    now: datetime | None = None,
    count: bool = True,
) -> QueuePage:
    """One page of the agent's queue after `after` (from the top when None), with the total of
    accounts that pass the filter (`today` dates the promise filters, `now` says who is callable);
    without `count` the total is -1 (a filtered count reads every matching row: `queue_count`)."""
    where = _filter_sql(chosen)
    if chosen is not None and chosen.promise in (PromiseFilter.DUE_TODAY, PromiseFilter.BROKEN) and today is None:
        raise ValueError("the promise filters need the day they are for")
    params: dict[str, object] = {
        "agent": agent,
        "today": today.isoformat() if today else None,
        "now": instant_text(now) if now else None,
        **_filter_params(chosen),
    }
    sql = _SELECT + where
    if after is not None:
        sql += "AND (a.priority, a.dpd, a.id) < (:p, :d, :i) "
        params.update(p=after.priority, d=after.dpd, i=after.id)
    with engine.connect() as conn:
        result = conn.exec_driver_sql(sql + _ORDER, {**params, "limit": limit + 1})
        # Columns by name through their positions in this result: a page is read at the speed of
        # positions (RowMapping costs it a tenth of a millisecond), never by a position written here.
        at = {name: i for i, name in enumerate(result.keys())}
        rows = result.fetchall()
        total = (
            conn.exec_driver_sql(
                f"SELECT count(*) FROM account a WHERE a.assigned_agent = :agent {where}", params
            ).scalar_one()
            if count
            else -1
        )
    entries = tuple(_entry(row, at) for row in rows[:limit])
    next_key = entries[-1].key if len(rows) > limit and entries else None
    return QueuePage(entries, total, next_key)


def _entry(row: Row[Any], at: dict[str, int]) -> QueueEntry:
    currency, last_contact_at, contact_from = row[at["currency"]], row[at["last_contact_at"]], row[at["contact_from"]]
    return QueueEntry(
        account_id=row[at["id"]],
        customer_name=row[at["full_name"]],
        account_last4=row[at["number"]][-4:],
        product=Product(row[at["product"]]),
        bucket=row[at["bucket"]],
        dpd=row[at["dpd"]],
        past_due=Money(row[at["past_due"]], currency),
        balance=Money(row[at["balance"]], currency),
        last_contact_at=datetime.fromisoformat(last_contact_at) if last_contact_at else None,
        sync_state=row[at["sync_state"]],
        priority=row[at["priority"]],
        contact_from=datetime.fromisoformat(contact_from) if contact_from else None,
        callable_now=bool(row[at["callable_now"]]),
    )


def queue_count(engine: Engine, agent: str, chosen: QueueFilter | None, today: date, now: datetime) -> int:
    """How many of the agent's accounts pass the filter."""
    params: dict[str, object] = {
        "agent": agent,
        "today": today.isoformat(),
        "now": instant_text(now),
        **_filter_params(chosen),
    }
    with engine.connect() as conn:
        return conn.exec_driver_sql(
            f"SELECT count(*) FROM account a WHERE a.assigned_agent = :agent {_filter_sql(chosen)}", params
        ).scalar_one()


def search_accounts(engine: Engine, agent: str, text: str, limit: int = 20) -> list[SearchHit]:
    """The agent's accounts whose customer name holds `text`, whose number ends in it, or whose
    customer has a phone that is it (in any format: 55 1234 5678, +52 55 1234 5678, 5512345678) or
    holds its digits (at least 4 of them for numbers)."""
    text = text.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    hits: dict[str, SearchHit] = {}
    base = "SELECT a.id, c.full_name, a.number FROM account a JOIN customer c ON c.id = a.customer_id WHERE a.assigned_agent = ? "
    order = " ORDER BY a.priority DESC, a.id DESC LIMIT ?"
    with engine.connect() as conn:
        queries: list[tuple[str, str, tuple[object, ...]]] = []
        if len(digits) >= 4 and _NUMBER_TEXT.match(text):
            if not text.startswith("+"):
                queries.append(("account", base + "AND a.number LIKE ?", (agent, f"%{digits}")))
            queries.append(("phone", base + _PHONE_OF_CUSTOMER + _phone_match(text), (agent, *_phone_values(text))))
        elif len(text) >= 2:
            queries.append(("name", base + "AND c.full_name LIKE ?", (agent, f"%{text}%")))
        for matched, sql, params in queries:
            for account_id, name, number in conn.exec_driver_sql(sql + order, (*params, limit)):
                hits.setdefault(account_id, SearchHit(account_id, name, number[-4:], matched))
    return list(hits.values())[:limit]


# What a person types for a number: digits, spaces, a leading +, brackets, dashes or dots.
_NUMBER_TEXT = re.compile(r"^\+?[0-9 ().-]+$")
_PHONE_OF_CUSTOMER = (
    "AND a.customer_id IN (SELECT customer_id FROM contact_point WHERE kind IN ('mobile', 'home', 'work', 'whatsapp') "
)


def _phone_match(text: str) -> str:
    # A whole number: the stored value is its E.164 (or, as caches filled before phones were
    # normalized keep it, its national number), found by the value index; a part: its digits anywhere.
    return "AND value IN (?, ?))" if _whole_phone(text) else "AND value LIKE ?)"


def _phone_values(text: str) -> tuple[str, ...]:
    e164 = _whole_phone(text)
    return (e164, search_digits(e164)) if e164 else (f"%{search_digits(text)}%",)


def _whole_phone(text: str) -> str | None:
    try:
        return normalize_phone(text)
    except PhoneError:
        return None


def next_unworked(
    engine: Engine, agent: str, since: datetime, skip: tuple[str, ...] = (), callable_at: datetime | None = None
) -> str | None:
    """The first account in queue order whose customer nobody has contacted since `since` (and, with
    `callable_at`, that the contact rules allow calling then); walks the queue index and stops at the
    first hit; `skip` leaves out accounts just seen."""
    sql = (
        "SELECT a.id FROM account a WHERE a.assigned_agent = :agent AND NOT EXISTS ("
        "SELECT 1 FROM contact_attempt c WHERE c.customer_id = a.customer_id AND c.started_at >= :since)"
    )
    names = {f"s{i}": value for i, value in enumerate(skip)}
    if skip:
        sql += f" AND a.id NOT IN ({', '.join(':' + n for n in names)})"
    if callable_at is not None:
        sql += f" AND {_CALLABLE}"
    params = {
        "agent": agent,
        "since": instant_text(since),
        "limit": 1,
        **names,
        "now": instant_text(callable_at) if callable_at else None,
    }
    with engine.connect() as conn:
        return conn.exec_driver_sql(sql + _ORDER, params).scalar()


def accounts_of_customers(engine: Engine, customer_ids: list[str]) -> list[str]:
    """The accounts in this cache of the given customers."""
    if not customer_ids:
        return []
    found: list[str] = []
    with engine.connect() as conn:
        for start in range(0, len(customer_ids), 500):
            chunk = customer_ids[start : start + 500]
            found += (
                conn.exec_driver_sql(
                    f"SELECT id FROM account WHERE customer_id IN ({', '.join('?' * len(chunk))})", tuple(chunk)
                )
                .scalars()
                .all()
            )
    return found
