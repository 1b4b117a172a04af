"""Between API Gateway and the views: the token authorizer, and `router`, with which each
feature's blueprint declares its routes.

The authorizer lives here, in a blueprint of its own, rather than in app.py: every feature's
routes name it when they are declared, and a blueprint cannot import app.py (which imports them).
"""
import functools
from collections.abc import Callable
from typing import Any

from chalice import AuthResponse, Blueprint
from chalice.app import Request

from chalicelib.accounts import auth
from chalicelib.core import deadline, observe, settings
from chalicelib.core.errors import CHALICE, AppError, ServiceUnavailable, Unauthorized, from_dependency, handled
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


Route = Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]]


def router(bp: Blueprint) -> Route:
    """`route(path, methods, public=False, errors=CHALICE, **chalice_kwargs)` for views of `bp`:
    errors mapped in one place (`handled`), the authorizer on every route but the public ones.
    Every route must also be in chalicelib/service/openapi.json (tools/build_openapi.py;
    tests/test_openapi.py holds them to each other)."""
    def route(path: str, methods: list[str], public: bool = False, errors: str = CHALICE,
              **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(view: Callable[..., Any]) -> Callable[..., Any]:
            guarded = view if public else _verified(bp, view)
            bp.route(path, methods=methods, authorizer=None if public else jwt_auth, **kwargs)(handled(guarded, errors))
            return view
        return register
    return route


def _verified(bp: Blueprint, view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        caller(bp.current_request)  # refuses a request whose token the authorizer could not check
        return view(*args, **kwargs)
    return wrapper
