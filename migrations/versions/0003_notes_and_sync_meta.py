"""Notes on accounts, and where this cache syncs from (server URL, last sync).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "note",
        sa.Column("sync_state", sa.String(length=24), nullable=False),
        sa.Column("server_version", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("note") as batch_op:
        batch_op.create_index("ix_note_account", ["account_id"], unique=False)
    with op.batch_alter_table("sync_meta") as batch_op:
        batch_op.add_column(sa.Column("server_url", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("last_sync_at", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("last_sync_error", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_meta") as batch_op:
        batch_op.drop_column("last_sync_error")
        batch_op.drop_column("last_sync_at")
        batch_op.drop_column("server_url")
    op.drop_table("note")
