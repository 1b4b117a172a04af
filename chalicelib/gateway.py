"""Between API Gateway and the views: the token authorizer, and `router`, with which each
feature's blueprint declares its routes.

The authorizer lives here, in a blueprint of its own, rather than in app.py: every feature's
routes name it when they are declared, and a blueprint cannot import app.py (which imports them).
"""
import functools
import inspect
import re
from collections.abc import Callable
from typing import Any

from chalice import AuthResponse, Blueprint
from chalice.app import Request

from chalicelib.accounts import auth
from chalicelib.core import deadline, observe, settings, web
from chalicelib.core.errors import (
    CHALICE,
    AppError,
    Forbidden,
    ServiceUnavailable,
    Unauthorized,
    from_dependency,
    handled,
)
from chalicelib.core.principal import Principal

gate = Blueprint(__name__)


@gate.authorizer(ttl_seconds=0)  # no cache: a logged-out token must fail at once
def jwt_auth(auth_request: Any) -> AuthResponse:
    # Never raises: raising drops the connection under `chalice local` and is a 500 deployed.
    deadline.start(settings.get().request_budget)
    try:
        principal = auth.authenticate(auth_request.token)
    except Unauthorized:
        # An empty grant: the gateway's deny becomes a JSON 401 (GatewayResponses deployed,
        # tools/local_api.py locally).
        return AuthResponse(routes=[], principal_id='anonymous')
    except Exception as exc:
        # The session could not be checked (table hung or down, budget spent, anything else):
        # let the route say 503 with Retry-After rather than log the user out.
        if not isinstance(exc, AppError) and from_dependency(exc) is None:
            observe.unexpected(exc)  # a bug: its traceback is logged all the same
        return AuthResponse(routes=['*'], principal_id='unverified', context={'unavailable': 'true'})
    return AuthResponse(routes=['*'], principal_id=principal.user_id, context={'sid': principal.session_id})


def caller(request: Request) -> Principal:
    """The caller the authorizer verified; 503 if it could not check the token."""
    ctx = request.context['authorizer']
    if ctx.get('unavailable'):
        raise ServiceUnavailable('로그인 정보를 확인할 수 없습니다. 잠시 후 다시 시도해 주세요.', retry_after=5)
    return Principal(ctx['principalId'], ctx['sid'])


# What a route's body is: `body=JSON` (an object, required), `JSON_OPTIONAL` (an empty body is {}),
# `FORM` (JSON, or the urlencoded / multipart form the original chatbot view read).
JSON, JSON_OPTIONAL, FORM = 'json', 'json-optional', 'form'
FORM_TYPES = ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']
_BODIES: dict[str, Callable[[Request], dict[str, Any]]] = {
    JSON: web.json_body, JSON_OPTIONAL: lambda request: web.json_body(request, required=False),
    FORM: web.form_or_json,
}

# What a view may ask for by naming a parameter (besides the path's own parameters):
GIVEN: dict[str, Callable[[Request], Any]] = {
    'ip': web.client_ip,                                   # the client's address, as the gateway saw it
    'base': web.base_url,                                  # the API's absolute base, for links
    'legacy': web.legacy_client,                           # from where the original web client is served
    'query': lambda request: dict(request.query_params or {}),  # the query string's parameters
}
ADMIN_ONLY = {'GET': '관리자만 볼 수 있습니다.'}


def admin_check(principal: Principal, method: str) -> None:
    """403 unless the caller's account is an admin's (one GetItem: the account)."""
    if not auth.profile(principal).get('is_admin'):
        raise Forbidden(ADMIN_ONLY.get(method, '관리자만 할 수 있습니다.'))


Route = Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]]


def router(bp: Blueprint) -> Route:
    """`route(path, methods, public=False, admin=False, body=None, errors=CHALICE, **chalice_kwargs)`
    for views of `bp`: the authorizer on every route but the public ones, errors mapped in one place
    (`handled`), and each view handed what its parameters name:

    - `caller`: the Principal the authorizer verified (503 if it could not check the token);
      `admin=True` also refuses (403) a caller who is not an admin;
    - `body`: the request's body as `body=` declares it (JSON, JSON_OPTIONAL or FORM);
    - `ip`, `base`, `legacy`, `query`: see GIVEN;
    - the path's own parameters, by their names.

    So a view reads nothing off the request itself: `def chat_ask(caller, body)`.
    Every route must also be in chalicelib/service/openapi.json (tools/build_openapi.py;
    tests/unit/test_openapi.py holds them to each other)."""
    def route(path: str, methods: list[str], public: bool = False, admin: bool = False, body: str | None = None,
              errors: str = CHALICE, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        if body == FORM:
            kwargs.setdefault('content_types', FORM_TYPES)

        def register(view: Callable[..., Any]) -> Callable[..., Any]:
            handed = _handing(bp, view, path, methods, public, admin, body)
            bp.route(path, methods=methods, authorizer=None if public else jwt_auth, **kwargs)(handled(handed, errors))
            return view
        return register
    return route


def _handing(bp: Blueprint, view: Callable[..., Any], path: str, methods: list[str], public: bool, admin: bool,
             body: str | None) -> Callable[..., Any]:
    """The view, called with what its parameters name; checked once, when the route is declared."""
    names = list(inspect.signature(view).parameters)
    in_path = set(re.findall(r'{(\w+)}', path))
    unknown = set(names) - in_path - set(GIVEN) - {'caller', 'body'}
    assert not unknown, f'{view.__name__}: no route gives {sorted(unknown)}'
    assert ('body' in names) == (body is not None), f'{view.__name__}: `body` param and body= go together'
    assert not ('caller' in names and public), f'{view.__name__}: a public route has no caller'
    assert not (admin and public), f'{view.__name__}: an admin route is not public'
    given = [(name, GIVEN[name]) for name in names if name in GIVEN]
    read_body = _BODIES[body] if body is not None else None
    method = methods[0]

    @functools.wraps(view)
    def wrapper(**path_params: Any) -> Any:
        request = bp.current_request
        args: dict[str, Any] = {}
        if not public:
            principal = caller(request)  # refuses a request whose token the authorizer could not check
            if admin:
                admin_check(principal, method)
            if 'caller' in names:
                args['caller'] = principal
        if read_body is not None:
            args['body'] = read_body(request)
        for name, give in given:
            args[name] = give(request)
        return view(**path_params, **args)
    return wrapper
