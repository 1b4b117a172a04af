"""Accounts over HTTP: sign-up, login, token refresh, logout, the profile; and the sweep that
removes what deleted accounts owned."""
from typing import Any

from chalice import Blueprint, Rate, Response

from chalicelib import gateway
from chalicelib.accounts import auth, links, purge
from chalicelib.core import deadline, observe, web
from chalicelib.core.errors import DJ_REST_AUTH
from chalicelib.core.principal import Principal

bp = Blueprint(__name__)
route = gateway.router(bp)
PURGE_BUDGET = 25  # seconds: the sweep stops before its Lambda's timeout (30 s); the next goes on


def _tokens(result: dict[str, Any], base: str, status: int = 200) -> Response:
    return Response(body=dict(result, _links=links.account(base)), status_code=status, headers=web.NO_STORE)


def join(body: dict[str, Any], ip: str, legacy: bool, base: str) -> Response:
    return _tokens(auth.join(body, ip, legacy=legacy), base, 201)


route('/rest-auth/join', ['POST'], public=True, body=gateway.JSON)(join)
# dj-rest-auth's name, kept for the original client, which reads dj-rest-auth's error shape
route('/rest-auth/registration', ['POST'], public=True, body=gateway.JSON, errors=DJ_REST_AUTH)(join)


@route('/rest-auth/login', ['POST'], public=True, body=gateway.JSON)
def login(body: dict[str, Any], ip: str, legacy: bool, base: str) -> Response:
    observe.count_on_status(401, 'LoginFailures')  # a wrong email or password
    return _tokens(auth.login(body, ip, legacy=legacy), base)


@route('/rest-auth/token/refresh', ['POST'], public=True, body=gateway.JSON)
def refresh(body: dict[str, Any], legacy: bool) -> Response:
    return Response(body=auth.refresh(body, legacy=legacy), headers=web.NO_STORE)


@route('/rest-auth/logout', ['POST', 'GET'])  # GET: the original client's
def logout(caller: Principal) -> dict[str, Any]:
    auth.logout(caller)
    return {'detail': '로그아웃되었습니다.'}


@route('/rest-auth/profile', ['GET'])
def profile_read(caller: Principal, base: str) -> dict[str, Any]:
    return dict(auth.profile_body(auth.profile(caller)), _links=links.account(base))


@route('/rest-auth/profile', ['PUT'], body=gateway.JSON)
def profile_update(caller: Principal, body: dict[str, Any], ip: str, base: str) -> dict[str, Any]:
    return dict(auth.profile_body(auth.update_profile(caller, body, ip)), _links=links.account(base))


@route('/rest-auth/profile', ['DELETE'], body=gateway.JSON)
def account_delete(caller: Principal, body: dict[str, Any], ip: str) -> Response:
    auth.delete_account(caller, body, ip)
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
