"""The api: GET /health (checks the database, answers "ok") and POST /api/auth/login against the users table.
Sessions live in the cache. Listens on PORT."""
import hashlib
import hmac
import json
import secrets
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sqlalchemy as sa

from . import cache, db, settings
from .passwords import check_password

ENGINE = None
CACHE = None
SESSION_KEY = b''
SESSION_SECONDS = 3600


class Handler(BaseHTTPRequestHandler):
    server_version = 'example-api'

    def log_message(self, fmt, *args):  # one line per request, no bodies
        sys.stderr.write('api: %s %s\n' % (self.address_string(), fmt % args))

    def reply(self, status, body, content_type='application/json'):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header('content-type', content_type)
        self.send_header('content-length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == '/health':
            try:
                with ENGINE.connect() as conn:
                    conn.execute(sa.text('SELECT 1'))
            except Exception as e:  # noqa: BLE001 - health reports any database failure
                return self.reply(503, 'database unavailable: ' + type(e).__name__, 'text/plain')
            return self.reply(200, 'ok', 'text/plain')
        return self.reply(404, {'error': 'not found'})

    def do_POST(self):
        if self.path != '/api/auth/login':
            return self.reply(404, {'error': 'not found'})
        try:
            length = int(self.headers.get('content-length') or 0)
            data = json.loads(self.rfile.read(min(length, 65536)) or b'null')
            username, password = data['username'], data['password']
            if not isinstance(username, str) or not isinstance(password, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return self.reply(400, {'error': 'expected JSON {"username": string, "password": string}'})
        with ENGINE.connect() as conn:
            row = conn.execute(sa.select(db.users.c.password_hash).where(db.users.c.username == username)).first()
        if row is None or not check_password(password, row.password_hash):
            return self.reply(401, {'error': 'invalid credentials'})
        session = secrets.token_urlsafe(24)
        CACHE.set('session:' + session, username, ex=SESSION_SECONDS)
        token = session + '.' + hmac.new(SESSION_KEY, session.encode(), hashlib.sha256).hexdigest()
        return self.reply(200, {'token': token})


def main():
    global ENGINE, CACHE, SESSION_KEY
    port = settings.port()
    SESSION_KEY = settings.app_secret().get('sessionKey', '').encode()
    if not SESSION_KEY:
        sys.stderr.write('APP_SECRET has no "sessionKey"\n')
        raise SystemExit(3)
    ENGINE = db.engine()
    CACHE = cache.client()
    CACHE.ping()
    server = ThreadingHTTPServer(('0.0.0.0', port), Handler)
    # PID 1 of a container: without a handler SIGTERM (docker stop, ECS StopTask) would be ignored
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print('api listening on %d' % port, flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
