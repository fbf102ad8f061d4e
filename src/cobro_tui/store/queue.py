"""Queue reads: ordered, filtered and paged in SQLite with a keyset, never loaded whole."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from cobro_tui.domain.models import Product
from cobro_tui.domain.money import Money
from cobro_tui.domain.queue import QueueEntry, QueueKey, QueuePage
from cobro_tui.store.types import instant_text

_SELECT = (
    "SELECT a.id, c.full_name, a.number, a.product, a.bucket, a.dpd, a.past_due, "
    "a.principal + a.interest + a.fees + a.vat, a.currency, a.last_contact_at, a.sync_state, a.priority "
    "FROM account a JOIN customer c ON c.id = a.customer_id "
    "WHERE a.assigned_agent = ? "
)
_ORDER = " ORDER BY a.priority DESC, a.dpd DESC, a.id DESC LIMIT ?"


def queue_page(engine: Engine, agent: str, after: QueueKey | None, limit: int) -> QueuePage:
    """One page of the agent's queue after `after` (from the top when None), with the total."""
    params: list[object] = [agent]
    sql = _SELECT
    if after is not None:
        sql += "AND (a.priority, a.dpd, a.id) < (?, ?, ?) "
        params += [after.priority, after.dpd, after.id]
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(sql + _ORDER, (*params, limit + 1)).fetchall()
        total = conn.exec_driver_sql("SELECT count(*) FROM account WHERE assigned_agent = ?", (agent,)).scalar_one()
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
