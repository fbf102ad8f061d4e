"""Alembic environment for the workstation cache. Run through `cobro_tui.store.migrate`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import cobro_tui.store.tables  # noqa: F401  (registers the tables on the metadata)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("migrations run through cobro_tui.store.migrate, which passes the connection")
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported for the cache")
run_migrations_online()
