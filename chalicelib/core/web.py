"""HTTP plumbing shared by the routes: reading bodies, CORS, absolute links."""
import json
import re
import time
from decimal import Decimal
from email.errors import MessageError
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs, urlencode

from chalice import Response

from chalicelib.core import settings
from chalicelib.core.errors import BadRequest

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 16  # our bodies nest 2 deep; deeper is an attack on the parser or on whoever reads it


def too_deep(data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests deeper than `limit` (iterative: no recursion to exhaust)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return False


def parse_json(raw: bytes) -> Any:
    """JSON from bytes; ValueError for anything malformed, too deep or not UTF-8."""
    try:
        data = json.loads(raw.decode('utf-8'))
    except RecursionError:  # not a ValueError: the parser gave up on the nesting
        raise ValueError('JSON nests too deeply') from None
    if too_deep(data):
        raise ValueError('JSON nests too deeply')
    return data


def _content_type(request) -> str:
    return (request.headers.get('content-type') or 'application/json').split(';')[0].strip().lower()


def json_body(request, required: bool = True) -> dict[str, Any]:
    """The request's JSON object; malformed or non-object JSON is a 400, never a 500."""
    raw = request.raw_body or b''
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest('요청 본문이 너무 큽니다.')
    if not raw.strip():
        if required:
            raise BadRequest('요청 본문(JSON)이 필요합니다.')
        return {}
    try:
        data = parse_json(raw)
    except ValueError:  # UnicodeDecodeError is one
        raise BadRequest('JSON 형식이 올바르지 않습니다.') from None
    if not isinstance(data, dict):
        raise BadRequest('JSON 객체가 필요합니다.')
    return data


def form_or_json(request) -> dict[str, Any]:
    """JSON, or a urlencoded / multipart form as the original chatbot view read it."""
    ctype = _content_type(request)
    if ctype == 'application/json':
        return json_body(request)
    raw = request.raw_body or b''
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest('요청 본문이 너무 큽니다.')
    try:
        if ctype == 'application/x-www-form-urlencoded':
            pairs = parse_qs(raw.decode('utf-8'), keep_blank_values=True, strict_parsing=False, errors='strict')
            return {k: v[0] for k, v in pairs.items()}
        if ctype == 'multipart/form-data':
            header = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode('latin-1')
            message = BytesParser(policy=HTTP).parsebytes(header + raw)
            fields = {}
            for part in message.iter_parts():
                name = part.get_param('name', header='content-disposition')
                if isinstance(name, str) and part.get_filename() is None:
                    payload = None if part.is_multipart() else part.get_payload(decode=True)
                    if not isinstance(payload, bytes):  # multipart/mixed, message/rfc822…: no text
                        raise BadRequest(f'폼 필드 {name[:50]}는 텍스트여야 합니다.')
                    fields[name] = payload.decode('utf-8')
            return fields
    except (ValueError, LookupError, TypeError, AttributeError, MessageError):
        # the email parser meets hostile input here; whatever it trips on is the client's form
        raise BadRequest('폼 데이터를 읽을 수 없습니다.') from None
    raise BadRequest(f'지원하지 않는 Content-Type입니다: {ctype}')


def client_ip(request) -> str:
    """The caller's address as API Gateway saw it (X-Forwarded-For is the client's to forge)."""
    identity = (request.context or {}).get('identity') or {}
    return identity.get('sourceIp') or 'unknown'


def cors_headers(origin: str | None) -> dict[str, str]:
    """CORS headers for a configured origin (frontend or legacy) only; other origins get none."""
    cfg = settings.get()
    if not origin or origin.rstrip('/') not in cfg.cors_origins + cfg.legacy_origins:
        return {'Vary': 'Origin'}
    return {
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        # Link: an export's next part; Content-Disposition: its file name
        'Access-Control-Expose-Headers': 'Retry-After, X-Request-Id, Link, Content-Disposition',
        'Vary': 'Origin',
    }


LONE_SURROGATE = re.compile('[\ud800-\udfff]')


def _jsonable(value: Any) -> Any:
    """What json.dumps cannot encode by itself but a stored item may hold."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


def encode_json(body: Any) -> str:
    """JSON text that always encodes as UTF-8, whatever is stored: a lone surrogate (saved
    before validation refused them) becomes U+FFFD instead of failing the whole answer."""
    text = json.dumps(body, ensure_ascii=False, separators=(',', ':'), default=_jsonable)
    return LONE_SURROGATE.sub('\ufffd', text)


# On every answer: a browser never sniffs our JSON into something it would render or run.
SECURITY_HEADERS = {'X-Content-Type-Options': 'nosniff'}
# On answers carrying tokens: no cache (browser, proxy, CDN) may keep them.
NO_STORE: dict[str, Any] = {'Cache-Control': 'no-store', 'Pragma': 'no-cache'}


def legacy_client(request) -> bool:
    """Whether the request comes from where the original web client is served (LEGACY_ORIGINS).
    An Origin header is what browsers send, not a credential: legacy mode changes answer shapes
    and the refresh of sessions that began there, never who may do what."""
    origin = (request.headers.get('origin') or '').rstrip('/')
    return bool(origin) and origin in settings.get().legacy_origins


def finish(response: Response, origin: str | None) -> Response:
    """Every answer: JSON as UTF-8 (Korean stays readable, not \\uXXXX), CORS for its origin."""
    if isinstance(response.body, (dict, list)):
        response.body = encode_json(response.body)
        response.headers['Content-Type'] = 'application/json; charset=utf-8'
    response.headers.update(SECURITY_HEADERS)
    response.headers.update(cors_headers(origin))
    return response


PREFLIGHT_HEADERS = {
    'Access-Control-Allow-Methods': 'GET,POST,PUT,DELETE,OPTIONS',
    'Access-Control-Allow-Headers': 'Authorization,Content-Type',
    'Access-Control-Max-Age': '600',
}


def base_url(request) -> str:
    """Absolute base of this API for links: PUBLIC_BASE_URL if set, else the domain and stage
    API Gateway (or tools/local_api.py, with its own address) puts in the request context.
    Never the Host or X-Forwarded-* headers: those are the client's to forge."""
    cfg = settings.get()
    if cfg.public_base_url:
        return cfg.public_base_url
    ctx = request.context or {}
    domain = ctx.get('domainName')
    if not isinstance(domain, str) or not re.fullmatch(r'[A-Za-z0-9.-]+(:[0-9]{1,5})?', domain):
        return ''  # relative links rather than guessed ones
    stage = ctx.get('stage')
    prefix = '/' + stage if isinstance(stage, str) and domain.endswith('.amazonaws.com') and \
        re.fullmatch(r'[A-Za-z0-9_-]+', stage) else ''
    scheme = 'http' if cfg.stage == 'local' else 'https'
    return f'{scheme}://{domain}{prefix}'


def arrival(request) -> float:
    """When the request reached the gateway (its requestTimeEpoch), else now."""
    now = time.time()
    epoch = (request.context or {}).get('requestTimeEpoch')
    if isinstance(epoch, (int, float)) and now - 30 <= epoch / 1000 <= now + 1:  # a second of clock skew
        return min(epoch / 1000, now)
    return now


def url(base: str, path: str, **query: Any) -> str:
    """An absolute link (`base`: base_url of the request) with the query parameters that are set."""
    params = {k: v for k, v in query.items() if v is not None}
    return base + path + ('?' + urlencode(params) if params else '')


Links = list[dict[str, str]]


def link(base: str, desc: str, path: str, method: str = 'GET', **query: Any) -> dict[str, str]:
    """One HATEOAS link: what the caller may do next."""
    return {'desc': desc, 'href': url(base, path, **query), 'method': method}
