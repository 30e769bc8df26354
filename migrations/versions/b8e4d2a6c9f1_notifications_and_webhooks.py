"""notifications (inbox, preferences, templates, provider settings, outbox) and webhooks
(subscriptions, deliveries)

Revision ID: b8e4d2a6c9f1
Revises: 8b0c5e7cece2
Create Date: 2026-12-06 23:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'b8e4d2a6c9f1'
down_revision = '8b0c5e7cece2'
branch_labels = None
depends_on = None

TABLES = ['inbox_item', 'notify_preference', 'message_template', 'provider_config', 'outbox_message',
          'webhook_subscription', 'webhook_delivery']


def _tenant():
    return [sa.Column('tenant_id', sa.Integer(), nullable=False), sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'])]


def upgrade():
    op.create_table(
        'inbox_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('membership_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.String(length=500), nullable=False),
        sa.Column('subject', sa.String(length=30), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=True),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        *_tenant(),
        sa.ForeignKeyConstraint(['membership_id'], ['membership.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['event_id'], ['domain_event.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('membership_id', 'key'),
    )
    op.create_table(
        'notify_preference',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('membership_id', sa.Integer(), nullable=False),
        sa.Column('sms_kinds', sa.JSON(), nullable=False),
        sa.Column('wechat_kinds', sa.JSON(), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('wechat_openid', sa.String(length=64), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        *_tenant(),
        sa.ForeignKeyConstraint(['membership_id'], ['membership.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('membership_id'),
    )
    op.create_table(
        'message_template',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('text', sa.String(length=300), nullable=False),
        sa.Column('sms_template_code', sa.String(length=40), nullable=False),
        sa.Column('wechat_template_id', sa.String(length=64), nullable=False),
        *_tenant(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'kind'),
    )
    op.create_table(
        'provider_config',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('provider', sa.String(length=10), nullable=False),
        sa.Column('endpoint', sa.String(length=300), nullable=False),
        sa.Column('key_id', sa.String(length=100), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=False),
        sa.Column('sign_name', sa.String(length=40), nullable=False),
        sa.Column('rate_per_minute', sa.Integer(), nullable=False),
        sa.Column('quiet_start', sa.Integer(), nullable=False),
        sa.Column('quiet_end', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        *_tenant(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'channel'),
    )
    op.create_table(
        'outbox_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('idem_key', sa.String(length=120), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('recipient', sa.String(length=64), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('body', sa.String(length=500), nullable=False),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('membership_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_at', sa.DateTime(), nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('provider', sa.String(length=10), nullable=False),
        sa.Column('provider_ref', sa.String(length=100), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        *_tenant(),
        sa.ForeignKeyConstraint(['membership_id'], ['membership.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'idem_key'),
    )
    op.create_table(
        'webhook_subscription',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('kinds', sa.JSON(), nullable=False),
        sa.Column('secret', sa.String(length=80), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        *_tenant(),
        sa.ForeignKeyConstraint(['client_id'], ['api_client.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'webhook_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uid', sa.String(length=40), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_at', sa.DateTime(), nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('response_code', sa.Integer(), nullable=True),
        sa.Column('response_excerpt', sa.String(length=300), nullable=False),
        sa.Column('last_error', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('delivered_at', sa.DateTime(), nullable=True),
        *_tenant(),
        sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscription.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['event_id'], ['domain_event.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('subscription_id', 'event_id'),
        sa.UniqueConstraint('uid'),
    )
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_tenant_id'), ['tenant_id'], unique=False)
    with op.batch_alter_table('inbox_item', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_item_unread', ['membership_id', 'read_at'], unique=False)
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_due', ['status', 'next_at'], unique=False)
    with op.batch_alter_table('webhook_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_subscription_client_id'), ['client_id'], unique=False)
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_delivery_due', ['status', 'next_at'], unique=False)
        batch_op.create_index('ix_webhook_delivery_sub', ['subscription_id', 'id'], unique=False)
    from rls import wall
    for table in TABLES:
        wall(table)


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
