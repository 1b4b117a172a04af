"""Page-number and cursor pagination with the contract's HATEOAS collection body.

Any collection kept in sort-key order (a `Source`: newest first is descending) pages the
same way. Links carry an opaque cursor naming where the page starts, so the first page,
`next`, `previous`, the last page and a reload of any of them are each one bounded Query,
however long the collection is:
- after a key (`next`): the page's items follow that key, newest first;
- before a key (`previous`): the page's items precede it, read oldest first from the key;
- last: read oldest first from the old end (its length follows from the count).
A bare `page=N` (the original clients send it) reads the count, then skips keys only from
whichever end of the collection is nearer; its `self` link names the page by cursor from then on.
"""
import base64
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.core import web
from chalicelib.core.errors import BadRequest, ValidationError
from chalicelib.core.ids import is_id
from chalicelib.core.validation import parse_int

PER_PAGE_MIN, PER_PAGE_MAX, PER_PAGE_DEFAULT = 5, 50, 5
PAGE_MAX = 10 ** 9
AFTER, BEFORE, LAST = 'a', 'b', 'l'


class Source(Protocol):
    """A collection in sort-key order (storage.Partition is one)."""

    def page(self, limit: int, start: str | None = None, newest_first: bool = True) -> list[dict[str, Any]]:
        """Up to `limit` items following sort key `start` (exclusive) in that order."""

    def skip(self, n: int, newest_first: bool = True) -> str | None:
        """Sort key of the n-th item in that order, reading keys only; None if there are fewer."""

    def key_of(self, item: dict[str, Any]) -> str:
        """An item's sort key."""


@dataclass(frozen=True)
class Cursor:
    kind: str            # AFTER, BEFORE or LAST
    page: int            # the number of the page it opens
    key: str | None = None


@dataclass(frozen=True)
class PageRequest:
    page: int
    per_page: int
    cursor: Cursor | None = None


@dataclass
class Page:
    items: list[dict[str, Any]]
    number: int
    next_key: str | None = None   # a next page follows this key
    prev_key: str | None = None   # a previous page precedes this key
    here: Cursor | None = None    # reopens this very page (None: the first page's bare address)
    count: int | None = None      # the collection's size, when it had to be read first
    past_end: bool = False


def _int_param(params: dict[str, str], names, default: int, lo: int, hi: int) -> int:
    for name in names:
        if name in params:
            value = parse_int(params[name])
            if value is None or not lo <= value <= hi:
                raise ValidationError({names[0]: f'{lo}에서 {hi} 사이의 정수여야 합니다.'})
            return value
    return default


def encode_cursor(cursor: Cursor) -> str:
    data = {'d': cursor.kind, 'p': cursor.page}
    if cursor.key is not None:
        data['k'] = cursor.key
    raw = json.dumps(data, separators=(',', ':')).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip('=')


def decode_cursor(text: str, key_ok: Callable[[Any], bool] = is_id) -> Cursor:
    bad = BadRequest('cursor 값이 올바르지 않습니다.')
    try:
        data = web.parse_json(base64.urlsafe_b64decode(text + '=' * (-len(text) % 4)))  # deep JSON: a 400
        if 'a' in data and 'd' not in data:  # the first release's `next` cursors: {"a": key, "p": page}
            data = {'d': AFTER, 'k': data['a'], 'p': data['p']}
        kind, page, key = data['d'], data['p'], data.get('k')
    except (ValueError, KeyError, TypeError, AttributeError):
        raise bad from None
    if kind not in (AFTER, BEFORE, LAST) or type(page) is not int or not 1 <= page <= PAGE_MAX:
        raise bad
    if kind == LAST:
        return Cursor(LAST, page)
    if (kind == AFTER and page < 2) or not key_ok(key):  # a page after an item is never the first
        raise bad
    return Cursor(kind, page, key)


def page_request(params: dict[str, str], key_ok: Callable[[Any], bool] = is_id) -> PageRequest:
    """`per-page` and `cursor` (or a bare `page`) of the query string; `key_ok` checks a cursor's key."""
    per_page = _int_param(params, ('per-page', 'per_page'), PER_PAGE_DEFAULT, PER_PAGE_MIN, PER_PAGE_MAX)
    if params.get('cursor'):
        cursor = decode_cursor(params['cursor'], key_ok)
        return PageRequest(cursor.page, per_page, cursor)
    return PageRequest(_int_param(params, ('page',), 1, 1, PAGE_MAX), per_page)


def last_page_number(count: int, per_page: int) -> int:
    return max(1, math.ceil(count / per_page))


def _newest_first(source: Source, per_page: int, after: str | None, number: int) -> Page:
    got = source.page(per_page + 1, after, newest_first=True)
    items = got[:per_page]
    if after is not None and not items:
        return Page([], number, past_end=True)
    return Page(items, number,
                next_key=source.key_of(items[-1]) if len(got) > per_page else None,
                prev_key=source.key_of(items[0]) if after is not None else None,
                here=Cursor(AFTER, number, after) if after is not None else None)


