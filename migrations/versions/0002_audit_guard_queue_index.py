"""Audit chain made append-only (triggers) and the queue's keyset index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The app never edits or deletes audit events; these stop a bug from doing it by accident.
    # They do not stop someone with the key: the hash chain is what detects that.
    op.execute(
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
    )
    with op.batch_alter_table("account") as batch_op:
        batch_op.create_index("ix_account_queue", ["assigned_agent", "dpd", "past_due", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("account") as batch_op:
        batch_op.drop_index("ix_account_queue")
    op.execute("DROP TRIGGER audit_event_no_delete")
    op.execute("DROP TRIGGER audit_event_no_update")
