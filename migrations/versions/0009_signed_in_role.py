"""The role of the user who signed in on this workstation (agent, supervisor, manager): a
supervisor's workstation opens the approvals inbox instead of a portfolio.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_meta") as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(length=16), server_default="agent", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("sync_meta") as batch_op:
        batch_op.drop_column("role")
