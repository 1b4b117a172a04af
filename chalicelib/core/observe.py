"""What an operator sees: one JSON line per request, with CloudWatch metrics embedded in it.

The HTTP middleware opens a request (`request`), the `handled` decorator and the model module
add to it (`note`, `unexpected`, `model_call`, `model_usage`, `answerer`), and on the way out
one line is printed to stdout: request id, route, method, status, latency, user id, answerer,
model tokens and latency, and for an unexpected error its traceback. Lambda sends stdout to
CloudWatch Logs, which reads the `_aws` block as metrics (embedded metric format, EMF):
no extra call on the request path, no extra permission.

What never goes in: email addresses, passwords, tokens, what a user typed, query strings,
path parameters (a share id is a capability). Only the fields below are written, so nothing
can leak in by accident.

Hand-written rather than AWS Lambda Powertools: see README "Operations" for the figures.
"""
import contextvars
import functools
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from chalice import Response

NAMESPACE = 'StoveLeague'
SERVICE = 'stove-league'

# Every metric this module writes (dimension Service, plus the one named), with its unit.
# deploy/resources.json's alarms and deploy/dashboard.json use these names (a test checks).
# Each metric × dimension value is a CloudWatch custom metric, billed for the hours it gets
# data: no per-route request counter (Latency's SampleCount is that count), one Route value
# for every CORS preflight.
METRICS = {
    'Latency': ('Milliseconds', 'Route'),
    'ServerErrors': ('Count', 'Route'), 'RateLimited': ('Count', 'Route'),
    'LoginFailures': ('Count', None), 'ChatsAnswered': ('Count', 'Source'),
    'ModelCalls': ('Count', None), 'ModelLatency': ('Milliseconds', None), 'ModelErrors': ('Count', 'Kind'),
    'ModelTokensIn': ('Count', None), 'ModelTokensOut': ('Count', None), 'ModelTokens': ('Count', None),
}

_state: contextvars.ContextVar = contextvars.ContextVar('observe_request', default=None)
_write_lock = threading.Lock()
output = None  # where lines go: None is sys.stdout as it is at write time (Lambda, make run, tests)
_cold = [True]  # the first request of this container (Lambda cold start)


class Request:
    """What one request has gathered so far."""

    def __init__(self, request_id: str, method: str, route: str, user_id: str | None):
        self.request_id, self.method, self.route, self.user_id = request_id, method, route, user_id
        self.started = time.perf_counter()
        self.fields: dict[str, Any] = {}
        self.metrics: list[tuple[str, float, str, str | None]] = []  # name, value, unit, extra dimension
        self.dimensions: dict[str, str | None] = {}
        self.model_calls = 0
        self.model_error_counted = False
        self.error: BaseException | None = None
        self.status = 500
        self.by_gateway = False  # answered by the gateway alone: deployed, the Lambda never sees it
        self.on_status: dict[int, list[str]] = {}  # status → metrics counted if the answer has it

    def metric(self, name: str, value: float, dimension_value: str | None = None) -> None:
        unit, dimension = METRICS[name]
        if dimension:
            self.dimensions[dimension] = dimension_value
        self.metrics.append((name, value, unit, dimension))

    def stamp(self, response: Response) -> Response:
        """X-Request-Id on every answer; "RequestId" in error bodies of the {"Code", "Message"}
        shape (other shapes, e.g. dj-rest-auth's field lists for old clients, stay as they are)."""
        self.status = response.status_code
        response.headers['X-Request-Id'] = self.request_id
        body = response.body
        if response.status_code >= 400 and isinstance(body, dict) and 'Code' in body:
            body['RequestId'] = self.request_id
            self.fields['error_code'] = body['Code']
        return response


def current() -> Request | None:
    return _state.get()


def request_id_of(event) -> str:
    """API Gateway's request id when deployed; locally (chalice local has none) a new UUID,
    kept in the request's context so every part of this request agrees."""
    context = event.context
    rid = context.get('requestId') if context is not None else None
    if not rid:
        rid = str(uuid.uuid4())
        if context is not None:
            context['requestId'] = rid
    return rid


def _user_id(event) -> str | None:
    authorizer = (event.context or {}).get('authorizer') or {}
    principal = authorizer.get('principalId')
    return principal if principal and principal not in ('anonymous', 'unverified') else None


class request:
    """`with observe.request(event) as seen: return seen.stamp(response)` — the middleware."""

    def __init__(self, event):
        ctx = event.context or {}
        method = event.method
        self.seen = Request(request_id_of(event), method, f"{method} {ctx.get('resourcePath') or '?'}",
                            _user_id(event))

    def __enter__(self) -> 'Request':
        self.token = _state.set(self.seen)
        return self.seen

    def __exit__(self, exc_type, exc, tb):
        _state.reset(self.token)
        if exc is not None:  # past `handled` (a bug in the plumbing itself): still one line
            self.seen.error, self.seen.status = exc, 500
        emit(self.seen)
        return False


