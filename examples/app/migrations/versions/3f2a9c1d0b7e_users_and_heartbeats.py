"""users and worker heartbeats

Revision ID: 3f2a9c1d0b7e
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = '3f2a9c1d0b7e'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'users',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('username', sa.String(200), nullable=False, unique=True),
        sa.Column('password_hash', sa.String(300), nullable=False),
    )
    op.create_table(
        'heartbeats',
        sa.Column('worker', sa.String(100), primary_key=True),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade():
    op.drop_table('heartbeats')
    op.drop_table('users')
