"""Compliance exceptions keep the contact-rule decision behind them (which rules blocked, which rule
set, config hash and tz database version), so a reviewer sees why a contact was flagged.

Revision ID: s0003
Revises: s0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0003"
down_revision = "s0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("compliance_exceptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("compliance_exceptions", schema=None) as batch_op:
        batch_op.drop_column("details")
