"""KPI projections of the portfolio: each account's bucket, balance and opening day, and its bucket
history (aging, roll rates, vintage curves), filled here from the documents already stored.

Revision ID: s0009
Revises: s0008
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0009"
down_revision = "s0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_facts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("opened_on", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_account_facts_agent", "account_facts", ["agent"], unique=False)
    op.create_table(
        "bucket_facts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("entered_on", sa.String(length=10), nullable=False),
        sa.Column("left_on", sa.String(length=10), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bucket_facts_account", "bucket_facts", ["account_id"], unique=False)
    from cobro_tui.server.facts import backfill

    backfill(op.get_bind(), ("account", "bucket_history"))


def downgrade() -> None:
    op.drop_index("ix_bucket_facts_account", table_name="bucket_facts")
    op.drop_table("bucket_facts")
    op.drop_index("ix_account_facts_agent", table_name="account_facts")
    op.drop_table("account_facts")
