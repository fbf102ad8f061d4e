"""The portfolio import (issue #16, docs/import.md): the row each record last came from, accounts
closed by the core, and the import runs with the accounts a full run named.

Revision ID: s0017_portfolio_import
Revises: s0016
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0017_portfolio_import"
down_revision = "s0021_payment_import"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_rows",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("sha", sa.String(length=32), nullable=False),
        sa.Column("warnings", sa.Text(), nullable=True),
        sa.Column("extra", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    op.create_index("ix_import_rows_entity", "import_rows", ["entity_id"])
    op.create_table(
        "account_closures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("closed_on", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("reopened_on", sa.String(length=10), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_account_closures_account", "account_closures", ["account_id", "reopened_on"])
    op.create_table(
        "import_runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("full", sa.Integer(), nullable=False),
        sa.Column("close_missing", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.Column("finished_at", sa.String(length=40), nullable=True),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("closed_missing", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "import_seen",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "account_id"),
    )


def downgrade() -> None:
    op.drop_table("import_seen")
    op.drop_table("import_runs")
    op.drop_index("ix_account_closures_account", table_name="account_closures")
    op.drop_table("account_closures")
    op.drop_index("ix_import_rows_entity", table_name="import_rows")
    op.drop_table("import_rows")
