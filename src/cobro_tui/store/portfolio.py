"""Loading a whole portfolio into the cache in bulk (demo generation, and first sync later)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from cobro_tui.demo.portfolio import CustomerBundle, PortfolioSpec, generate_chunk
from cobro_tui.store import rows as R
from cobro_tui.store.engine import CacheFile, write_connection


@dataclass(slots=True)
class LoadReport:
    customers: int = 0
    accounts: int = 0
    rows: dict[str, int] = field(default_factory=dict)

    def merge(self, other: LoadReport) -> None:
        self.customers += other.customers
        self.accounts += other.accounts
        for name, count in other.rows.items():
            self.rows[name] = self.rows.get(name, 0) + count


def bundle_rows(bundles: Iterable[CustomerBundle]) -> dict[str, list[R.Row]]:
    """The rows of many customers, by table."""
    out: dict[str, list[R.Row]] = {name: [] for name in R.entity_tables()}

    def add(entities: Iterable[Any]) -> None:
        for entity in entities:
            for row in R.rows_of(entity):
                table, _, _ = row
                out[table].append(row)

    for bundle in bundles:
        add((bundle.customer, *bundle.contact_points, *bundle.restrictions))
        for item in bundle.accounts:
            add((item.account, *item.references, *item.payments, *item.promises, *item.plans, *item.contacts))
            add(item.bucket_history)
    return out


def load_rows(engine: Engine, tables: dict[str, list[R.Row]], report: LoadReport) -> None:
    """Write one batch of rows in one transaction."""
    with write_connection(engine) as conn:
        for name in R.entity_tables():  # parents first
            batch = tables.get(name, [])
            R.insert_rows(conn, batch)
            report.rows[name] = report.rows.get(name, 0) + len(batch)
    report.customers += len(tables.get("customer", []))
    report.accounts += len(tables.get("account", []))


_worker_engine: Engine | None = None


def _worker_open(cache: CacheFile) -> None:
    global _worker_engine
    _worker_engine = cache.open()


def _worker_load(spec: PortfolioSpec, chunk: int) -> LoadReport:
    """Generate one chunk and write it (in a worker process, with its own connection)."""
    assert _worker_engine is not None
    report = LoadReport()
    load_rows(_worker_engine, bundle_rows(generate_chunk(spec, chunk)), report)
    return report


def _secondary_indexes(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [
            (name, sql)
            for name, sql in conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND name LIKE 'ix_%'"
            )
        ]


def load_generated(
    cache: CacheFile,
    spec: PortfolioSpec,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LoadReport:
    """Generate the portfolio of `spec` into an empty cache.

    Worker processes each generate a chunk and write it in their own transaction, so generation
    overlaps the SQLite work on a multi-core machine; secondary indexes are built once at the end,
    which is cheaper than keeping them up to date row by row. `progress(done, total)` hears
    about every chunk written.
    """
    engine = cache.open()
    try:
        with engine.connect() as conn:
            if conn.exec_driver_sql("SELECT count(*) FROM account").scalar_one():
                raise ValueError("load_generated fills an empty cache; this one already has accounts")
        indexes = _secondary_indexes(engine)
        with write_connection(engine) as conn:
            for name, _ in indexes:
                conn.exec_driver_sql(f"DROP INDEX {name}")
        report = LoadReport()
        workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        if workers <= 1 or spec.chunk_count <= 1:
            for chunk in range(spec.chunk_count):
                load_rows(engine, bundle_rows(generate_chunk(spec, chunk)), report)
                if progress:
                    progress(report.accounts, spec.accounts)
        else:
            with ProcessPoolExecutor(max_workers=workers, initializer=_worker_open, initargs=(cache,)) as pool:
                for part in pool.map(_worker_load, [spec] * spec.chunk_count, range(spec.chunk_count)):
                    report.merge(part)
                    if progress:
                        progress(report.accounts, spec.accounts)
        with write_connection(engine) as conn:
            for _, sql in indexes:
                conn.exec_driver_sql(sql)
        with engine.connect() as conn:
            # A bulk load leaves a WAL as large as the data; fold it in and give the space back.
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return report
    finally:
        engine.dispose()


def load_portfolio(engine: Engine, bundles: Iterable[CustomerBundle], batch_customers: int = 5000) -> LoadReport:
    """Insert customers with everything they own, in batches of one transaction each."""
    report = LoadReport()
    pending: list[CustomerBundle] = []
    for bundle in bundles:
        pending.append(bundle)
        if len(pending) >= batch_customers:
            load_rows(engine, bundle_rows(pending), report)
            pending = []
    if pending:
        load_rows(engine, bundle_rows(pending), report)
    return report
