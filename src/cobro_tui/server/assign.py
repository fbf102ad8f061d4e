"""Moving accounts between agents: the loser's feed gets a revoke, the gainer's the whole account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, update

from cobro_tui.server import export
from cobro_tui.server.db import write_tx
from cobro_tui.server.feed import (
    CUSTOMER_KINDS,
    Doc,
    Tx,
    customer_agents,
    docs_of_account,
    docs_of_customer,
    get_doc,
)
from cobro_tui.server.holdings import hand_over
from cobro_tui.server.schema import entities


class UnknownAccount(LookupError):
    pass


class VersionMismatch(Exception):
    """The account changed since the caller read it (If-Match)."""

    def __init__(self, current: int) -> None:
        super().__init__(current)
        self.current = current


def reassign(
    engine: Engine,
    account_id: str,
    to_agent: str,
    now: datetime,
    expected_version: int | None = None,
    by: str | None = None,
) -> int:
    """Give the account (and everything it owns) to `to_agent`; returns the seq of the revoke.
    With `expected_version`, only if the account is still at that version (VersionMismatch otherwise).
    `by` is who decided it (a supervisor, a manager; None: the server's own rules), for the export."""
    with write_tx(engine) as conn:
        return move(conn, account_id, to_agent, now, expected_version, by)


def move(
    conn: Connection,
    account_id: str,
    to_agent: str,
    now: datetime,
    expected_version: int | None = None,
    by: str | None = None,
) -> int:
    """The reassignment of one account, in the caller's transaction (see reassign)."""
    account = get_doc(conn, "account", account_id)
    if account is None:
        raise UnknownAccount(account_id)
    if expected_version is not None and account.version != expected_version:
        raise VersionMismatch(account.version)
    old = account.agent
    if old == to_agent:
        return 0
    tx = Tx(conn, now)
    had_customer = to_agent in customer_agents(conn, account.customer_id)
    revoke_seq = tx.emit(old, "account", account_id, "revoke", account.version, {"reason": "reassigned"}) if old else 0
    # The gainer receives, in this transaction and parents first: the person (if new to them),
    # the account, and every child of the account.
    if not had_customer and account.customer_id:
        for kind in CUSTOMER_KINDS:
            for doc in docs_of_customer(conn, account.customer_id, kind):
                tx.emit(to_agent, kind, doc.id, "upsert", doc.version, doc.public())
    conn.execute(update(entities).where(entities.c.account_id == account_id).values(agent=to_agent))
    hand_over(conn, account_id, to_agent, now)
    # Who held it before lives in the assignment history now; older documents may still carry these.
    data = {k: v for k, v in account.data.items() if k not in ("_former_agents", "_reassigned_seq")}
    data["assigned_agent"] = to_agent
    tx.put(Doc("account", account_id, 0, data, account_id, account.customer_id, to_agent))
    export.account_reassigned(tx, account, old, to_agent, by)
    for doc in docs_of_account(conn, account_id):
        if doc.kind != "account":
            tx.emit(to_agent, doc.kind, doc.id, "upsert", doc.version, doc.public())
    return revoke_seq
