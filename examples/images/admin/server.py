"""Demo admin: GET /admin/health -> "ok", GET /admin (and /admin/) -> a small page, anything else 404; listens on PORT."""
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = b'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>admin</title></head>' \
       b'<body><h1>admin</h1><p>The demo admin of the local data plane.</p></body></html>\n'


class Handler(BaseHTTPRequestHandler):
    server_version = 'demo-admin'

    def log_message(self, fmt, *args):  # one line per request
        sys.stderr.write('admin: %s %s\n' % (self.address_string(), fmt % args))

    def reply(self, status, body, content_type):
        self.send_response(status)
        self.send_header('content-type', content_type)
        self.send_header('content-length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def do_GET(self):
        path = self.path.split('?')[0]
        if path == '/admin/health':
            return self.reply(200, b'ok', 'text/plain')
        if path in ('/admin', '/admin/'):
            return self.reply(200, PAGE, 'text/html; charset=utf-8')
        return self.reply(404, b'not found\n', 'text/plain')

    do_HEAD = do_GET


def main():
    port = os.environ.get('PORT')
    if not port:
        sys.stderr.write('PORT is not set\n')
        raise SystemExit(3)
    server = ThreadingHTTPServer(('0.0.0.0', int(port)), Handler)
    # PID 1 of a container: without a handler SIGTERM (docker stop, ECS StopTask) would be ignored
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print('admin listening on %s' % port, flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
