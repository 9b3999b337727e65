"""The only place the app reads its environment. A missing variable stops the process with its name."""
import json
import os
import sys


def required(name):
    value = os.environ.get(name)
    if not value:
        sys.stderr.write(name + ' is not set: this container lacks a variable of the application contract (docs/app-contract.md)\n')
        raise SystemExit(3)
    return value


def database_url():
    return required('DATABASE_URL')


def redis_url():
    return required('REDIS_URL')


def port():
    return int(required('PORT'))


def app_secret():
    """APP_SECRET: the free-form `app` secret (JSON object); the example keeps its session key there."""
    raw = required('APP_SECRET')
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        sys.stderr.write('APP_SECRET is not a JSON object (value not shown)\n')
        raise SystemExit(3)
    return value