def note(**fields: Any) -> None:
    """Add fields to this request's line (no-op outside a request, e.g. in tools/cli.py)."""
    seen = current()
    if seen is not None:
        seen.fields.update(fields)


def count_on_status(status: int, metric: str) -> None:
    """Count `metric` once if this request is answered with `status` (a route's own failures,
    e.g. wrong credentials); no-op outside a request."""
    seen = current()
    if seen is not None:
        seen.on_status.setdefault(status, []).append(metric)


def warn(message: str, **fields: Any) -> None:
    """Something an operator should see that is not a bug: on this request's line, or (outside a
    request, e.g. in the authorizer) a WARN line of its own."""
    seen = current()
    if seen is not None:
        seen.fields.update(fields)
    else:
        _write(dict({'level': 'WARN', 'message': message}, **fields))


def unexpected(exc: BaseException) -> None:
    """A bug: its traceback goes on this request's line (once), the client gets a plain 500."""
    seen = current()
    if seen is not None:
        seen.error = exc
    else:  # not within a request: still say it, as JSON
        _write({'level': 'ERROR', 'message': 'unexpected error', 'error': _error_name(exc),
                'traceback': ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))})


# -- the model ----------------------------------------------------------------------------------
def _model_error_detail(exc: BaseException) -> str:
    """What the operator checks first: the model server's HTTP status, else the error's type."""
    cause = exc.__cause__ or exc.__context__
    status = getattr(cause, 'status_code', None)
    if isinstance(status, int):
        return f'HTTP {status}'
    return type(cause or exc).__name__


def _count_model_error(seen: Request, kind: str, exc: BaseException) -> None:
    if not seen.model_error_counted:
        seen.model_error_counted = True
        seen.fields['model_error'] = kind
        seen.fields['model_error_detail'] = _model_error_detail(exc)
        seen.metric('ModelErrors', 1, kind)


def model_call(kind_of: Callable[[BaseException], str]) -> Callable[[Callable], Callable]:
    """Decorates the one function that calls the model: its latency, and its failures by the kind
    `kind_of` names (timeout, rate_limited, unreachable, http_error, bad_answer…)."""
    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            seen = current()
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                if seen is not None and getattr(exc, 'status', 500) >= 500:
                    _count_model_error(seen, kind_of(exc), exc)
                raise
            finally:
                if seen is not None:
                    ms = (time.perf_counter() - started) * 1000
                    seen.model_calls += 1
                    seen.fields['model_latency_ms'] = round(seen.fields.get('model_latency_ms', 0) + ms, 1)
                    seen.metric('ModelCalls', 1)
                    seen.metric('ModelLatency', round(ms, 1))
        return wrapper
    return decorate


def model_usage(response: Any) -> None:
    """Tokens in/out from a chat-completion response's `usage` (absent on some compatible servers)."""
    seen = current()
    usage = getattr(response, 'usage', None)
    if seen is None or usage is None:
        return
    tokens_in = getattr(usage, 'prompt_tokens', None) or 0
    tokens_out = getattr(usage, 'completion_tokens', None) or 0
    if isinstance(getattr(response, 'model', None), str):
        seen.fields['model'] = response.model
    seen.fields['model_tokens_in'] = seen.fields.get('model_tokens_in', 0) + tokens_in
    seen.fields['model_tokens_out'] = seen.fields.get('model_tokens_out', 0) + tokens_out
    seen.metric('ModelTokensIn', tokens_in)
    seen.metric('ModelTokensOut', tokens_out)
    seen.metric('ModelTokens', tokens_in + tokens_out)


def answerer(fn: Callable) -> Callable:
    """Decorates the function that answers a chat: which answerer did; an answer refused after
    a model call that went through (off-format, a line not among the candidates) is a model error."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        seen = current()
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            if seen is not None and seen.model_calls and getattr(exc, 'status', 500) >= 500:
                _count_model_error(seen, 'bad_answer', exc)
            raise
        if seen is not None:
            seen.fields['answerer'] = result.source
        return result
    return wrapper


# -- the line -------------------------------------------------------------------------------------
def _error_name(exc: BaseException) -> str:
    return f'{type(exc).__name__}: {str(exc)[:200]}'


def _trace_id() -> str | None:
    header = os.environ.get('_X_AMZN_TRACE_ID', '')  # set by Lambda per invocation when traced
    return next((p[5:] for p in header.split(';') if p.startswith('Root=')), None)


def build(seen: Request) -> dict[str, Any]:
    """The request's log line as a dict: log fields, then EMF dimensions, metrics and `_aws`."""
    latency = round((time.perf_counter() - seen.started) * 1000, 1)
    error = seen.error is not None
    line: dict[str, Any] = {
        'level': 'ERROR' if error or seen.status >= 500 else 'INFO',
        'message': f'{seen.route} {seen.status}',
        'request_id': seen.request_id, 'method': seen.method, 'route': seen.route.split(' ', 1)[1],
        'status': seen.status, 'latency_ms': latency,
    }
    if seen.user_id:
        line['user_id'] = seen.user_id
    line.update(seen.fields)
    if _cold[0]:
        line['cold_start'], _cold[0] = True, False
    trace = _trace_id()
    if trace:
        line['xray_trace_id'] = trace
    exc = seen.error
    if exc is not None:
        line['error'] = _error_name(exc)
        line['traceback'] = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))

    if seen.by_gateway:  # API Gateway's own metrics count these when deployed
        return line
    route = 'OPTIONS (preflight)' if seen.method == 'OPTIONS' else seen.route
    seen.metric('Latency', latency, route)
    if seen.status == 429:  # whoever refused it (the login throttle, any other limit): counted here
        seen.metric('RateLimited', 1, route)
    if seen.status >= 500:
        seen.metric('ServerErrors', 1, route)
    for metric in seen.on_status.get(seen.status, ()):
        seen.metric(metric, 1)
    if 'answerer' in seen.fields and seen.status < 400:
        seen.metric('ChatsAnswered', 1, seen.fields['answerer'])
    line.update(emf(seen.metrics, seen.dimensions))
    return line


