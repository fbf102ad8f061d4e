"""Queue priority: a score per account kept in an indexed column, and the day it was computed for.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account") as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index("ix_account_priority", ["assigned_agent", "priority", "dpd", "id"], unique=False)
    with op.batch_alter_table("sync_meta") as batch_op:
        batch_op.add_column(sa.Column("priority_day", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_meta") as batch_op:
        batch_op.drop_column("priority_day")
    with op.batch_alter_table("account") as batch_op:
        batch_op.drop_index("ix_account_priority")
        batch_op.drop_column("priority")
