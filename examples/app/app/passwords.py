"""PBKDF2 password hashes for the users table."""
import hashlib
import hmac
import secrets

ITERATIONS = 100_000


def hash_password(password):
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac('sha256', password.encode(), salt.encode(), ITERATIONS).hex()
    return 'pbkdf2_sha256$%d$%s$%s' % (ITERATIONS, salt, digest)


def check_password(password, stored):
    try:
        algo, iterations, salt, digest = stored.split('$')
    except ValueError:
        return False
    if algo != 'pbkdf2_sha256':
        return False
    got = hashlib.pbkdf2_hmac('sha256', password.encode(), salt.encode(), int(iterations)).hex()
    return hmac.compare_digest(got, digest)
