"""Database access: SQLAlchemy straight from DATABASE_URL (postgresql://...?sslmode=require)."""
import sqlalchemy as sa

from . import settings

metadata = sa.MetaData()
users = sa.Table(
    'users', metadata,
    sa.Column('id', sa.Integer, primary_key=True),
    sa.Column('username', sa.String(200), nullable=False, unique=True),
    sa.Column('password_hash', sa.String(300), nullable=False),
)
heartbeats = sa.Table(
    'heartbeats', metadata,
    sa.Column('worker', sa.String(100), primary_key=True),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
)


def engine():
    return sa.create_engine(settings.database_url(), pool_pre_ping=True, future=True)
