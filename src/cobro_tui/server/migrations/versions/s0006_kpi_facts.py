"""KPI projections: a narrow row per contact attempt and per promise, and attempts counted by hour
(kept with their documents from now on), filled here from the documents already stored.

Revision ID: s0006
Revises: s0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0006"
down_revision = "s0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_facts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("result_code", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contact_facts_started", "contact_facts", ["started_at"], unique=False)
    op.create_table(
        "promise_facts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("deadline", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_promise_facts_created", "promise_facts", ["created_at"], unique=False)
    op.create_index("ix_promise_facts_deadline", "promise_facts", ["deadline"], unique=False)
    op.create_table(
        "contact_hours",
        sa.Column("hour", sa.String(length=13), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("result_code", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "agent", "channel", "result_code"),
    )
    # The documents already stored, projected in batches.
    from cobro_tui.server.facts import backfill

    backfill(op.get_bind(), ("contact_attempt", "promise"))


def downgrade() -> None:
    op.drop_table("contact_hours")
    op.drop_index("ix_promise_facts_deadline", table_name="promise_facts")
    op.drop_index("ix_promise_facts_created", table_name="promise_facts")
    op.drop_table("promise_facts")
    op.drop_index("ix_contact_facts_started", table_name="contact_facts")
    op.drop_table("contact_facts")
