"""Cache access: redis-py straight from REDIS_URL (rediss://user:password@host:6379/0, TLS verified)."""
import redis

from . import settings


def client():
    return redis.Redis.from_url(settings.redis_url(), socket_timeout=5, socket_connect_timeout=5)
