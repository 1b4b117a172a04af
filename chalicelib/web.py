"""HTTP plumbing shared by the routes: reading bodies, CORS, absolute links."""
import json
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Dict, Optional
from urllib.parse import parse_qs, urlencode

from chalice import Response

from . import settings
from .errors import BadRequest

MAX_BODY_BYTES = 64 * 1024


def _content_type(request) -> str:
    return (request.headers.get('content-type') or 'application/json').split(';')[0].strip().lower()


def json_body(request, required: bool = True) -> Dict[str, Any]:
    """The request's JSON object; malformed or non-object JSON is a 400, never a 500."""
    raw = request.raw_body or b''
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest('요청 본문이 너무 큽니다.')
    if not raw.strip():
        if required:
            raise BadRequest('요청 본문(JSON)이 필요합니다.')
        return {}
    try:
        data = json.loads(raw.decode('utf-8'))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest('JSON 형식이 올바르지 않습니다.')
    if not isinstance(data, dict):
        raise BadRequest('JSON 객체가 필요합니다.')
    return data


def form_or_json(request) -> Dict[str, Any]:
    """JSON, or a urlencoded / multipart form as the original chatbot view read it."""
    ctype = _content_type(request)
    if ctype == 'application/json':
        return json_body(request)
    raw = request.raw_body or b''
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest('요청 본문이 너무 큽니다.')
    try:
        if ctype == 'application/x-www-form-urlencoded':
            pairs = parse_qs(raw.decode('utf-8'), keep_blank_values=True, strict_parsing=False)
            return {k: v[0] for k, v in pairs.items()}
        if ctype == 'multipart/form-data':
            header = ('Content-Type: %s\r\n\r\n' % request.headers['content-type']).encode('latin-1')
            message = BytesParser(policy=HTTP).parsebytes(header + raw)
            fields = {}
            for part in message.iter_parts():
                name = part.get_param('name', header='content-disposition')
                if name and part.get_filename() is None:
                    fields[name] = part.get_payload(decode=True).decode('utf-8')
            return fields
    except (UnicodeDecodeError, ValueError, KeyError):
        raise BadRequest('폼 데이터를 읽을 수 없습니다.')
    raise BadRequest('지원하지 않는 Content-Type입니다: %s' % ctype)


def client_ip(request) -> str:
    """The caller's address as API Gateway saw it (X-Forwarded-For is the client's to forge)."""
    identity = (request.context or {}).get('identity') or {}
    return identity.get('sourceIp') or 'unknown'


def cors_headers(origin: Optional[str]) -> Dict[str, str]:
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


def legacy_client(request) -> bool:
    """Whether the request comes from where the original web client is served (LEGACY_ORIGINS).
    An Origin header is what browsers send, not a credential: legacy mode changes answer shapes
    and the refresh of sessions that began there, never who may do what."""
    origin = (request.headers.get('origin') or '').rstrip('/')
    return bool(origin) and origin in settings.get().legacy_origins


def json_string(value: Any) -> Response:
    """The original chatbot view's answer (Django's `Response(str)`): `value` JSON-encoded, sent
    as a JSON string, which the original client `JSON.parse`s once more."""
    text = json.dumps(value, ensure_ascii=False)
    return Response(body=json.dumps(text, ensure_ascii=False),
                    headers={'Content-Type': 'application/json; charset=utf-8'})


def finish(response, origin: Optional[str]):
    """Every answer: JSON as UTF-8 (Korean stays readable, not \\uXXXX), CORS for its origin."""
    if isinstance(response.body, (dict, list)):
        response.body = json.dumps(response.body, ensure_ascii=False, separators=(',', ':'))
        response.headers['Content-Type'] = 'application/json; charset=utf-8'
    response.headers.update(cors_headers(origin))
    return response


PREFLIGHT_HEADERS = {
    'Access-Control-Allow-Methods': 'GET,POST,PUT,DELETE,OPTIONS',
    'Access-Control-Allow-Headers': 'Authorization,Content-Type',
    'Access-Control-Max-Age': '600',
}


def base_url(request) -> str:
    """Absolute base of this API as the caller reached it (with the stage on API Gateway)."""
    headers = request.headers
    host = headers.get('host', 'localhost')
    proto = headers.get('x-forwarded-proto', 'http').split(',')[0].strip()
    stage = (request.context or {}).get('stage')
    prefix = '/' + stage if stage and host.endswith('.amazonaws.com') else ''
    return f'{proto}://{host}{prefix}'


def url(request, path: str, **query: Any) -> str:
    params = {k: v for k, v in query.items() if v is not None}
    return base_url(request) + path + ('?' + urlencode(params) if params else '')


def link(request, desc: str, path: str, method: str = 'GET', **query: Any) -> Dict[str, str]:
    return {'desc': desc, 'href': url(request, path, **query), 'method': method}
