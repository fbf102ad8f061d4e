"""People (issue #16): teams as their own rows, a one-time password that must be changed at the next
sign-in, and when each user last signed in and was made. The teams users already name become rows.

Revision ID: s0019_people
Revises: s0016
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0019_people"
down_revision = "s0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("last_login_at", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("created_at", sa.String(length=40), nullable=True))
    op.create_table(
        "teams",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.execute("INSERT INTO teams (name) SELECT DISTINCT team FROM users")


def downgrade() -> None:
    op.drop_table("teams")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("created_at")
        batch.drop_column("last_login_at")
        batch.drop_column("must_change_password")
