"""👍/👎 on answers, and the per-line figures an admin reads to find a badly described line."""
from dataclasses import dataclass
from typing import Any

from chalicelib import limits, storage
from chalicelib.chat import corpus
from chalicelib.chat.contract import LINE
from chalicelib.core.errors import NotFound, ValidationError
from chalicelib.core.ids import is_id
from chalicelib.core.pagination import PageRequest
from chalicelib.core.principal import Principal
from chalicelib.core.validation import Validator
from chalicelib.storage.records import Chat

SORTS = {  # the admin's orders; ties go by line id so pages never shuffle
    'down': lambda r: (-r['down'], -r['given'], r['line']['id']),
    'up': lambda r: (-r['up'], -r['given'], r['line']['id']),
    'given': lambda r: (-r['given'], r['line']['id']),
    'scene': lambda r: (r['line']['scene'] or 99, r['line']['id']),
}


def rate(principal: Principal, chat_id: str, data: dict[str, Any]) -> Chat:
    """Set 👍 (1), 👎 (-1) or none (0) on one of the caller's answers; the saved chat."""
    v = Validator(data)
    value = v.integer('value', -1, 1)
    v.done()
    limits.check('keep', principal.user_id)
    chat = storage.store().chats.rate(principal.user_id, chat_id, value) if is_id(chat_id) else None
    if chat is None:
        raise NotFound('대화를 찾을 수 없습니다.')
    return chat


@dataclass(frozen=True)
class StatsPage:
    results: list[dict[str, Any]]
    total: int


def stats(asked: PageRequest, sort: str | None) -> StatsPage:
    """For admins (the route checks): a page of the corpus's lines with how often each was
    given, 👍 and 👎. Costs one Query of the counters and the cached corpus, so any page costs the same.
    """
    sort = sort or 'down'
    if sort not in SORTS:
        raise ValidationError({'sort': f"{', '.join(SORTS)} 중 하나여야 합니다."})
    counts = storage.store().stats.lines()
    zero = {'given': 0, 'up': 0, 'down': 0}
    rows = [dict(counts.get(line['id'], zero), line=LINE.of(line)) for line in corpus.current().lines]
    rows.sort(key=SORTS[sort])
    start = (asked.page - 1) * asked.per_page
    return StatsPage(rows[start:start + asked.per_page], len(rows))
