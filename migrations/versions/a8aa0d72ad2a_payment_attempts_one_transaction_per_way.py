"""payment attempts: one transaction per way of paying an order (Native, JSAPI, H5)

Revision ID: a8aa0d72ad2a
Revises: a43c6123cd0a
Create Date: 2026-11-30 02:31:14.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a8aa0d72ad2a'
down_revision = 'a43c6123cd0a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payment_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('out_trade_no', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('code_url', sa.String(length=200), nullable=True),
    sa.Column('prepay_id', sa.String(length=64), nullable=True),
    sa.Column('h5_url', sa.String(length=512), nullable=True),
    sa.Column('transaction_id', sa.String(length=40), nullable=True),
    sa.Column('refund_no', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('paid_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('refunded_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payment_attempt_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_attempt')),
    sa.UniqueConstraint('out_trade_no', name=op.f('uq_payment_attempt_out_trade_no')),
    sa.UniqueConstraint('refund_no', name=op.f('uq_payment_attempt_refund_no'))
    )
    with op.batch_alter_table('payment_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_attempt_order_id'), ['order_id'], unique=False)

    # The Native transactions orders already have (out_trade_no = the order number): closing, refunding and
    # mapping notifications now go through this table.
    op.execute("""
        INSERT INTO payment_attempt (order_id, method, out_trade_no, status, code_url, transaction_id,
                                     created_at, paid_at, closed_at)
        SELECT id, 'native', number,
               CASE WHEN status = 'pending' THEN 'open' WHEN status = 'closed' THEN 'closed' ELSE 'paid' END,
               code_url, transaction_id, created_at, paid_at, closed_at
        FROM orders WHERE code_url IS NOT NULL
    """)


def downgrade():
    with op.batch_alter_table('payment_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_attempt_order_id'))

    op.drop_table('payment_attempt')
