"""back office: product workflow, rate tables, agreement review, offer cities

Existing products become approved and on sale from their launch day, each with one approved rate table
(in force from the same day) holding its rows; applications keep that table; published agreement versions
stay published.

Revision ID: 77fcbcf5af32
Revises: 2224d8519548
Create Date: 2026-11-30 04:30:45.487024

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '77fcbcf5af32'
down_revision = '2224d8519548'
branch_labels = None
depends_on = None


def _launch(column):
    """A product's launch day as the timestamp the new columns hold."""
    if op.get_bind().dialect.name == "sqlite":
        return f"({column} || ' 00:00:00.000000')"
    return f"CAST({column} AS TIMESTAMP)"


def upgrade():
    op.create_table('rate_table',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('source_name', sa.String(length=120), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('price_from_fen', sa.Integer(), nullable=False),
    sa.Column('prepared_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('review_note', sa.String(length=200), nullable=False),
    sa.Column('effective_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('reviewed_by_id IS NULL OR prepared_by_id IS NULL OR reviewed_by_id <> prepared_by_id', name=op.f('ck_rate_table_maker_checker')),
    sa.ForeignKeyConstraint(['prepared_by_id'], ['admin_staff.id'], name=op.f('fk_rate_table_prepared_by_id_admin_staff')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_rate_table_product_id_product')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['admin_staff.id'], name=op.f('fk_rate_table_reviewed_by_id_admin_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_table'))
    )
    with op.batch_alter_table('rate_table', schema=None) as batch_op:
        batch_op.create_index('ix_rate_table_in_force', ['product_id', 'state', 'effective_at'], unique=False)

    with op.batch_alter_table('agreement_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=10), nullable=False, server_default='published'))
        batch_op.add_column(sa.Column('prepared_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_agreement_version_reviewed_by_id_admin_staff'), 'admin_staff', ['reviewed_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_agreement_version_prepared_by_id_admin_staff'), 'admin_staff', ['prepared_by_id'], ['id'])
        batch_op.create_check_constraint(op.f('ck_agreement_version_maker_checker'), 'reviewed_by_id IS NULL OR prepared_by_id IS NULL OR reviewed_by_id <> prepared_by_id')

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rate_table_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_application_rate_table_id_rate_table'), 'rate_table', ['rate_table_id'], ['id'])

    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cities', sa.String(length=200), nullable=False, server_default=''))

    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=10), nullable=False, server_default='approved'))
        batch_op.add_column(sa.Column('prepared_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('published_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(), nullable=True))
    op.execute(f"UPDATE product SET published_at = CASE WHEN is_active THEN {_launch('launched_on')} END")
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_listing'))
        batch_op.create_index('ix_product_listing', ['published_at', 'category_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_product_prepared_by_id_admin_staff'), 'admin_staff', ['prepared_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_product_reviewed_by_id_admin_staff'), 'admin_staff', ['reviewed_by_id'], ['id'])
        batch_op.create_check_constraint(op.f('ck_product_maker_checker'), 'reviewed_by_id IS NULL OR prepared_by_id IS NULL OR reviewed_by_id <> prepared_by_id')
        batch_op.drop_column('is_active')

    op.execute(f"""
        INSERT INTO rate_table (product_id, state, source_name, note, price_from_fen, created_at, review_note,
                                effective_at)
        SELECT id, 'approved', '', '上线时的费率表', price_from_fen, {_launch('launched_on')}, '', {_launch('launched_on')}
        FROM product WHERE EXISTS (SELECT 1 FROM plan JOIN rate_row ON rate_row.plan_id = plan.id
                                   WHERE plan.product_id = product.id)""")
    with op.batch_alter_table('rate_row', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rate_table_id', sa.Integer(), nullable=True))
    op.execute("""
        UPDATE rate_row SET rate_table_id = (
            SELECT rate_table.id FROM rate_table JOIN plan ON plan.product_id = rate_table.product_id
            WHERE plan.id = rate_row.plan_id)""")
    op.execute("UPDATE application SET rate_table_id = (SELECT id FROM rate_table "
               "WHERE rate_table.product_id = application.product_id)")
    with op.batch_alter_table('rate_row', schema=None) as batch_op:
        batch_op.alter_column('rate_table_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_rate_row_plan_id'), type_='unique')
        batch_op.create_index(batch_op.f('ix_rate_row_rate_table_id'), ['rate_table_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_rate_row_rate_table_id'), ['rate_table_id', 'plan_id', 'age_min', 'gender', 'social_security'])
        batch_op.create_foreign_key(batch_op.f('fk_rate_row_rate_table_id_rate_table'), 'rate_table', ['rate_table_id'], ['id'], ondelete='CASCADE')



def downgrade():
    # Only the tables in force survive a downgrade (the others' rows would break the old unique constraint).
    op.execute("UPDATE application SET rate_table_id = NULL")
    op.execute("""
        DELETE FROM rate_row WHERE rate_table_id <> (
            SELECT t.id FROM rate_table t JOIN plan ON plan.product_id = t.product_id
            WHERE plan.id = rate_row.plan_id AND t.state = 'approved'
            ORDER BY t.effective_at DESC, t.id DESC LIMIT 1)""")
    with op.batch_alter_table('rate_row', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_rate_row_rate_table_id_rate_table'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_rate_row_rate_table_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_rate_row_rate_table_id'))
        batch_op.create_unique_constraint(batch_op.f('uq_rate_row_plan_id'), ['plan_id', 'age_min', 'gender', 'social_security'])
        batch_op.drop_column('rate_table_id')

    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_active', sa.BOOLEAN(), nullable=False, server_default=sa.true()))
        batch_op.drop_constraint(batch_op.f('ck_product_maker_checker'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_product_reviewed_by_id_admin_staff'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_product_prepared_by_id_admin_staff'), type_='foreignkey')
        batch_op.drop_index('ix_product_listing')
        batch_op.create_index(batch_op.f('ix_product_listing'), ['is_active', 'category_id'], unique=False)
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('published_at')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('reviewed_by_id')
        batch_op.drop_column('submitted_at')
        batch_op.drop_column('prepared_by_id')
        batch_op.drop_column('state')

    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.drop_column('cities')

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_application_rate_table_id_rate_table'), type_='foreignkey')
        batch_op.drop_column('rate_table_id')

    with op.batch_alter_table('agreement_version', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_agreement_version_maker_checker'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_agreement_version_prepared_by_id_admin_staff'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_agreement_version_reviewed_by_id_admin_staff'), type_='foreignkey')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('reviewed_by_id')
        batch_op.drop_column('submitted_at')
        batch_op.drop_column('prepared_by_id')
        batch_op.drop_column('state')

    with op.batch_alter_table('rate_table', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_table_in_force')

    op.drop_table('rate_table')
