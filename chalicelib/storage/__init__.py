"""DynamoDB: the only package that knows the tables' layout (one module per concern; dynamo.py
is DynamoDB in general, keys.py every key, tables.py the tables themselves).

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

The store is one object per concern, each a small class in its own module sharing the
DynamoDB helpers (dynamo.py's Dynamo) by composition: `store().chats.put(...)`,
`store().sessions.get(...)`. keys.py builds every key; no other module spells a prefix.
"""
import functools

from chalicelib.core import settings
from chalicelib.storage import keys
from chalicelib.storage.board import Board, board_line_id
from chalicelib.storage.bookmarks import Bookmarks
from chalicelib.storage.chats import Chats
from chalicelib.storage.corpus import CORPUS_LOG_IDS, CORPUS_LOG_LINES, Corpus
from chalicelib.storage.counters import Counters
from chalicelib.storage.dynamo import ConditionFailed, Dynamo, Partition
from chalicelib.storage.limits import Limits
from chalicelib.storage.purges import Purges
from chalicelib.storage.sessions import Sessions
from chalicelib.storage.shares import Shares
from chalicelib.storage.stats import Stats
from chalicelib.storage.tables import Tables
from chalicelib.storage.throttle import GiveBack, Throttle
from chalicelib.storage.users import EmailTaken, Users

__all__ = ['CORPUS_LOG_IDS', 'CORPUS_LOG_LINES', 'ConditionFailed', 'EmailTaken', 'GiveBack', 'Partition',
           'Shares', 'Store', 'board_line_id', 'keys', 'store']


class Store:
    """Every read and write of the app's items, one concern an attribute."""

    def __init__(self, cfg: settings.Settings):
        self.cfg = cfg
        self.db = db = Dynamo(cfg)
        counters = Counters(db)
        self.tables = Tables(db)            # create, drop, ping (operator work, the health check)
        self.sessions = Sessions(db)        # login sessions and each account's index of them
        self.throttle = Throttle(db)        # failed-login counts
        self.limits = Limits(db)            # abuse and cost limits' counts
        self.purges = Purges(db)            # deleted accounts whose things are still to be removed
        self.users = Users(db, self.sessions, self.throttle, self.purges)  # accounts and their email items
        self.stats = Stats(db)              # per-line given/👍/👎 counts
        self.chats = Chats(db, counters, self.stats)
        self.bookmarks = Bookmarks(db, counters)
        self.shares = Shares(db, counters)
        self.corpus = Corpus(db, counters)  # the chatbot's lines, their version and change log
        self.board = Board(db, counters, self.corpus)  # quote proposals, applied into the corpus


@functools.lru_cache(maxsize=1)
def _store_for(cfg: settings.Settings) -> Store:
    return Store(cfg)


def store() -> Store:
    return _store_for(settings.get())
