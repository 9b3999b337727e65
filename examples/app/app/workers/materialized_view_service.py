"""materialized-view-service: a worker of the catalog (uses the database)."""
from .common import run

if __name__ == '__main__':
    run('materialized-view-service', database=True, cache=False)
