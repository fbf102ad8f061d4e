"""The server decides (issue #14): who held each account when (assignment_history, filled from the
accounts and the revokes already in the change feed), and the security events.

Revision ID: s0013
Revises: s0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0013"
down_revision = "s0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignment_history",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("held_from", sa.String(length=40), nullable=False),
        sa.Column("held_until", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_assignment_history_account", "assignment_history", ["account_id", "agent"], unique=False)
    op.create_table(
        "security_events",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.String(length=128), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_security_events_at", "security_events", ["at"], unique=False)
    from cobro_tui.server.holdings import backfill

    backfill(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_security_events_at", table_name="security_events")
    op.drop_table("security_events")
    op.drop_index("ix_assignment_history_account", table_name="assignment_history")
    op.drop_table("assignment_history")
