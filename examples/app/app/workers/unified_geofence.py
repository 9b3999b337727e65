"""unified-geofence: a worker of the catalog (uses the database and the cache)."""
from .common import run

if __name__ == '__main__':
    run('unified-geofence', database=True, cache=True)
