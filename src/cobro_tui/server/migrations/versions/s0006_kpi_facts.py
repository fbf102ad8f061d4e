"""KPI projections: a narrow row per contact attempt and per promise, and attempts counted by hour
(kept with their documents from now on), filled here from the documents already stored.

Revision ID: s0006
Revises: s0005
Create Date: 2026-11-22
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = 's0006'
down_revision = 's0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'contact_facts',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('agent', sa.String(length=64), nullable=False),
        sa.Column('account_id', sa.String(length=64), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('result_code', sa.String(length=16), nullable=False),
        sa.Column('started_at', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_contact_facts_started', 'contact_facts', ['started_at'], unique=False)
    op.create_table(
        'promise_facts',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('agent', sa.String(length=64), nullable=False),
        sa.Column('account_id', sa.String(length=64), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('paid', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.String(length=40), nullable=False),
        sa.Column('deadline', sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_promise_facts_created', 'promise_facts', ['created_at'], unique=False)
    op.create_index('ix_promise_facts_deadline', 'promise_facts', ['deadline'], unique=False)
    op.create_table(
        'contact_hours',
        sa.Column('hour', sa.String(length=13), nullable=False),
        sa.Column('agent', sa.String(length=64), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('result_code', sa.String(length=16), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('hour', 'agent', 'channel', 'result_code'),
    )
    # The documents already stored: projected in batches (portable: no JSON functions of one database).
    from cobro_tui.server.facts import project_many

    conn = op.get_bind()
    entities = sa.table('entities', sa.column('kind'), sa.column('id'), sa.column('agent'), sa.column('account_id'),
                        sa.column('data'))
    query = sa.select(entities.c.kind, entities.c.id, entities.c.agent, entities.c.account_id, entities.c.data).where(
        entities.c.kind.in_(('contact_attempt', 'promise')))
    batch = []
    for kind, entity_id, agent, account_id, data in conn.execute(query):
        batch.append((kind, entity_id, agent, account_id, json.loads(data)))
        if len(batch) >= 5000:
            project_many(conn, batch)
            batch = []
    if batch:
        project_many(conn, batch)


def downgrade() -> None:
    op.drop_table('contact_hours')
    op.drop_index('ix_promise_facts_deadline', table_name='promise_facts')
    op.drop_index('ix_promise_facts_created', table_name='promise_facts')
    op.drop_table('promise_facts')
    op.drop_index('ix_contact_facts_started', table_name='contact_facts')
    op.drop_table('contact_facts')
