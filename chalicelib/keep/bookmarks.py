"""My lines (내 명대사): corpus lines a user keeps, each with how often the bot gave it to them."""
import re
from typing import Any

from chalicelib import limits, storage
from chalicelib.chat.contract import LINE
from chalicelib.core.errors import NotFound, Unauthorized
from chalicelib.core.ids import new_id, now_iso
from chalicelib.core.pagination import Listing, PageRequest, fetch_page
from chalicelib.core.principal import Principal
from chalicelib.keep.contract import BOOKMARK

LINE_ID_RE = re.compile(r'^[A-Za-z0-9_-]{1,80}$')


def _line_fields(line: dict[str, Any]) -> dict[str, Any]:
    return LINE.of(line)


def shape(bookmark: dict[str, Any], times_given: int) -> dict[str, Any]:
    """The line as it was when kept (so a line withdrawn from the corpus since stays readable)."""
    return BOOKMARK.make(line=bookmark['line'], times_given=times_given, created_at=bookmark['created_at'])


def keep(principal: Principal, line_id: str) -> dict[str, Any]:
    """Keep a corpus line (once, however often asked): the bookmark."""
    if not LINE_ID_RE.match(line_id or ''):
        raise NotFound('그 대사를 찾을 수 없습니다.')
    limits.check('keep', principal.user_id)
    st = storage.store()
    line, mine = st.bookmarks.line_for(principal.user_id, line_id)  # one read: the corpus line and the user's item
    if line is None:
        raise NotFound('그 대사를 찾을 수 없습니다.')
    item = {'id': new_id(), 'line_id': line['id'], 'line': _line_fields(line), 'created_at': now_iso()}
    try:
        kept = st.bookmarks.put(principal.user_id, item, mine)
    except storage.ConditionFailed:
        raise Unauthorized('계정이 더 이상 없습니다.') from None
    return shape(dict(kept.bookmark, line=_line_fields(line)), kept.times_given)


def remove(principal: Principal, line_id: str) -> None:
    if not LINE_ID_RE.match(line_id or '') or not storage.store().bookmarks.delete(principal.user_id, line_id):
        raise NotFound('내 명대사에 없는 대사입니다.')


def page(principal: Principal, asked: PageRequest) -> Listing:
    st, uid = storage.store(), principal.user_id
    count = lambda: st.bookmarks.count(uid)  # noqa: E731
    got = fetch_page(asked, st.bookmarks.of(uid), count)
    return Listing(got, _shaped(uid, got.items), got.count if got.count is not None else count())


def _shaped(user_id: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    given = storage.store().bookmarks.times_given(user_id, [b['line_id'] for b in items])
    return [shape(b, given.get(b['line_id'], 0)) for b in items]


def every(principal: Principal) -> list[dict[str, Any]]:
    """All of the caller's bookmarks, newest first (for the export)."""
    return _shaped(principal.user_id, storage.store().bookmarks.all(principal.user_id))
