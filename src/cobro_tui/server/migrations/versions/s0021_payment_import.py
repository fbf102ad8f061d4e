"""The bank's payments file names accounts by number (issue #16): `account_keys` maps
portfolio_ids.account_id(number) to the id of an account that was not imported under it (the demo's).

Accounts already stored are filled in where the server kept the number whole (a card's number is
kept truncated, so a card account made before this revision is found by its id only).

Revision ID: s0021
Revises: s0016
Create Date: 2026-12-04
"""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
from alembic import op

revision = "s0021_payment_import"
down_revision = "s0018_export_events"
branch_labels = None
depends_on = None

# portfolio_ids.NAMESPACE, written out: a migration does not change when the code moves on.
_NAMESPACE = uuid.UUID("6f1c2b7e-3a55-5d7e-9c1a-4b2f0e6d8a10")
_BATCH = 5000


def upgrade() -> None:
    keys = op.create_table(
        "account_keys",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    conn = op.get_bind()
    after, seen = "", set[str]()
    while True:
        rows = conn.execute(
            sa.text("SELECT id, data FROM entities WHERE kind = 'account' AND id > :after ORDER BY id LIMIT :limit"),
            {"after": after, "limit": _BATCH},
        ).all()
        if not rows:
            break
        found: dict[str, str] = {}
        for account_id, data in rows:
            number = json.loads(data).get("number", "")
            if not number or "*" in number:
                continue  # a truncated card number names no account by itself
            key = str(uuid.uuid5(_NAMESPACE, "account:" + number))
            if key != account_id and key not in seen:
                seen.add(key)  # the first account of a number wins, as on the seed's way in
                found[key] = account_id
        if found:
            op.bulk_insert(keys, [{"key": k, "account_id": a} for k, a in found.items()])
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_table("account_keys")
