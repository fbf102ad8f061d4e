"""Demo data on the server: the generated portfolio spread over agente01..agente10, and the users."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Engine, insert, select

from cobro_tui.demo.portfolio import (
    DEMO_AGENTS,
    CustomerBundle,
    PortfolioSpec,
    generate_chunk,
)
from cobro_tui.domain.buckets import BucketSet
from cobro_tui.domain.cards import truncate_pan
from cobro_tui.domain.models import Account, Product
from cobro_tui.domain.records import KIND_OF, to_record
from cobro_tui.server.account_keys import remember
from cobro_tui.server.auth import add_user, hash_password
from cobro_tui.server.db import server_engine, write_tx
from cobro_tui.server.facts import PROJECTED, project_many
from cobro_tui.server.feed import server_epoch
from cobro_tui.server.holdings import first_holdings
from cobro_tui.server.schema import assignment_history, entities, users

DEMO_PASSWORD = "demo"
SUPERVISOR = "supervisor01"
MANAGER = "gerente01"
AUDITOR = "auditor01"


@cache
def _demo_hash() -> str:
    """One hash of the demo password for every demo user (each Argon2id hash takes ~25 ms)."""
    return hash_password(DEMO_PASSWORD)


def ensure_demo_users(engine: Engine) -> None:
    """agente01..agente10, supervisor01, gerente01 (a manager) and auditor01, all of team norte, with
    the password `demo`, once."""
    with write_tx(engine) as conn:
        server_epoch(conn)
        known = set(conn.execute(select(users.c.username)).scalars())
        wanted = [(name, "agent") for name in DEMO_AGENTS] + [
            (SUPERVISOR, "supervisor"),
            (MANAGER, "manager"),
            (AUDITOR, "auditor"),
        ]
        for name, role in wanted:
            if name not in known:
                add_user(conn, name, DEMO_PASSWORD, role, password_hash=_demo_hash())


def _doc(entity: Any, account_id: str | None, customer_id: str, agent: str | None) -> tuple[Any, ...]:
    return (
        KIND_OF[type(entity)],
        entity.id,
        account_id,
        customer_id,
        agent,
        1,
        json.dumps(to_record(entity), ensure_ascii=False),
    )


def as_kept(account: Account) -> Account:
    """An account as the server keeps it: a card's number truncated to its first six and last four
    digits (checked by Luhn on the way in; the core keeps the full number, PCI DSS 3.4.1)."""
    if account.product is Product.CREDIT_CARD:
        return replace(account, number=truncate_pan(account.number))
    return account


_INSERT = "INSERT INTO entities (kind, id, account_id, customer_id, agent, version, data) VALUES (?, ?, ?, ?, ?, ?, ?)"


def bundle_docs(bundle: CustomerBundle) -> list[tuple[Any, ...]]:
    cid = bundle.customer.id
    docs = [_doc(bundle.customer, None, cid, None)]
    docs += [_doc(p, None, cid, None) for p in bundle.contact_points]
    docs += [_doc(r, None, cid, None) for r in bundle.restrictions]
    for item in bundle.accounts:
        account = item.account
        agent = account.assigned_agent
        docs.append(_doc(as_kept(account), account.id, cid, agent))
        for child in (
            *item.references,
            *item.payments,
            *item.promises,
            *item.plans,
            *item.contacts,
            *item.bucket_history,
        ):
            docs.append(_doc(child, account.id, cid, agent))
    return docs


def _store_chunk(engine: Engine, spec: PortfolioSpec, chunk: int) -> int:
    bundles = generate_chunk(spec, chunk)
    # In key order, as every multi-row write (facts.count_hours): concurrent writers never cross.
    docs = sorted((doc for bundle in bundles for doc in bundle_docs(bundle)), key=lambda d: (d[0], d[1]))
    projected = [(d[0], d[1], d[4], d[2], json.loads(d[6])) for d in docs if d[0] in PROJECTED]
    with write_tx(engine) as conn:
        positional = _INSERT if conn.dialect.paramstyle == "qmark" else _INSERT.replace("?", "%s")
        conn.exec_driver_sql(positional, docs)
        project_many(conn, projected)
        remember(conn, ((a.account.number, a.account.id) for bundle in bundles for a in bundle.accounts))
        held = first_holdings((d[1], d[4], json.loads(d[6])["opened_on"]) for d in docs if d[0] == "account")
        if held:
            conn.execute(insert(assignment_history), held)
    return sum(len(b.accounts) for b in bundles)


_worker_engine: Engine | None = None


def _worker_open(url: str) -> None:
    global _worker_engine
    _worker_engine = server_engine(url)


def _worker_store(spec: PortfolioSpec, chunk: int) -> int:
    assert _worker_engine is not None
    return _store_chunk(_worker_engine, spec, chunk)


def load_demo_portfolio(
    engine: Engine,
    accounts: int,
    seed: int,
    as_of: datetime,
    buckets: BucketSet,
    progress: Callable[[int, int], None] | None = None,
    agents: tuple[str, ...] = DEMO_AGENTS,
    workers: int | None = None,
) -> int:
    """Generate and store the demo portfolio (only into an empty server); returns accounts stored.

    Chunks are generated and written by worker processes with their own connections, so the work
    spreads over the machine's cores (the same portfolio for a seed either way).
    """
    spec = PortfolioSpec(accounts, seed, as_of, buckets, agents)
    with engine.connect() as conn:
        if conn.execute(select(entities.c.id).where(entities.c.kind == "account").limit(1)).first():
            return 0
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    done = 0
    if workers <= 1 or spec.chunk_count <= 1:
        for chunk in range(spec.chunk_count):
            done += _store_chunk(engine, spec, chunk)
            if progress:
                progress(done, accounts)
        return done
    url = engine.url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(max_workers=workers, initializer=_worker_open, initargs=(url,)) as pool:
        for stored in pool.map(_worker_store, [spec] * spec.chunk_count, range(spec.chunk_count)):
            done += stored
            if progress:
                progress(done, accounts)
    return done
