"""The app's error family and the one place that turns it into HTTP answers.

Each class carries the status and the `Code` of Chalice's own error of that status, so
clients see one shape everywhere: {"Code", "Message"} plus "Fields" for validation. The one
exception is dj-rest-auth's own route, whose old clients read its shape (DJ_REST_AUTH below).
"""
import functools
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError
from chalice import Response

from chalicelib.core import observe

CHALICE = 'chalice'  # {"Code", "Message", "Fields"?}: every route but one
DJ_REST_AUTH = 'dj-rest-auth'  # {"field": ["message"]} / {"detail"}: POST /rest-auth/registration


class AppError(Exception):
    status = 500
    code = 'InternalServerError'

    def __init__(self, message: str, fields: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.headers: dict[str, Any] = dict(headers or {})

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {'Code': self.code, 'Message': self.message}
        if self.fields:
            body['Fields'] = self.fields
        return body

    def drf_body(self) -> dict[str, Any]:
        """Django REST framework's shape, as dj-rest-auth answered: each field → a list of
        messages, else {"detail"}. Nothing else at the top level: the original sign-up page
        writes every top-level key into the element with that id, and an unknown key throws."""
        if self.fields:
            return {name: [message] for name, message in self.fields.items()}
        return {'detail': self.message}

    def to_response(self, shape: str = CHALICE) -> Response:
        body = self.drf_body() if shape == DJ_REST_AUTH else self.body()
        return Response(body=body, status_code=self.status, headers=self.headers)


class BadRequest(AppError):
    status, code = 400, 'BadRequestError'


# Each field's Korean name in messages: the features declare theirs (core/contract.py `labels`).
FIELD_LABELS: dict[str, str] = {'per-page': '페이지 크기', 'page': '페이지'}


def label_fields(by_field: Mapping[str, str]) -> None:
    for name, label in by_field.items():
        assert FIELD_LABELS.setdefault(name, label) == label, f'field {name} has two labels'


def field_label(name: str) -> str:
    """Korean label of a field for messages ('chat_reply.scene' → '회차')."""
    return FIELD_LABELS.get(name.rsplit('.', 1)[-1], name)


class ValidationError(BadRequest):
    def __init__(self, fields: dict[str, str], message: str | None = None):
        labels = sorted({field_label(f) for f in fields})
        super().__init__(message or '입력값을 확인해 주세요: ' + ', '.join(labels), fields)


class Unauthorized(AppError):
    status, code = 401, 'UnauthorizedError'


class Forbidden(AppError):
    status, code = 403, 'ForbiddenError'


class NotFound(AppError):
    status, code = 404, 'NotFoundError'


class Conflict(AppError):
    status, code = 409, 'ConflictError'


class TooManyRequests(AppError):
    status, code = 429, 'TooManyRequestsError'

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, headers={'Retry-After': str(max(1, int(retry_after)))})


class BadGateway(AppError):
    status, code = 502, 'BadGatewayError'


class ServiceUnavailable(AppError):
    """Always with Retry-After: a client (or the frontend) knows when trying again makes sense."""
    status, code = 503, 'ServiceUnavailableError'

    def __init__(self, message: str, retry_after: int = 5):
        super().__init__(message, headers={'Retry-After': str(max(1, int(retry_after)))})


class GatewayTimeout(AppError):
    status, code = 504, 'GatewayTimeoutError'

    def __init__(self, message: str, retry_after: int = 5):
        super().__init__(message, headers={'Retry-After': str(max(1, int(retry_after)))})


_THROTTLE_CODES = {'ProvisionedThroughputExceededException', 'ThrottlingException',
                   'RequestLimitExceeded', 'LimitExceededException'}
# DynamoDB refusing what we asked: a bug of ours to see in the logs as a 500, not a 503 to retry.
_OUR_MISTAKES = {'ValidationException', 'SerializationException', 'ConditionalCheckFailedException'}


_TRANSLATIONS: list[tuple[type[Exception], Callable[[Exception], AppError]]] = []


def translate(kind: type[Exception], to: Callable[[Exception], AppError]) -> None:
    """Declare what an exception of another layer (storage's) means to a client when it
    escapes a route: `handled` answers with `to(exc)`."""
    _TRANSLATIONS.append((kind, to))


def _translated(exc: Exception) -> AppError | None:
    for kind, to in _TRANSLATIONS:
        if isinstance(exc, kind):
            return to(exc)
    return None


def from_dependency(exc: Exception) -> AppError | None:
    """Map a failing AWS dependency to a clear 503 with Retry-After: throttled, unreachable,
    timed out (connect or read), erroring or misconfigured (a missing table, no credentials)."""
    if isinstance(exc, ClientError):
        code = exc.response.get('Error', {}).get('Code', '')
        if code in _OUR_MISTAKES:
            return None
        if code in _THROTTLE_CODES or code.endswith('ThrottledException'):
            return ServiceUnavailable('저장소가 잠시 바쁩니다. 잠시 후 다시 시도해 주세요.', retry_after=2)
        return ServiceUnavailable('저장소가 잠시 답하지 못했습니다. 잠시 후 다시 시도해 주세요.', retry_after=5)
    if isinstance(exc, BotoCoreError) and not isinstance(exc, ParamValidationError):
        # EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, NoCredentialsError…
        return ServiceUnavailable('저장소에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요.', retry_after=5)
    return None


UNEXPECTED = '예기치 못한 문제가 생겼습니다. 잠시 후 다시 시도해 주세요. 계속되면 요청 ID를 알려 주세요.'


def handled(view: Callable, shape: str = CHALICE) -> Callable:
    """Route decorator: every AppError (and a failing table) becomes its JSON answer, in `shape`;
    anything else is a bug: its traceback goes on the request's log line, the client gets a plain 500."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except AppError as exc:
            return exc.to_response(shape)
        except Exception as exc:
            translated = _translated(exc)
            if translated is not None:
                return translated.to_response(shape)
            mapped = from_dependency(exc)
            if mapped is None:
                observe.unexpected(exc)
                return AppError(UNEXPECTED).to_response(shape)
            observe.note(dependency_error=_dependency_code(exc))
            return mapped.to_response(shape)
    return wrapper


def _dependency_code(exc: Exception) -> str:
    response = getattr(exc, 'response', None)
    if isinstance(response, dict):
        return response.get('Error', {}).get('Code') or type(exc).__name__
    return type(exc).__name__
