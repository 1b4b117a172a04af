"""Accounts over HTTP: sign-up, login, token refresh, logout, the profile; and the sweep that
removes what deleted accounts owned."""
from typing import Any

from chalice import Blueprint, Rate, Response
from chalice.app import Request

from chalicelib import gateway
from chalicelib.accounts import auth, purge
from chalicelib.core import deadline, links, web
from chalicelib.core.errors import DJ_REST_AUTH

bp = Blueprint(__name__)
route = gateway.router(bp)
PURGE_BUDGET = 25  # seconds: the sweep stops before its Lambda's timeout (30 s); the next goes on


def request() -> Request:
    return bp.current_request


def _tokens(result: dict[str, Any], status: int = 200) -> Response:
    return Response(body=dict(result, _links=links.account(request())), status_code=status, headers=web.NO_STORE)


def join() -> Response:
    result = auth.join(web.json_body(request()), web.client_ip(request()), legacy=web.legacy_client(request()))
    return _tokens(result, 201)


route('/rest-auth/join', ['POST'], public=True)(join)
# dj-rest-auth's name, kept for the original client, which reads dj-rest-auth's error shape
route('/rest-auth/registration', ['POST'], public=True, errors=DJ_REST_AUTH)(join)


@route('/rest-auth/login', ['POST'], public=True)
def login() -> Response:
    return _tokens(auth.login(web.json_body(request()), web.client_ip(request()), legacy=web.legacy_client(request())))


@route('/rest-auth/token/refresh', ['POST'], public=True)
def refresh() -> Response:
    return Response(body=auth.refresh(web.json_body(request()), legacy=web.legacy_client(request())),
                    headers=web.NO_STORE)


@route('/rest-auth/logout', ['POST', 'GET'])  # GET: the original client's
def logout() -> dict[str, Any]:
    auth.logout(gateway.caller(request()))
    return {'detail': '로그아웃되었습니다.'}


def _profile(user: dict[str, Any]) -> dict[str, Any]:
    return dict(auth.profile_body(user), _links=links.account(request()))


@route('/rest-auth/profile', ['GET'])
def profile_read() -> dict[str, Any]:
    return _profile(auth.profile(gateway.caller(request())))


@route('/rest-auth/profile', ['PUT'])
def profile_update() -> dict[str, Any]:
    return _profile(auth.update_profile(gateway.caller(request()), web.json_body(request()),
                                        web.client_ip(request())))


@route('/rest-auth/profile', ['DELETE'])
def account_delete() -> Response:
    auth.delete_account(gateway.caller(request()), web.json_body(request()), web.client_ip(request()))
    return Response(body='', status_code=204)


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def purge_deleted_accounts(event: Any) -> None:
    deadline.start(PURGE_BUDGET)
    try:
        purge.sweep()
    except deadline.DeadlineExceeded:
        pass  # the next sweep goes on where this one stopped
    finally:
        deadline.clear()
