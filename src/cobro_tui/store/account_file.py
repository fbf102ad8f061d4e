"""Reading one account file from the cache: a handful of indexed queries, no scans."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping

from cobro_tui.domain.account_file import AccountFile, Tracked
from cobro_tui.domain.models import PaymentPlan
from cobro_tui.store import rows as R
from cobro_tui.store.types import instant_text

RECENT_CONTACTS = 30
RECENT_PAYMENTS = 12


def _select(kind: str, where: str, order: str = "", limit: int | None = None) -> str:
    # Every column, read by name: the row mapping takes what the entity needs.
    sql = f"SELECT * FROM {R.table_of(kind)} WHERE {where}"
    if order:
        sql += f" ORDER BY {order}"
    if limit:
        sql += f" LIMIT {limit}"
    return sql


def _rows(conn: Connection, sql: str, params: tuple[Any, ...]) -> Sequence[RowMapping]:
    return conn.exec_driver_sql(sql, params).mappings().all()


def _entities(conn: Connection, kind: str, sql: str, params: tuple[Any, ...]) -> list[Any]:
    return [R.entity_from_row(kind, row) for row in _rows(conn, sql, params)]


def _tracked(conn: Connection, kind: str, sql: str, params: tuple[Any, ...]) -> list[Tracked[Any]]:
    return [Tracked(R.entity_from_row(kind, row), row["sync_state"]) for row in _rows(conn, sql, params)]


def _plans(conn: Connection, account_id: str) -> list[Tracked[PaymentPlan]]:
    return [
        Tracked(
            R.entity_from_row(
                "payment_plan",
                row,
                _rows(conn, "SELECT * FROM plan_installment WHERE plan_id = ? ORDER BY number", (row["id"],)),
            ),
            row["sync_state"],
        )
        for row in _rows(conn, _select("payment_plan", "account_id = ?", "created_at DESC"), (account_id,))
    ]


def read_account_file(engine: Engine, account_id: str) -> AccountFile | None:
    """The file of one account, or None when the account is not in this cache (any more)."""
    with engine.connect() as conn:
        accounts = _entities(conn, "account", _select("account", "id = ?"), (account_id,))
        if not accounts:
            return None
        account = accounts[0]
        customer_id = account.customer_id
        return AccountFile(
            account=account,
            customer=_entities(conn, "customer", _select("customer", "id = ?"), (customer_id,))[0],
            other_accounts=tuple(
                _entities(
                    conn,
                    "account",
                    _select("account", "customer_id = ? AND id <> ?", "dpd DESC"),
                    (customer_id, account_id),
                )
            ),
            contact_points=tuple(
                _entities(
                    conn,
                    "contact_point",
                    _select("contact_point", "customer_id = ?", "is_primary DESC, kind"),
                    (customer_id,),
                )
            ),
            references=tuple(
                _entities(conn, "reference", _select("reference", "account_id = ?", "role"), (account_id,))
            ),
            payments=tuple(
                _entities(
                    conn,
                    "payment",
                    _select("payment", "account_id = ?", "paid_on DESC", RECENT_PAYMENTS),
                    (account_id,),
                )
            ),
            promises=tuple(
                _tracked(conn, "promise", _select("promise", "account_id = ?", "created_at DESC"), (account_id,))
            ),
            plans=tuple(_plans(conn, account_id)),
            contacts=tuple(
                _tracked(
                    conn,
                    "contact_attempt",
                    _select("contact_attempt", "customer_id = ?", "started_at DESC", RECENT_CONTACTS),
                    (customer_id,),
                )
            ),
            restrictions=tuple(
                _entities(
                    conn, "restriction", _select("restriction", "customer_id = ?", "created_at DESC"), (customer_id,)
                )
            ),
            notes=tuple(
                _tracked(conn, "note", _select("note", "account_id = ?", "created_at DESC", 20), (account_id,))
            ),
        )


def contacted_since(engine: Engine, customer_id: str, since: datetime) -> bool:
    """Whether anyone logged a contact attempt with this customer at or after `since`."""
    with engine.connect() as conn:
        return (
            conn.exec_driver_sql(
                "SELECT 1 FROM contact_attempt WHERE customer_id = ? AND started_at >= ? LIMIT 1",
                (customer_id, instant_text(since)),
            ).first()
            is not None
        )
