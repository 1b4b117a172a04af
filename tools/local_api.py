"""Serve the API on Chalice's own local server (what `chalice local` runs), plus what API
Gateway does that `chalice local` does not: its own 401/403/404 answers carry CORS headers,
the app's JSON error shape and a request id (deployed, GatewayResponses in the merge template
do the same), and the request context names the domain the API is served on and when the
request arrived (`domainName`, `requestTimeEpoch`): here, this server's own address. Each
request prints its log line (chalicelib/core/observe.py) instead of an access log.

Usage: python -m tools.local_api [--host 127.0.0.1] [--port 8000] [--stage local]
"""
import argparse
import contextlib
import json
import os
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BACKLOG = 64  # pending connections the listening socket holds

# What the gateway says when the app never runs, keyed by the local server's error type.
# Mirrored by GatewayResponses in deploy/resources.json (a test checks they agree).
GATEWAY_ERRORS = {
    'UNAUTHORIZED': (401, 'UnauthorizedError', '로그인이 필요합니다.'),
    'ACCESS_DENIED': (401, 'UnauthorizedError', '토큰이 없거나 만료되었거나 폐기되었습니다. 다시 로그인해 주세요.'),
    'MISSING_AUTHENTICATION_TOKEN': (404, 'NotFoundError', '그런 경로는 없습니다.'),
}


def gateway_kind(error) -> str:
    from chalice.local import ForbiddenError, NotAuthorizedError
    if isinstance(error, NotAuthorizedError):
        return 'UNAUTHORIZED'
    if isinstance(error, ForbiddenError):
        if error.headers.get('x-amzn-ErrorType') == 'AccessDeniedException':
            return 'ACCESS_DENIED'
        return 'MISSING_AUTHENTICATION_TOKEN'
    return ''


def _request_per_thread(app) -> None:
    """Chalice keeps the request being handled on the app object (`app.current_request`): one
    at a time on Lambda, but this server handles requests in threads, so one request could read
    another's body or principal. Give each thread its own."""
    if getattr(type(app), 'request_per_thread', False):
        return
    local = threading.local()

    class PerThread(type(app)):
        request_per_thread = True
        current_request = property(lambda self: getattr(local, 'request', None),
                                   lambda self, value: setattr(local, 'request', value))

    app.__class__ = PerThread


def make_server(host: str, port: int, stage: str = 'local', quiet: bool = False):
    from chalice.cli import factory as cli_factory
    from chalice.deploy.validate import validate_routes
    from chalice.local import ChaliceRequestHandler, LocalDevServer, ThreadedHTTPServer

    class Server(ThreadedHTTPServer):
        # A browser opens several connections at once; the default backlog of 5 drops the
        # rest of a burst, and a dropped connection is retried only a second later.
        request_queue_size = BACKLOG

    class GatewayHandler(ChaliceRequestHandler):
        def __init__(self, request, client_address, server, app_object, config):
            from http.server import BaseHTTPRequestHandler

            from chalice.local import LocalGateway
            self.local_gateway = LocalGateway(app_object, config)
            convert = self.local_gateway.event_converter.create_lambda_event
            domain = f"{host if host not in ('0.0.0.0', '::', '') else '127.0.0.1'}:{server.server_address[1]}"

            def create_lambda_event(*args, **kwargs):
                event = convert(*args, **kwargs)
                event['requestContext'].update(domainName=domain, stage=stage,
                                               requestTimeEpoch=int(time.time() * 1000))
                return event
            self.local_gateway.event_converter.create_lambda_event = create_lambda_event
            BaseHTTPRequestHandler.__init__(self, request, client_address, server)

        # Headers and body leave in separate writes: with Nagle's algorithm on, the body waits
        # for the client's delayed ACK (~40 ms) on every kept-alive request.
        disable_nagle_algorithm = True

        def log_message(self, *args):
            if not quiet:
                super().log_message(*args)

        def _send_error_response(self, error):
            kind = gateway_kind(error)
            if not kind:
                return super()._send_error_response(error)
            from chalicelib.core import observe, web
            status, code, message = GATEWAY_ERRORS[kind]
            request_id = observe.gateway_answer(self.command, status, code)
            headers = dict(error.headers, **{'Content-Type': 'application/json', 'X-Request-Id': request_id},
                           **web.SECURITY_HEADERS)
            headers.update(web.cors_headers(self.headers.get('origin')))
            body = json.dumps({'Code': code, 'Message': message, 'RequestId': request_id},
                              ensure_ascii=False).encode('utf-8')
            self._send_http_response(status, headers, body)
            return None

    factory = cli_factory.CLIFactory(ROOT, environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=stage)
    validate_routes(config.chalice_app.routes)
    _request_per_thread(config.chalice_app)
    return LocalDevServer(config.chalice_app, config, host, port, handler_cls=GatewayHandler, server_cls=Server)


def sweep_deleted_accounts(every: float = 5) -> None:
    """What the schedule in accounts/views.py does deployed (each minute): remove what deleted accounts owned."""
    from chalicelib.accounts import purge
    while True:
        time.sleep(every)
        try:
            purge.sweep(settle=2)
        except Exception as exc:  # DynamoDB Local stopped, say: the next round tries again
            print(f'purge sweep failed: {exc!r}', file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=int(os.environ.get('API_PORT', '8000')))
    parser.add_argument('--stage', default='local')
    args = parser.parse_args()
    server = make_server(args.host, args.port, args.stage, quiet=True)  # observe's lines say it all
    threading.Thread(target=sweep_deleted_accounts, name='purge', daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C in `make run` reaches every process: stop quietly
        server.serve_forever()


if __name__ == '__main__':
    main()
