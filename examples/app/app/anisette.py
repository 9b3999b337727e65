"""Anisette stand-in: answers GET / with fake anisette headers on PORT (the real server is a third-party image)."""
import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import settings


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write('anisette: %s\n' % (fmt % args))

    def do_GET(self):
        body = json.dumps({'X-Apple-I-MD': 'ZmFrZQ==', 'X-Apple-I-MD-M': 'ZmFrZQ==', 'X-Apple-I-MD-RINFO': '17106176'}).encode()
        self.send_response(200)
        self.send_header('content-type', 'application/json')
        self.send_header('content-length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    port = settings.port()
    server = ThreadingHTTPServer(('0.0.0.0', port), Handler)
    # PID 1 of a container: without a handler SIGTERM (docker stop, ECS StopTask) would be ignored
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print('anisette listening on %d' % port, flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
