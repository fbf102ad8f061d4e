"""Which account an institution's account number names (the bank's payments file knows numbers,
not our ids): the id the portfolio import gave it (portfolio_ids.account_id), or, for an account
stored before under another id (the demo's), the one `account_keys` maps that key to."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from cobro_tui.domain.portfolio_ids import account_id as key_of
from cobro_tui.server.schema import account_keys


def resolve(conn: Connection, number: str) -> str:
    """The id of the account numbered `number` (it may not exist: the caller looks it up)."""
    key = key_of(number)
    mapped = conn.execute(select(account_keys.c.account_id).where(account_keys.c.key == key)).scalar()
    return mapped if mapped is not None else key


def remember(conn: Connection, accounts: Iterable[tuple[str, str]]) -> None:
    """Map each (number, id) whose id is not the number's key; the first account of a number wins.
    Keys go in sorted, so that two writers never wait on each other in opposite orders."""
    rows = sorted({key_of(number): account for number, account in accounts if key_of(number) != account}.items())
    if rows:
        conn.execute(_insert_ignoring_known(conn.dialect.name), [{"key": k, "account_id": a} for k, a in rows])


def _insert_ignoring_known(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    return upsert(account_keys).on_conflict_do_nothing(index_elements=["key"])
