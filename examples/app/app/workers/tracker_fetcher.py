"""tracker-fetcher-2: reaches anisette by its service name (ANISETTE_URL, catalog environment) and logs the
line the smoke test looks for (config smoke.fetcherAnisetteLogPattern); uses the database and the cache."""
import os
import sys
import urllib.request

from .. import settings
from .common import run


def fetch_once():
    url = settings.required('ANISETTE_URL')
    try:
        with urllib.request.urlopen(url, timeout=10) as res:
            res.read()
        print('anisette reachable at %s' % url, flush=True)
    except OSError as e:
        sys.stderr.write('anisette unreachable at %s: %s\n' % (url, e))


if __name__ == '__main__':
    settings.required('ANISETTE_URL')
    if os.path.isdir('/data'):
        print('data volume mounted at /data', flush=True)
    run('tracker-fetcher-2', database=True, cache=True, step=fetch_once)
