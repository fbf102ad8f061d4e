"""Reading one account file from the cache: a handful of indexed queries, no scans."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from cobro_tui.domain.account_file import AccountFile, Tracked
from cobro_tui.domain.models import PaymentPlan
from cobro_tui.domain.records import from_record
from cobro_tui.store import rows as R
from cobro_tui.store.types import instant_text

RECENT_CONTACTS = 30
RECENT_PAYMENTS = 12


def _select(kind: str, where: str, order: str = "", limit: int | None = None, state: bool = False) -> str:
    columns = ", ".join(R.columns_of(kind)) + (", sync_state" if state else "")
    sql = f"SELECT {columns} FROM {R.table_of(kind)} WHERE {where}"
    if order:
        sql += f" ORDER BY {order}"
    if limit:
        sql += f" LIMIT {limit}"
    return sql


def _entities(conn: Connection, kind: str, sql: str, params: tuple[Any, ...]) -> list[Any]:
    return [R.entity_from_row(kind, row) for row in conn.exec_driver_sql(sql, params)]


def _tracked(conn: Connection, kind: str, sql: str, params: tuple[Any, ...]) -> list[Tracked[Any]]:
    width = len(R.columns_of(kind))
    return [Tracked(R.entity_from_row(kind, row[:width]), row[width]) for row in conn.exec_driver_sql(sql, params)]


def _plans(conn: Connection, account_id: str) -> list[Tracked[PaymentPlan]]:
    width = len(R.columns_of("payment_plan"))
    plans = []
    for row in conn.exec_driver_sql(
        _select("payment_plan", "account_id = ?", "created_at DESC", state=True), (account_id,)
    ):
        record = R.record_from_row("payment_plan", row[:width])
        currency = record["down_payment"]["currency"]
        record["installments"] = [
            {"number": number, "due_on": due, "amount": {"centavos": amount, "currency": currency}, "status": status}
            for number, due, amount, status in conn.exec_driver_sql(
                "SELECT number, due_on, amount, status FROM plan_installment WHERE plan_id = ? ORDER BY number",
                (record["id"],),
            )
        ]
        plans.append(Tracked(from_record("payment_plan", record), row[width]))
    return plans


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
                _tracked(
                    conn, "promise", _select("promise", "account_id = ?", "created_at DESC", state=True), (account_id,)
                )
            ),
            plans=tuple(_plans(conn, account_id)),
            contacts=tuple(
                _tracked(
                    conn,
                    "contact_attempt",
                    _select("contact_attempt", "customer_id = ?", "started_at DESC", RECENT_CONTACTS, state=True),
                    (customer_id,),
                )
            ),
            restrictions=tuple(
                _entities(
                    conn, "restriction", _select("restriction", "customer_id = ?", "created_at DESC"), (customer_id,)
                )
            ),
            notes=tuple(
                _tracked(
                    conn, "note", _select("note", "account_id = ?", "created_at DESC", 20, state=True), (account_id,)
                )
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
