"""alembic environment: the URL is DATABASE_URL as the stack injects it. It is passed to create_engine
directly, not through alembic's config (configparser would read a "%" of a URL-encoded password as
interpolation)."""
import os
import sys
from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

url = os.environ.get('DATABASE_URL')
if not url:
    sys.stderr.write('DATABASE_URL is not set: this container lacks a variable of the application contract (docs/app-contract.md)\n')
    raise SystemExit(3)

engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
