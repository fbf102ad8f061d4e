"""Each account's next allowed contact instant and the end of its current window, kept by the
contact rules so the queue can show and filter who is callable now; and the reason a supervisor
gave for a contact made although the rules blocked it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account") as batch_op:
        batch_op.add_column(sa.Column("contact_from", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("contact_until", sa.String(), nullable=True))
    with op.batch_alter_table("contact_attempt") as batch_op:
        batch_op.add_column(sa.Column("override_reason", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contact_attempt") as batch_op:
        batch_op.drop_column("override_reason")
    with op.batch_alter_table("account") as batch_op:
        batch_op.drop_column("contact_until")
        batch_op.drop_column("contact_from")
