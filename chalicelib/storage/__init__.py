"""DynamoDB: the only package that knows the tables' layout (one module per feature's items;
dynamo.py is DynamoDB in general, schema.py the tables themselves).

Tables (names from settings):
- users:  pk = "USER#<id>" (the account, with a chat counter) | "EMAIL#<email>" (uniqueness guard,
          and a copy of what login needs: user_id, password_hash, nickname, created_at, is_admin)
- chats:  user_id, chat_id (time-ordered, so a Query lists newest first)
- quotes: pk, sk — "BOARD"/<quote id> proposals (GSI by_owner on owner, sk),
          "CORPUS"/<line id> the chatbot's lines, "META"/"board"|"corpus" counters and version,
          "CORPUS_LOG"/<version, 12 digits> what that version changed: the lines put (in full when
          few), the ids deleted (the last 100 versions kept),
          "STATS"/<line id> per-line counters (given, up, down), "PURGE"/<user id> deleted
          accounts whose things are still to be removed,
          what a user keeps: "USER#<id>#LINES"/<line id> times given to them and the bookmark
          guard, "USER#<id>#BOOKMARKS"/<bookmark id> and "USER#<id>#SHARES"/<entry id> their
          lists (time-ordered), "SHARE#<share id>"/"SHARE" a public card
- auth:   pk, sk, TTL on expires_at — "USER#<id>"/"SESSION#<sid>" login sessions,
          "USER#<id>"/"SESSIONS" their index (sids, a change count n, complete once it is known
          to list every session), so ending them needs no Query,
          "THROTTLE#<scope>#<value>"/<window start> failed-login counters,
          "LIMIT#<kind>#<key>"/<window start> abuse-limit counters (limits.py)
Every request-path access is a GetItem or a Query by key; nothing scans.
"""
import functools

from chalicelib.core import settings
from chalicelib.storage.accounts import Accounts, GiveBack
from chalicelib.storage.board import Board
from chalicelib.storage.chats import Chats
from chalicelib.storage.corpus import CORPUS_LOG_IDS, CORPUS_LOG_LINES, Corpus
from chalicelib.storage.dynamo import ConditionFailed, Partition
from chalicelib.storage.keep import Keep
from chalicelib.storage.layout import EmailTaken, board_line_id
from chalicelib.storage.schema import Schema

__all__ = ['CORPUS_LOG_IDS', 'CORPUS_LOG_LINES', 'ConditionFailed',
           'EmailTaken', 'GiveBack', 'Partition', 'Store', 'board_line_id', 'store']


class Store(Accounts, Chats, Keep, Board, Corpus, Schema):
    """Every read and write of the app's items (each feature's in its own module)."""


@functools.lru_cache(maxsize=1)
def _store_for(cfg: settings.Settings) -> Store:
    return Store(cfg)


def store() -> Store:
    return _store_for(settings.get())
