"""The change export for the core and the CRM (issue #16): export_events, one row per business
event, numbered from the change feed's counter (seq order is commit order).

Revision ID: s0018_export_events
Revises: s0016
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0018_export_events"
down_revision = "s0019_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_events",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_export_events_at", "export_events", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_export_events_at", table_name="export_events")
    op.drop_table("export_events")
