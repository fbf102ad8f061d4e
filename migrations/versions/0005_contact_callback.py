"""Callbacks: the moment a contact attempt asks to call back (UTC instant).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contact_attempt") as batch_op:
        batch_op.add_column(sa.Column("callback_at", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contact_attempt") as batch_op:
        batch_op.drop_column("callback_at")
