"""Example application for the staging-rollout application contract (docs/app-contract.md).

Its code reads only the conventional variables the stack injects: DATABASE_URL (and nothing else for the
database), REDIS_URL, PORT, APP_SECRET and the catalog's plain environment (ANISETTE_URL). No AWS SDK, no
secret JSON parsing, no token signing.
"""