def _oldest_first(source: Source, size: int, before: str | None, number: int) -> Page | None:
    """The `size` items preceding `before` (or the old end: the last page); None when fewer are there."""
    got = source.page(size + 1, before, newest_first=False)
    if len(got) < size or not size:
        return None
    items = list(reversed(got[:size]))
    if len(got) == size:  # nothing newer: the first page, whatever number it was asked as
        return Page(items, 1, next_key=source.key_of(items[-1]) if before is not None else None)
    number = max(number, 2)
    return Page(items, number,
                next_key=source.key_of(items[-1]) if before is not None else None,
                prev_key=source.key_of(items[0]),
                here=Cursor(LAST, number) if before is None else Cursor(BEFORE, number, before))


def fetch_page(asked: PageRequest, source: Source, count: Callable[[], int]) -> Page:
    """The page asked for. `count` (the collection's size) is called only when the page
    cannot be found without it (the last page, a bare page number); Page.count says so."""
    per_page, cursor = asked.per_page, asked.cursor
    if cursor is None and asked.page == 1:
        return _newest_first(source, per_page, None, 1)
    if cursor is not None and cursor.kind == AFTER:
        return _newest_first(source, per_page, cursor.key, cursor.page)
    if cursor is not None and cursor.kind == BEFORE:
        page = _oldest_first(source, per_page, cursor.key, cursor.page)
        # Fewer than a page before it (some were deleted meanwhile): that is the first page.
        return page or _newest_first(source, per_page, None, 1)

    total = count()
    last = last_page_number(total, per_page)
    if cursor is not None:  # LAST
        page = _oldest_first(source, total - (last - 1) * per_page, None, last)
        page = page or _newest_first(source, per_page, None, 1)  # empty, or the count is behind
    else:
        page = _numbered(source, asked.page, per_page, total)
    page.count = total
    return page


def _numbered(source: Source, number: int, per_page: int, total: int) -> Page:
    """A bare page number: skip keys only, from whichever end is nearer."""
    newer = (number - 1) * per_page   # items before the page, newest first
    older = total - number * per_page  # items after it (negative: it is the last page, partly full)
    if newer >= total:
        return Page([], number, past_end=True)
    if max(older, 0) < newer:
        if older <= 0:
            page = _oldest_first(source, per_page + older, None, number)
        else:
            before = source.skip(older, newest_first=False)
            page = _oldest_first(source, per_page, before, number) if before else None
        if page is not None:
            return page
        # the count is behind the items: fall back on skipping from the new end
    after = source.skip(newer, newest_first=True)
    if after is None:
        return Page([], number, past_end=True)
    return _newest_first(source, per_page, after, number)


@dataclass
class Listing:
    """A page as the API shows it: the page read, its items shaped for the answer, and the
    collection's size (None when only reading all of it would tell: a search)."""
    page: Page
    results: list[dict[str, Any]]
    count: int | None


def collection(base: str, path: str, asked: PageRequest, listing: Listing, links: list[dict[str, str]],
               query: dict[str, str] | None = None) -> dict[str, Any]:
    """The collection body: `next`/`previous` and the `first`/`last`/`self` links by cursor.

    `query`: parameters every link keeps (a search's `q`). A count of None (a search, whose
    size only reading it all would tell) gives no `last` link.
    """
    page, count, per_page, keep = listing.page, listing.count, asked.per_page, dict(query or {})

    def at(number: int, cursor: Cursor | None = None) -> str:
        if cursor is None:
            return web.url(base, path, **keep, **{'per-page': per_page, 'page': number})
        return web.url(base, path, **keep, **{'per-page': per_page, 'page': cursor.page,
                                                  'cursor': encode_cursor(cursor)})

    last_link = None
    if count is not None:
        last = last_page_number(count, per_page)
        last_link = at(1) if last == 1 else at(last, Cursor(LAST, last))
    nxt = prev = None
    if page.next_key:
        nxt = at(page.number + 1, Cursor(AFTER, page.number + 1, page.next_key))
    if page.prev_key:
        # by cursor even to page 1: what arrived meanwhile shows up as a page before it, not as a gap
        prev = at(page.number - 1, Cursor(BEFORE, max(1, page.number - 1), page.prev_key))
    elif page.past_end and count:
        prev = last_link
    here = at(page.number) if page.here is None else at(page.here.page, page.here)
    nav = [{'desc': desc, 'href': href, 'method': 'GET'}
           for desc, href in (('self', here), ('first', at(1)), ('last', last_link)) if href]
    return {'count': count, 'next': nxt, 'previous': prev, 'results': listing.results, '_links': links + nav}


def numbered_collection(base: str, path: str, asked: PageRequest, results: list[Any], total: int,
                        links: list[dict[str, str]], query: dict[str, str] | None = None) -> dict[str, Any]:
    """A collection sorted in memory (any page costs the same): links by page number."""
    def at(number: int) -> str:
        return web.url(base, path, **(query or {}), **{'per-page': asked.per_page, 'page': number})
    last = last_page_number(total, asked.per_page)
    nav = [{'desc': desc, 'href': at(n), 'method': 'GET'}
           for desc, n in (('self', asked.page), ('first', 1), ('last', last))]
    return {'count': total, 'next': at(asked.page + 1) if asked.page < last else None,
            'previous': at(min(asked.page, last + 1) - 1) if asked.page > 1 else None, 'results': results,
            '_links': links + nav}
