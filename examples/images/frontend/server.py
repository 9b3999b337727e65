"""Demo frontend: GET / (and /index.html) answers the page, anything else 404; listens on PORT."""
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'index.html'), 'rb').read()


class Handler(BaseHTTPRequestHandler):
    server_version = 'demo-frontend'

    def log_message(self, fmt, *args):  # one line per request
        sys.stderr.write('frontend: %s %s\n' % (self.address_string(), fmt % args))

    def reply(self, status, body, content_type):
        self.send_response(status)
        self.send_header('content-type', content_type)
        self.send_header('content-length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def do_GET(self):
        if self.path.split('?')[0] in ('/', '/index.html'):
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
    print('frontend listening on %s' % port, flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
