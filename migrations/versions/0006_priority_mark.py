"""What the stored queue scores were made from: the sync cursor at the time, so a start with nothing
new need not score every account again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_meta") as batch_op:
        batch_op.add_column(sa.Column("priority_cursor", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_meta") as batch_op:
        batch_op.drop_column("priority_cursor")
