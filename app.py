"""The app: the Chalice application, its HTTP middleware, and each feature's blueprint
(chalicelib/<feature>/views.py declares its routes; chalicelib/gateway.py the authorizer)."""
from typing import Any

from chalice import Chalice, Response

from chalicelib import gateway
from chalicelib.accounts import views as accounts
from chalicelib.board import views as board
from chalicelib.chat import views as chat
from chalicelib.core import deadline, observe, settings, web
from chalicelib.keep import views as keep
from chalicelib.service import views as service

app = Chalice(app_name='stove-league')
for blueprint in (gateway.gate, service.bp, accounts.bp, chat.bp, keep.bp, board.bp):
    app.register_blueprint(blueprint)


@app.middleware('http')
def http_conventions(event: Any, get_response: Any) -> Response:
    deadline.start(settings.get().request_budget, web.arrival(event))
    try:
        with observe.request(event) as seen:  # the request's one log line, written on the way out
            return web.finish(seen.stamp(get_response(event)), event.headers.get('origin'))
    finally:
        deadline.clear()


# CORS preflight for every path (API Gateway's own OPTIONS mock would answer `*`)
def preflight(**_: Any) -> Response:
    allowed = 'Access-Control-Allow-Origin' in web.cors_headers(app.current_request.headers.get('origin'))
    return Response(body='', status_code=204, headers=web.PREFLIGHT_HEADERS if allowed else {})


for _path in list(app.routes):
    app.route(_path, methods=['OPTIONS'])(preflight)
