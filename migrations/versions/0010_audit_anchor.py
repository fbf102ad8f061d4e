"""The audit chain anchored on the server (issue #14): the head the server last acknowledged keeping,
when, and its word when it refused the chain.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_meta") as batch_op:
        batch_op.add_column(sa.Column("audit_acked_seq", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("audit_acked_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("audit_acked_at", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("audit_alarm", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_meta") as batch_op:
        batch_op.drop_column("audit_alarm")
        batch_op.drop_column("audit_acked_at")
        batch_op.drop_column("audit_acked_hash")
        batch_op.drop_column("audit_acked_seq")
