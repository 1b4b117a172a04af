"""The static frontend as `make run` and the browser tests serve it: frontend/ as S3 would, except
`/config.js`, which this server answers from memory with its own run's API URL. Nothing is written
into the work tree, so two runs in one checkout (other ports) each point their browser at their own
API; a `frontend/config.js` left by hand or by an older `make run` is never served. A deploy
writes the real config.js into its build output instead (deploy/deploy.sh).

    python -m tools.frontend_server --port 8080 --api-url http://localhost:8000
"""
import argparse
import functools
import json
import os
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from tools.dynamodb_local import ROOT

FRONTEND = os.path.join(ROOT, 'frontend')


def config_js(api_url: str) -> bytes:
    return ('// Served by tools/frontend_server.py for this run; a deploy writes the production one.\n'
            f'window.STOVE_CONFIG = {{ apiBaseUrl: {json.dumps(api_url)} }};\n').encode()


class Handler(SimpleHTTPRequestHandler):
    api_url = ''
    quiet = True

    def do_GET(self):
        if self.path.split('?', 1)[0] == '/config.js':
            body = config_js(self.api_url)
            self.send_response(200)
            self.send_header('Content-Type', 'text/javascript; charset=utf-8')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def end_headers(self):
        self.send_header('Cache-Control', 'no-store')  # an edited page or another run's API shows at once
        super().end_headers()

    def log_message(self, *args):
        if not self.quiet:
            super().log_message(*args)


def make_server(host: str, port: int, api_url: str, quiet: bool = True,
                directory: str = FRONTEND) -> ThreadingHTTPServer:
    """Bound and listening (port 0: any free one, see `server_port`); call serve_forever()."""
    handler = type('FrontendHandler', (Handler,), {'api_url': api_url, 'quiet': quiet})
    return ThreadingHTTPServer((host, port), functools.partial(handler, directory=directory))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--port', type=int, default=8080)
    parser.add_argument('--bind', default='127.0.0.1')
    parser.add_argument('--api-url', required=True, help="what /config.js gives the pages as apiBaseUrl")
    args = parser.parse_args(argv)
    server = make_server(args.bind, args.port, args.api_url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
