"""Agreements of three kinds in the payment_plan table: a plan, a settlement (with what it
forgives) or a restructure.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment_plan") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="plan", nullable=False))
        batch_op.add_column(sa.Column("forgiven", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment_plan") as batch_op:
        batch_op.drop_column("forgiven")
        batch_op.drop_column("kind")
