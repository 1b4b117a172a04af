"""Page-number and cursor pagination with the contract's HATEOAS collection body.

A `next` link carries an opaque cursor (the last key seen), so following it is one bounded
Query however long the collection is. A bare `page=N` costs a keys-only skip, as documented.
"""
import base64
import json
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import web
from .errors import BadRequest, ValidationError
from .ids import is_id
from .validation import parse_int

PER_PAGE_MIN, PER_PAGE_MAX, PER_PAGE_DEFAULT = 5, 50, 5


@dataclass(frozen=True)
class PageRequest:
    page: int
    per_page: int
    after: Optional[str]  # sort key of the last item of the previous page, from a cursor


def _int_param(params: Dict[str, str], names, default: int, lo: int, hi: int) -> int:
    for name in names:
        if name in params:
            value = parse_int(params[name])
            if value is None or not lo <= value <= hi:
                raise ValidationError({names[0]: f'{lo}에서 {hi} 사이의 정수여야 합니다.'})
            return value
    return default


def encode_cursor(after: str, page: int) -> str:
    raw = json.dumps({'a': after, 'p': page}, separators=(',', ':')).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip('=')


def decode_cursor(cursor: str) -> Tuple[str, int]:
    try:
        data = web.parse_json(base64.urlsafe_b64decode(cursor + '=' * (-len(cursor) % 4)))
        after, page = data['a'], data['p']
    except (ValueError, KeyError, TypeError):
        raise BadRequest('cursor 값이 올바르지 않습니다.')
    if not is_id(after) or not isinstance(page, int) or page < 2:
        raise BadRequest('cursor 값이 올바르지 않습니다.')
    return after, page


def page_request(request) -> PageRequest:
    params = request.query_params or {}
    per_page = _int_param(params, ('per-page', 'per_page'), PER_PAGE_DEFAULT, PER_PAGE_MIN, PER_PAGE_MAX)
    if params.get('cursor'):
        after, page = decode_cursor(params['cursor'])
        return PageRequest(page, per_page, after)
    page = _int_param(params, ('page',), 1, 1, 1_000_000)
    return PageRequest(page, per_page, None)


Fetch = Callable[[int, Optional[str]], Tuple[List[Dict[str, Any]], Optional[str]]]
Skip = Callable[[int], Optional[str]]


def fetch_page(req: PageRequest, fetch: Fetch, skip: Skip) -> Tuple[List[Dict[str, Any]], Optional[str]]:
    """(items of the page, key to continue after, or None on the last page)."""
    after = req.after
    if after is None and req.page > 1:
        after = skip((req.page - 1) * req.per_page)
        if after is None:  # past the end: an empty page, as DRF's clients can cope with
            return [], None
    return fetch(req.per_page, after)


def collection(request, path: str, req: PageRequest, results: List[Any], next_after: Optional[str],
               count: int, links: List[Dict[str, str]]) -> Dict[str, Any]:
    nxt = prev = None
    if next_after:
        nxt = web.url(request, path, **{'per-page': req.per_page, 'page': req.page + 1,
                                         'cursor': encode_cursor(next_after, req.page + 1)})
    if req.page > 1:
        prev = web.url(request, path, **{'per-page': req.per_page, 'page': req.page - 1})
    return {'count': count, 'next': nxt, 'previous': prev, 'results': results, '_links': links}
