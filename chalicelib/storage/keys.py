"""Every key of our items, built here and nowhere else (tests/test_shape.py holds it): the
tables' layout in one page (see the package's docstring for what each item holds).

users:  "USER#<id>" the account, "EMAIL#<email>" its email item
chats:  user_id, chat_id
quotes: "BOARD"/<quote id>, "CORPUS"/<line id>, "CORPUS_LOG"/<version>, "META"/<counter>,
        "STATS"/<line id>, "PURGE"/<user id>, "USER#<id>#LINES"|"#BOOKMARKS"|"#SHARES"/<id>,
        "SHARE#<share id>"/"SHARE"
auth:   "USER#<id>"/"SESSION#<sid>"|"SESSIONS", "THROTTLE#<scope>#<value>"/<window>,
        "LIMIT#<kind>#<key>"/<window start>
"""
from typing import Any

Key = dict[str, Any]

BOARD, CORPUS, CORPUS_LOG, META, STATS, PURGE = 'BOARD', 'CORPUS', 'CORPUS_LOG', 'META', 'STATS', 'PURGE'
SESSION_PREFIX = 'SESSION#'
PING: Key = {'pk': 'PING'}  # the health check's read: an item that never exists


# -- users table ---------------------------------------------------------------------------
def account_pk(user_id: str) -> str:
    """The account's partition key: its item in users, its sessions' partition in auth."""
    return 'USER#' + user_id


def user(user_id: str) -> Key:
    return {'pk': account_pk(user_id)}


def email(address: str) -> Key:
    return {'pk': 'EMAIL#' + address}


# -- chats table ---------------------------------------------------------------------------
def chat(user_id: str, chat_id: str) -> Key:
    return {'user_id': user_id, 'chat_id': chat_id}


# -- auth table ----------------------------------------------------------------------------
def session(user_id: str, sid: str) -> Key:
    return {'pk': account_pk(user_id), 'sk': SESSION_PREFIX + sid}


def sid_of(sk: str) -> str:
    """The session id a session item's sort key names."""
    return sk[len(SESSION_PREFIX):]


def session_index(user_id: str) -> Key:
    return {'pk': account_pk(user_id), 'sk': 'SESSIONS'}


def throttle(name: str, window: int) -> Key:
    return {'pk': 'THROTTLE#' + name, 'sk': str(window)}


def limit(key: str, window_start: int) -> Key:
    return {'pk': 'LIMIT#' + key, 'sk': str(window_start)}


# -- quotes table --------------------------------------------------------------------------
def proposal(quote_id: str) -> Key:
    return {'pk': BOARD, 'sk': quote_id}


def line(line_id: str) -> Key:
    return {'pk': CORPUS, 'sk': line_id}


def version_key(version: int) -> str:
    """A corpus version as a sort key that sorts in number order."""
    return f'{version:012d}'


def corpus_log(version: int) -> Key:
    return {'pk': CORPUS_LOG, 'sk': version_key(version)}


def meta(name: str) -> Key:
    """A counter ("board": proposals; "corpus": the corpus version)."""
    return {'pk': META, 'sk': name}


def stats(line_id: str) -> Key:
    return {'pk': STATS, 'sk': line_id}


def purge(user_id: str) -> Key:
    return {'pk': PURGE, 'sk': user_id}


KEPT = ('SHARES', 'BOOKMARKS', 'LINES')


def kept_pk(user_id: str, kind: str) -> str:
    """A partition of what the user keeps: kind "LINES" (per line: times given, the bookmark
    guard), "BOOKMARKS" or "SHARES" (their lists)."""
    assert kind in KEPT, kind
    return f'USER#{user_id}#{kind}'


def user_line(user_id: str, line_id: str) -> Key:
    return {'pk': kept_pk(user_id, 'LINES'), 'sk': line_id}


def bookmark(user_id: str, bookmark_id: str) -> Key:
    return {'pk': kept_pk(user_id, 'BOOKMARKS'), 'sk': bookmark_id}


def share_entry(user_id: str, entry: str) -> Key:
    return {'pk': kept_pk(user_id, 'SHARES'), 'sk': entry}


def share(share_id: str) -> Key:
    return {'pk': 'SHARE#' + share_id, 'sk': 'SHARE'}
