"""Per-account deferral (sync-protocol B4): a later offer or cancellation of the same agent on an
account with a command waiting for approval waits too (status `blocked`), with the instant the agent
acted; found by account and agent.

Revision ID: s0012
Revises: s0011
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0012"
down_revision = "s0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("approvals") as batch:
        batch.add_column(sa.Column("occurred_at", sa.String(length=40), nullable=True))
    op.create_index("ix_approvals_account", "approvals", ["account_id", "agent"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_approvals_account", table_name="approvals")
    with op.batch_alter_table("approvals") as batch:
        batch.drop_column("occurred_at")
