"""Card numbers truncated (issue #14, PCI DSS 3.4.1): a cache keeps no more of a card number than its
first six and last four digits. Caches synced before this held the full number; any account number of
13 to 19 digits is cut to that form here (the rule of cobro_tui.domain.cards.holdable_number, written
out so that this migration stays what it was when later code changes).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""
from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE account SET number = substr(number, 1, 6) || substr('*********', 1, length(number) - 10) "
        "|| substr(number, -4) WHERE length(number) BETWEEN 13 AND 19 AND number NOT GLOB '*[^0-9]*'"
    )


def downgrade() -> None:
    pass  # the digits removed are gone; the core keeps them
