"""Decision snapshots: what the agent saw at each promise, plan or refusal (balances, bucket, the
offer policy's verdict, call-guide steps, the contact-rule decision), kept as evidence.

Revision ID: s0005
Revises: s0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0005"
down_revision = "s0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("mutation_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("taken_at", sa.String(length=40), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("mutation_id"),
    )
    op.create_index("ix_decisions_account", "decisions", ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_decisions_account", table_name="decisions")
    op.drop_table("decisions")
