"""Alembic environment for the reference server's database."""

from __future__ import annotations

from alembic import context

from cobro_tui.server.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("server migrations run through cobro_tui.server.db.migrate")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
