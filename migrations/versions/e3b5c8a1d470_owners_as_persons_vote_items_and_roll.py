"""Owners as persons (person, ownership; the developer's units and the area source on the
household), votes with several items (vote_item, ballot_choice), the vote's roll fixed at opening
(vote_roll) and the formation's election vote.

Existing data: every existing vote gets one item (its title, its stored result) and every ballot
its choice on it; every household with an owner name gets one person of its own ("hh:<id>") —
names alone cannot tell two owners apart, so no two units are merged; none is the developer's.

Revision ID: e3b5c8a1d470
Revises: b5d2e8a1c7f4
Create Date: 2026-12-06 11:38:53.279591

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3b5c8a1d470'
down_revision = 'b5d2e8a1c7f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('identity_key', sa.String(length=80), nullable=False),
    sa.Column('id_masked', sa.String(length=20), nullable=False),
    sa.Column('phone_masked', sa.String(length=20), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_person_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('tenant_id', 'identity_key', name=op.f('uq_person_tenant_id_identity_key'))
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('ownership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('share', sa.String(length=10), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_ownership_household_id_household')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_ownership_person_id_person')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_ownership_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ownership'))
    )
    with op.batch_alter_table('ownership', schema=None) as batch_op:
        batch_op.create_index('ix_ownership_unit', ['household_id', 'tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ownership_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ownership_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('vote_roll',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('area_centi', sa.BigInteger(), nullable=False),
    sa.Column('head', sa.String(length=24), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_vote_roll_household_id_household')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_vote_roll_tenant_id_tenant')),
    sa.ForeignKeyConstraint(['vote_id'], ['owner_vote.id'], name=op.f('fk_vote_roll_vote_id_owner_vote')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vote_roll')),
    sa.UniqueConstraint('vote_id', 'household_id', name=op.f('uq_vote_roll_vote_id_household_id'))
    )
    with op.batch_alter_table('vote_roll', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vote_roll_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vote_roll_vote_id'), ['vote_id'], unique=False)

    op.create_table('vote_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_vote_item_candidate_id_candidate'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_vote_item_tenant_id_tenant')),
    sa.ForeignKeyConstraint(['vote_id'], ['owner_vote.id'], name=op.f('fk_vote_item_vote_id_owner_vote')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vote_item')),
    sa.UniqueConstraint('vote_id', 'position', name=op.f('uq_vote_item_vote_id_position'))
    )
    with op.batch_alter_table('vote_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vote_item_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vote_item_vote_id'), ['vote_id'], unique=False)

    op.create_table('ballot_choice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.String(length=10), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], name=op.f('fk_ballot_choice_ballot_id_ballot')),
    sa.ForeignKeyConstraint(['item_id'], ['vote_item.id'], name=op.f('fk_ballot_choice_item_id_vote_item')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_ballot_choice_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_choice')),
    sa.UniqueConstraint('ballot_id', 'item_id', name=op.f('uq_ballot_choice_ballot_id_item_id'))
    )
    with op.batch_alter_table('ballot_choice', schema=None) as batch_op:
        batch_op.create_index('ix_ballot_choice_ballot', ['ballot_id', 'tenant_id'], unique=False)
        batch_op.create_index('ix_ballot_choice_item', ['item_id', 'tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ballot_choice_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('formation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vote_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_formation_vote_id_owner_vote'), 'owner_vote', ['vote_id'], ['id'])

    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.add_column(sa.Column('developer_held', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('area_source', sa.String(length=10), server_default='registry', nullable=False))

    with op.batch_alter_table('owner_vote', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roll_on', sa.Date(), nullable=True))

    op.execute("INSERT INTO vote_item (tenant_id, vote_id, position, title, result, passed) "
               "SELECT tenant_id, id, 1, title, result, passed FROM owner_vote")
    op.execute("INSERT INTO ballot_choice (tenant_id, ballot_id, item_id, choice) "
               "SELECT b.tenant_id, b.id, i.id, b.choice FROM ballot b JOIN vote_item i ON i.vote_id = b.vote_id")
    op.execute("INSERT INTO person (tenant_id, name, identity_key, id_masked, phone_masked) "
               "SELECT tenant_id, owner_name, 'hh:' || CAST(id AS VARCHAR(20)), '', phone_masked "
               "FROM household WHERE owner_name <> ''")
    op.execute("INSERT INTO ownership (tenant_id, household_id, person_id, share) "
               "SELECT h.tenant_id, h.id, p.id, '单独所有' FROM household h JOIN person p "
               "ON p.tenant_id = h.tenant_id AND p.identity_key = 'hh:' || CAST(h.id AS VARCHAR(20))")


def downgrade():
    with op.batch_alter_table('owner_vote', schema=None) as batch_op:
        batch_op.drop_column('roll_on')

    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_column('area_source')
        batch_op.drop_column('developer_held')

    with op.batch_alter_table('formation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_formation_vote_id_owner_vote'), type_='foreignkey')
        batch_op.drop_column('vote_id')

    with op.batch_alter_table('ballot_choice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_choice_tenant_id'))
        batch_op.drop_index('ix_ballot_choice_item')
        batch_op.drop_index('ix_ballot_choice_ballot')

    op.drop_table('ballot_choice')
    with op.batch_alter_table('vote_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vote_item_vote_id'))
        batch_op.drop_index(batch_op.f('ix_vote_item_tenant_id'))

    op.drop_table('vote_item')
    with op.batch_alter_table('vote_roll', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vote_roll_vote_id'))
        batch_op.drop_index(batch_op.f('ix_vote_roll_tenant_id'))

    op.drop_table('vote_roll')
    with op.batch_alter_table('ownership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ownership_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_ownership_person_id'))
        batch_op.drop_index('ix_ownership_unit')

    op.drop_table('ownership')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_tenant_id'))

    op.drop_table('person')
