"""KPI projection of the payments received (amount recovered against the team's target), filled
here from the payments already stored.

Revision ID: s0010
Revises: s0009
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0010"
down_revision = "s0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_facts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # Covering: the amount recovered is summed from the index alone.
    op.create_index("ix_payment_facts_paid_on", "payment_facts", ["paid_on", "agent", "amount"], unique=False)
    from cobro_tui.server.facts import backfill

    backfill(op.get_bind(), ("payment",))


def downgrade() -> None:
    op.drop_index("ix_payment_facts_paid_on", table_name="payment_facts")
    op.drop_table("payment_facts")
