"""Bookmarks ("my lines") and the per-line item beside them.

The user's per-line item ("USER#<id>#LINES"/<line id>: times given, and the bookmark's id and
time once kept) guards against keeping a line twice; the list item holds the line as kept.
"""
from collections.abc import Iterable
from typing import Any, NamedTuple

from boto3.dynamodb.conditions import Key

from chalicelib.storage import keys
from chalicelib.storage.counters import Counters
from chalicelib.storage.dynamo import AGAIN, Again, ConditionFailed, Dynamo, Partition, plain, retried


class Kept(NamedTuple):
    bookmark: dict[str, Any]
    created: bool      # False: the line was kept already (the one kept before is returned)
    times_given: int   # how often the bot gave this line to the user


class Bookmarks:
    def __init__(self, db: Dynamo, counters: Counters):
        self.db, self.counters = db, counters

    def _line_item(self, user_id: str, line_id: str) -> dict[str, Any]:
        return self.db.quotes.get_item(Key=keys.user_line(user_id, line_id), ConsistentRead=True).get('Item') or {}

    @staticmethod
    def _kept(line_item: dict[str, Any], line_id: str) -> dict[str, Any] | None:
        if 'bookmark' not in line_item:
            return None
        return {'id': line_item['bookmark'], 'line_id': line_id, 'created_at': line_item['bookmarked_at']}

    def line_for(self, user_id: str, line_id: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """(the corpus line or None, the user's per-line item or {}) in one read."""
        t = self.db.cfg.quotes_table
        line_key, mine = keys.line(line_id), keys.user_line(user_id, line_id)
        found = {i['pk']: i for i in self.db.batch_get({t: [line_key, mine]})[t]}
        line = found.get(line_key['pk'])
        return (dict(line, id=line['sk']) if line else None), found.get(mine['pk'], {})

    def put(self, user_id: str, bookmark: dict[str, Any], item: dict[str, Any] | None = None) -> Kept:
        """Keep a line once: the bookmark as kept (a new one, or the one kept before).
        `item`: the user's per-line item if just read. ConditionFailed (on the account) if
        the account is gone.
        """
        t, line_id = self.db.cfg.quotes_table, bookmark['line_id']
        while True:  # at most twice: a write that lost the race reads the bookmark that won
            item = self._line_item(user_id, line_id) if item is None else item
            kept = self._kept(item, line_id)
            if kept is not None:
                return Kept(kept, False, int(item.get('given', 0)))
            try:
                self.db.transact([
                    {'Update': {'TableName': t, 'Key': keys.user_line(user_id, line_id),
                                'ConditionExpression': 'attribute_not_exists(bookmark)',
                                'UpdateExpression': 'SET bookmark = :b, bookmarked_at = :t',
                                'ExpressionAttributeValues': {':b': bookmark['id'], ':t': bookmark['created_at']}}},
                    {'Put': {'TableName': t, 'Item': dict(bookmark, **keys.bookmark(user_id, bookmark['id']))}},
                    self.counters.on_account(user_id, 'bookmark_count', 1),
                ])
                return Kept(bookmark, True, int(item.get('given', 0)))
            except ConditionFailed as exc:
                if exc.detail and exc.detail[0] != 'ConditionalCheckFailed':
                    raise  # the account is gone
                item = None  # kept by a parallel request a moment ago: read it

    def delete(self, user_id: str, line_id: str) -> bool:
        """Remove the line from the user's list; False if it was not there."""
        t = self.db.cfg.quotes_table

        def attempt(_: int) -> bool | Again:
            kept = self._kept(self._line_item(user_id, line_id), line_id)
            if kept is None:
                return False
            try:
                self.db.transact([
                    {'Update': {'TableName': t, 'Key': keys.user_line(user_id, line_id),
                                'ConditionExpression': 'bookmark = :b',
                                'UpdateExpression': 'REMOVE bookmark, bookmarked_at',
                                'ExpressionAttributeValues': {':b': kept['id']}}},
                    {'Delete': {'TableName': t, 'Key': keys.bookmark(user_id, kept['id'])}},
                    self.counters.on_account(user_id, 'bookmark_count', -1),
                ])
                return True
            except ConditionFailed:
                return AGAIN  # removed (or removed and kept again) meanwhile: read again
        return retried(attempt, 10, spent=lambda: False)

    def of(self, user_id: str) -> Partition:
        return Partition(self.db.quotes, 'pk', keys.kept_pk(user_id, 'BOOKMARKS'), 'sk')

    def all(self, user_id: str) -> list[dict[str, Any]]:
        """Newest first (an export; at most one per corpus line)."""
        mine = Key('pk').eq(keys.kept_pk(user_id, 'BOOKMARKS'))
        items = self.db.query_all(self.db.quotes, ScanIndexForward=False, KeyConditionExpression=mine)
        return [plain(i) for i in items]

    def times_given(self, user_id: str, line_ids: Iterable[str]) -> dict[str, int]:
        t = self.db.cfg.quotes_table
        items = self.db.batch_get({t: [keys.user_line(user_id, i) for i in sorted(set(line_ids))]})[t]
        return {i['sk']: int(i.get('given', 0)) for i in items}

    def count(self, user_id: str) -> int:
        return self.counters.of_account(user_id, 'bookmark_count')

    def delete_all(self, user_id: str) -> None:
        """On account deletion: every bookmark and per-line count of the user."""
        for kind in ('BOOKMARKS', 'LINES'):
            self.db.delete_partition(self.db.quotes, 'pk', keys.kept_pk(user_id, kind), 'sk')
