"""Cache schema: customers, accounts, contacts, promises, plans, outbox, audit chain

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('hash')
    )
    op.create_table('customer',
    sa.Column('sync_state', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('server_version', sa.Integer(), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('rfc', sqlmodel.sql.sqltypes.AutoString(length=13), nullable=False),
    sa.Column('curp', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('outbox',
    sa.Column('mutation_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('client_seq', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('args_json', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('occurred_at_client', sa.String(length=32), nullable=False),
    sa.Column('monotonic_ms', sa.Integer(), nullable=False),
    sa.Column('observed_cursor', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.String(length=32), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('verdict_json', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('server_seq', sa.Integer(), nullable=True),
    sa.Column('acknowledged_by_agent', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('mutation_id'),
    sa.UniqueConstraint('client_seq', name='uq_outbox_client_seq')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_state', ['state', 'client_seq'], unique=False)

    op.create_table('sync_meta',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('device_epoch', sa.Integer(), nullable=False),
    sa.Column('agent_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('cursor', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('server_epoch', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('last_pull_server_time', sa.String(length=32), nullable=True),
    sa.Column('clock_offset_ms', sa.Integer(), nullable=True),
    sa.Column('next_client_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('account',
    sa.Column('sync_state', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('server_version', sa.Integer(), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('product', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('principal', sa.Integer(), nullable=False),
    sa.Column('interest', sa.Integer(), nullable=False),
    sa.Column('fees', sa.Integer(), nullable=False),
    sa.Column('vat', sa.Integer(), nullable=False),
    sa.Column('past_due', sa.Integer(), nullable=False),
    sa.Column('min_to_cure', sa.Integer(), nullable=False),
    sa.Column('dpd', sa.Integer(), nullable=False),
    sa.Column('bucket', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('risk_segment', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('assigned_agent', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('last_payment_on', sa.Date(), nullable=True),
    sa.Column('last_contact_at', sa.String(length=32), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.create_index('ix_account_customer', ['customer_id'], unique=False)
        batch_op.create_index('ix_account_number', ['number'], unique=False)

    op.create_table('contact_point',
    sa.Column('sync_state', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('server_version', sa.Integer(), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('provenance', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('state_code', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('municipality_code', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('postal_code', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('consent_sms', sa.Boolean(), nullable=False),
    sa.Column('consent_whatsapp', sa.Boolean(), nullable=False),
    sa.Column('consent_email', sa.Boolean(), nullable=False),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.Column('wrong_number', sa.Boolean(), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact_point', schema=None) as batch_op:
        batch_op.create_index('ix_contact_point_customer', ['customer_id'], unique=False)
        batch_op.create_index('ix_contact_point_value', ['value'], unique=False)

    op.create_table('restriction',
    sa.Column('sync_state', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('server_version', sa.Integer(), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('contact_point_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('restriction', schema=None) as batch_op:
        batch_op.create_index('ix_restriction_customer', ['customer_id'], unique=False)

    op.create_table('bucket_history',
    sa.Column('sync_state', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('server_version', sa.Integer(), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('bucket', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('entered_on', sa.Date(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bucket_history', schema=None) as batch_op:
        batch_op.create_index('ix_bucket_history_account', ['account_id', 'entered_on'], unique=False)

    op.create_table('contact_attempt',
    sa.Column('sync_state', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('server_version', sa.Integer(), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('contact_point_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('started_at', sa.String(length=32), nullable=False),
    sa.Column('ended_at', sa.String(length=32), nullable=True),
    sa.Column('result_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('agent', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('problem_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('circumstance', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('script_steps', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_contact_attempt_account', ['account_id', 'started_at'], unique=False)
        batch_op.create_index('ix_contact_attempt_customer', ['customer_id', 'started_at'], unique=False)

    op.create_table('payment',
    sa.Column('sync_state', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('server_version', sa.Integer(), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_account', ['account_id', 'paid_on'], unique=False)

    op.create_table('payment_plan',
    sa.Column('sync_state', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('server_version', sa.Integer(), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('down_payment', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('payment_plan', schema=None) as batch_op:
        batch_op.create_index('ix_payment_plan_account', ['account_id'], unique=False)

    op.create_table('promise',
    sa.Column('sync_state', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('server_version', sa.Integer(), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('paid', sa.Integer(), nullable=True),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('promise', schema=None) as batch_op:
        batch_op.create_index('ix_promise_account', ['account_id', 'status'], unique=False)
        batch_op.create_index('ix_promise_due', ['status', 'due_on'], unique=False)

    op.create_table('reference',
    sa.Column('sync_state', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('server_version', sa.Integer(), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('relationship', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reference', schema=None) as batch_op:
        batch_op.create_index('ix_reference_account', ['account_id'], unique=False)

    op.create_table('plan_installment',
    sa.Column('plan_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['payment_plan.id'], ),
    sa.PrimaryKeyConstraint('plan_id', 'number')
    )


def downgrade() -> None:
    op.drop_table('plan_installment')
    with op.batch_alter_table('reference', schema=None) as batch_op:
        batch_op.drop_index('ix_reference_account')

    op.drop_table('reference')
    with op.batch_alter_table('promise', schema=None) as batch_op:
        batch_op.drop_index('ix_promise_due')
        batch_op.drop_index('ix_promise_account')

    op.drop_table('promise')
    with op.batch_alter_table('payment_plan', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_plan_account')

    op.drop_table('payment_plan')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_account')

    op.drop_table('payment')
    with op.batch_alter_table('contact_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_attempt_customer')
        batch_op.drop_index('ix_contact_attempt_account')

    op.drop_table('contact_attempt')
    with op.batch_alter_table('bucket_history', schema=None) as batch_op:
        batch_op.drop_index('ix_bucket_history_account')

    op.drop_table('bucket_history')
    with op.batch_alter_table('restriction', schema=None) as batch_op:
        batch_op.drop_index('ix_restriction_customer')

    op.drop_table('restriction')
    with op.batch_alter_table('contact_point', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_point_value')
        batch_op.drop_index('ix_contact_point_customer')

    op.drop_table('contact_point')
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_index('ix_account_number')
        batch_op.drop_index('ix_account_customer')

    op.drop_table('account')
    op.drop_table('sync_meta')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_state')

    op.drop_table('outbox')
    op.drop_table('customer')
    op.drop_table('audit_event')
