"""Sync health: each workstation says, when it reads its changes, how many items wait to be sent
and since when.

Revision ID: s0008
Revises: s0007
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0008"
down_revision = "s0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_items", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("oldest_pending_at", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_clients", schema=None) as batch_op:
        batch_op.drop_column("oldest_pending_at")
        batch_op.drop_column("pending_items")