def emf(metrics: list[tuple[str, float, str, str | None]], dimensions: dict[str, str | None]) -> dict[str, Any]:
    """The EMF part of a line: metric values summed by name, one directive per extra dimension.

    Every metric is published without extra dimension too ([Service]) so alarms see totals.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
    """
    values: dict[str, float] = {}
    units: dict[str, str] = {}
    by_dimension: dict[str | None, list[str]] = {}
    for name, value, unit, dim in metrics:
        if name not in values:
            by_dimension.setdefault(dim, []).append(name)
            values[name], units[name] = 0, unit
        values[name] += value
    directives = []
    for dim, names in by_dimension.items():
        sets = [['Service'], ['Service', dim]] if dim else [['Service']]
        directives.append({'Namespace': NAMESPACE, 'Dimensions': sets,
                           'Metrics': [{'Name': n, 'Unit': units[n]} for n in names]})
    out: dict[str, Any] = {'Service': SERVICE}
    out.update(dimensions)
    out.update({n: round(v, 3) if isinstance(v, float) else v for n, v in values.items()})
    out['_aws'] = {'Timestamp': int(time.time() * 1000), 'CloudWatchMetrics': directives}
    return out


def log_format() -> str:
    """`json` (Lambda, tests, pipes) or `pretty` (a person's terminal under `make run`)."""
    chosen = os.environ.get('LOG_FORMAT', '').lower()
    if chosen in ('json', 'pretty'):
        return chosen
    on_lambda = bool(os.environ.get('AWS_LAMBDA_FUNCTION_NAME'))
    try:
        tty = sys.stdout.isatty()
    except (AttributeError, ValueError):
        tty = False
    return 'pretty' if tty and not on_lambda else 'json'


def pretty(line: dict[str, Any]) -> str:
    """One readable line (and the traceback, if any) of a request's JSON line."""
    parts = [time.strftime('%H:%M:%S'), line.get('method', ''), line.get('route', ''), '→', str(line.get('status', '')),
             f"{line.get('latency_ms', 0):.0f} ms"]
    for key, label in (('user_id', 'user'), ('answerer', 'answerer'), ('model_error', 'model error'),
                       ('error_code', 'code'), ('dependency_error', 'table')):
        if key in line:
            parts.append(f'{label}={line[key]}')
    if 'model_tokens_in' in line:
        parts.append(f"tokens={line['model_tokens_in']}/{line.get('model_tokens_out', 0)}")
    if 'model_latency_ms' in line:
        parts.append(f"model={line['model_latency_ms']:.0f} ms")
    parts.append(f"[{line.get('request_id', '')}]")
    text = ' '.join(p for p in parts if p)
    return text + ('\n' + line['traceback'].rstrip() if 'traceback' in line else '')


def _write(line: dict[str, Any]) -> None:
    text = pretty(line) if log_format() == 'pretty' and 'route' in line else json.dumps(
        line, ensure_ascii=False, separators=(',', ':'), default=str)
    stream = output or sys.stdout
    with _write_lock:  # chalice local serves requests on threads: whole lines only
        stream.write(text + '\n')
        stream.flush()


def emit(seen: Request) -> None:
    try:
        _write(build(seen))
    except Exception:  # logging must never turn an answer into a failure
        traceback.print_exc()


def gateway_answer(method: str, status: int, code: str) -> str:
    """tools/local_api.py: a line for an answer the gateway gives by itself (the app never ran);
    its request id, which the answer carries too."""
    seen = Request(str(uuid.uuid4()), method, f'{method} (gateway)', None)
    seen.status, seen.by_gateway = status, True
    seen.fields['error_code'] = code
    emit(seen)
    return seen.request_id
