"""Operator tool: create or update a user from JSON {"username", "password"} on stdin (never argv).

    aws secretsmanager get-secret-value --secret-id <prefix>/smoke-user --query SecretString --output text \
      | python -m app.create_user      # e.g. in a one-off task of the api task definition
"""
import json
import sys

import sqlalchemy as sa

from . import db
from .passwords import hash_password


def main():
    data = json.loads(sys.stdin.read())
    username, password = data['username'], data['password']
    with db.engine().begin() as conn:
        row = conn.execute(sa.select(db.users.c.id).where(db.users.c.username == username)).first()
        if row:
            conn.execute(db.users.update().where(db.users.c.id == row.id).values(password_hash=hash_password(password)))
        else:
            conn.execute(db.users.insert().values(username=username, password_hash=hash_password(password)))
    print('user is current')


if __name__ == '__main__':
    main()
