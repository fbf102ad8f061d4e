"""Card numbers truncated on the server too (issue #14, PCI DSS 3.4.1): the core keeps the full number;
the server keeps, and sends, its first six and last four digits only. Account documents stored before
this, and the change rows that carried them, are cut to that form (any account number of 13 to 19
digits: the rule of cobro_tui.domain.cards.holdable_number, written out here so this migration stays
what it was).

Revision ID: s0016
Revises: s0015
Create Date: 2026-12-02
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "s0016"
down_revision = "s0015"
branch_labels = None
depends_on = None

BATCH = 2000


def _holdable(number: object) -> object:
    if isinstance(number, str) and number.isascii() and number.isdigit() and 13 <= len(number) <= 19:
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    return number


def _truncated(text: str | None) -> str | None:
    """The document with its number cut, or None when there was nothing to cut."""
    if text is None:
        return None
    data = json.loads(text)
    if not isinstance(data, dict) or _holdable(data.get("number")) == data.get("number"):
        return None
    data["number"] = _holdable(data["number"])
    return json.dumps(data, ensure_ascii=False)


def _rewrite(conn: sa.Connection, select_sql: str, update_sql: str, start: object) -> None:
    """Rewrite in batches by key (after `start`), so a large portfolio is never held in memory at once."""
    after = start
    while True:
        rows = conn.execute(sa.text(select_sql), {"after": after, "limit": BATCH}).all()
        if not rows:
            return
        changed = [{"key": key, "text": text} for key, payload in rows if (text := _truncated(payload)) is not None]
        if changed:
            conn.execute(sa.text(update_sql), changed)
        after = rows[-1][0]


def upgrade() -> None:
    conn = op.get_bind()
    _rewrite(
        conn,
        "SELECT id, data FROM entities WHERE kind = 'account' AND id > :after ORDER BY id LIMIT :limit",
        "UPDATE entities SET data = :text WHERE kind = 'account' AND id = :key",
        "",
    )
    _rewrite(
        conn,
        "SELECT seq, payload FROM change_log WHERE kind = 'account' AND seq > :after ORDER BY seq LIMIT :limit",
        "UPDATE change_log SET payload = :text WHERE seq = :key",
        -1,
    )


def downgrade() -> None:
    pass  # the digits removed are gone; the core keeps them
