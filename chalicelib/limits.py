"""Abuse and cost limits: how often one caller may do a costly thing.

    limits.check('chat', principal.user_id)   # 429 TooManyRequests with Retry-After when spent

Call it after validating the input and before the costly part (a bcrypt hash, a model call,
a write). Each check is one conditional DynamoDB update; the counts expire by TTL. A new route
that writes on a user's behalf is limited like chats by `limits.check('chat', user_id)`, or
gets a kind of its own: one line in KINDS (and its settings). A limit set to 0 is off.
"""
import time
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib import storage
from chalicelib.core import settings
from chalicelib.core.errors import TooManyRequests

MINUTE, HOUR, DAY = 60, 3600, 86400


@dataclass(frozen=True)
class Kind:
    windows: Callable[[settings.Settings], list[tuple[int, int]]]  # (limit, seconds) pairs
    message: str


KINDS: dict[str, Kind] = {
    'signup': Kind(lambda c: [(c.signup_limit_per_hour, HOUR)],
                   '이 주소에서 가입 요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.'),
    'chat': Kind(lambda c: [(c.chat_limit_per_minute, MINUTE), (c.chat_limit_per_day, DAY)],
                 '대화 요청이 너무 많습니다. 잠시 쉬었다가 다시 시도해 주세요.'),
    'board_post': Kind(lambda c: [(c.board_post_limit_per_hour, HOUR)],
                       '대사 제안을 너무 자주 올렸습니다. 잠시 후 다시 시도해 주세요.'),
    # ratings, bookmarks and share links: limited like chats, on a count of their own so that
    # rating answers never eats into the chats one may still ask
    'keep': Kind(lambda c: [(c.keep_limit_per_minute, MINUTE), (c.keep_limit_per_day, DAY)],
                 '평가·담기·공유 요청이 너무 많습니다. 잠시 쉬었다가 다시 시도해 주세요.'),
}


def check(kind: str, key: str) -> None:
    """Count one use of `kind` by `key` (a user id, or an address); 429 if a window is full."""
    spec = KINDS[kind]
    windows = [(limit, seconds) for limit, seconds in spec.windows(settings.get()) if limit > 0]
    if not windows:
        return
    wait = storage.store().limits.count_use(f'{kind}#{key}', windows, time.time())
    if wait is not None:
        raise TooManyRequests(spec.message, int(wait) + 1)
