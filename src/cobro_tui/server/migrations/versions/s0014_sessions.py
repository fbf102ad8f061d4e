"""Sessions a bank's security review accepts (issue #14): lockout and disabling on users, when and
where each token was issued, failed sign-ins per address, and integration credentials.

Revision ID: s0014
Revises: s0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0014"
down_revision = "s0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("disabled_at", sa.String(length=40), nullable=True))
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("created_at", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("source", sa.String(length=64), nullable=True))
    op.create_table(
        "login_throttle",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.String(length=40), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )
    op.create_table(
        "integration_keys",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=256), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("revoked_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("integration_keys")
    op.drop_table("login_throttle")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("source")
        batch.drop_column("created_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled_at")
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
