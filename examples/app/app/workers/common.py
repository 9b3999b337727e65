"""A worker loop: connect to what the worker uses, say it is ready, then beat every few seconds (a database
row and/or a cache key) until stopped. Any connection failure stops the process non-zero."""
import datetime
import signal
import sys
import time

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from .. import cache as cache_mod
from .. import db

INTERVAL_SECONDS = 5


def run(name, database=False, cache=False, step=None):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    engine = db.engine() if database else None
    client = cache_mod.client() if cache else None
    used = []
    if engine is not None:
        with engine.connect() as conn:
            conn.execute(sa.text('SELECT 1'))
        used.append('database ok')
    if client is not None:
        client.ping()
        used.append('cache ok')
    print('%s ready (%s)' % (name, ', '.join(used) or 'nothing to connect'), flush=True)
    while not stop:
        now = datetime.datetime.now(datetime.timezone.utc)
        if engine is not None:
            with engine.begin() as conn:
                stmt = insert(db.heartbeats).values(worker=name, seen_at=now)
                conn.execute(stmt.on_conflict_do_update(index_elements=['worker'], set_={'seen_at': now}))
        if client is not None:
            client.set('heartbeat:' + name, now.isoformat(), ex=60)
        if step is not None:
            step()
        for _ in range(INTERVAL_SECONDS * 10):
            if stop:
                break
            time.sleep(0.1)
    sys.stdout.write('%s stopped\n' % name)
