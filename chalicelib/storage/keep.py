"""What a user keeps: bookmarks, the per-line "times given" items, share links."""
from collections.abc import Iterable
from typing import Any, NamedTuple

from boto3.dynamodb.conditions import Key

from chalicelib.storage.dynamo import ConditionFailed, Partition, plain
from chalicelib.storage.layout import CORPUS, SHARE_SK, Layout


class Kept(NamedTuple):
    bookmark: dict[str, Any]
    created: bool      # False: the line was kept already (the one kept before is returned)
    times_given: int   # how often the bot gave this line to the user


class Keep(Layout):
    # -- bookmarks ("my lines") -------------------------------------------------------------
    # The user's per-line item ("USER#<id>#LINES"/<line id>: times given, and the bookmark's id
    # and time once kept) guards against keeping a line twice; the list item holds the line as kept.
    def _line_item(self, user_id: str, line_id: str) -> dict[str, Any]:
        return self.quotes.get_item(Key={'pk': f'USER#{user_id}#LINES', 'sk': line_id},
                                    ConsistentRead=True).get('Item') or {}

    @staticmethod
    def _kept(line_item: dict[str, Any], line_id: str) -> dict[str, Any] | None:
        if 'bookmark' not in line_item:
            return None
        return {'id': line_item['bookmark'], 'line_id': line_id, 'created_at': line_item['bookmarked_at']}

    def line_for(self, user_id: str, line_id: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """(the corpus line or None, the user's per-line item or {}) in one read."""
        t = self.cfg.quotes_table
        found = {i['pk']: i for i in self._batch_get({t: [{'pk': CORPUS, 'sk': line_id},
                                                          {'pk': f'USER#{user_id}#LINES', 'sk': line_id}]})[t]}
        line = found.get(CORPUS)
        return (dict(line, id=line['sk']) if line else None), found.get(f'USER#{user_id}#LINES', {})

    def put_bookmark(self, user_id: str, bookmark: dict[str, Any], item: dict[str, Any] | None = None) -> Kept:
        """Keep a line once: the bookmark as kept (a new one, or the one kept before).
        `item`: the user's per-line item if just read. ConditionFailed (on the account) if
        the account is gone.
        """
        t, line_id = self.cfg.quotes_table, bookmark['line_id']
        while True:
            item = self._line_item(user_id, line_id) if item is None else item
            kept = self._kept(item, line_id)
            if kept is not None:
                return Kept(kept, False, int(item.get('given', 0)))
            try:
                self._transact([
                    {'Update': {'TableName': t, 'Key': {'pk': f'USER#{user_id}#LINES', 'sk': line_id},
                                'ConditionExpression': 'attribute_not_exists(bookmark)',
                                'UpdateExpression': 'SET bookmark = :b, bookmarked_at = :t',
                                'ExpressionAttributeValues': {':b': bookmark['id'], ':t': bookmark['created_at']}}},
                    {'Put': {'TableName': t,
                             'Item': dict(bookmark, pk=f'USER#{user_id}#BOOKMARKS', sk=bookmark['id'])}},
                    self._user_counter(user_id, 'bookmark_count', 1),
                ])
                return Kept(bookmark, True, int(item.get('given', 0)))
            except ConditionFailed as exc:
                if exc.detail and exc.detail[0] != 'ConditionalCheckFailed':
                    raise  # the account is gone
                item = None  # kept by a parallel request a moment ago: read it

    def delete_bookmark(self, user_id: str, line_id: str) -> bool:
        """Remove the line from the user's list; False if it was not there."""
        t = self.cfg.quotes_table
        for _ in range(10):
            kept = self._kept(self._line_item(user_id, line_id), line_id)
            if kept is None:
                return False
            try:
                self._transact([
                    {'Update': {'TableName': t, 'Key': {'pk': f'USER#{user_id}#LINES', 'sk': line_id},
                                'ConditionExpression': 'bookmark = :b',
                                'UpdateExpression': 'REMOVE bookmark, bookmarked_at',
                                'ExpressionAttributeValues': {':b': kept['id']}}},
                    {'Delete': {'TableName': t, 'Key': {'pk': f'USER#{user_id}#BOOKMARKS', 'sk': kept['id']}}},
                    self._user_counter(user_id, 'bookmark_count', -1),
                ])
                return True
            except ConditionFailed:
                continue  # removed (or removed and kept again) meanwhile: read again
        return False

    def bookmarks_of(self, user_id: str) -> Partition:
        return Partition(self.quotes, 'pk', f'USER#{user_id}#BOOKMARKS', 'sk')

    def all_bookmarks(self, user_id: str) -> list[dict[str, Any]]:
        """Newest first (an export; at most one per corpus line)."""
        return [plain(i) for i in self._query_all(self.quotes, ScanIndexForward=False,
                                                   KeyConditionExpression=Key('pk').eq(f'USER#{user_id}#BOOKMARKS'))]

    def times_given(self, user_id: str, line_ids: Iterable[str]) -> dict[str, int]:
        t = self.cfg.quotes_table
        items = self._batch_get({t: [{'pk': f'USER#{user_id}#LINES', 'sk': i} for i in sorted(set(line_ids))]})[t]
        return {i['sk']: int(i.get('given', 0)) for i in items}

    def bookmark_count(self, user_id: str) -> int:
        return self._user_count(user_id, 'bookmark_count')

    # -- share links ------------------------------------------------------------------------
    # The chat lists its links ("shares": "<entry id>|<share id>" strings, "share_v" counting
    # changes), so deleting it deletes them in the same transaction, conditioned on that list
    # being unchanged: a link made in between fails the delete, which then reads again.
    SHARES_PER_CHAT = 10

    def put_share(self, user_id: str, share: dict[str, Any]) -> None:
        """A public card and the owner's list entry, atomically. ConditionFailed if the chat
        is gone or has SHARES_PER_CHAT links already (reason at index 2), or the account is gone."""
        t = self.cfg.quotes_table
        self._transact([
            {'Put': {'TableName': t, 'Item': dict(share, pk='SHARE#' + share['id'], sk=SHARE_SK, user_id=user_id),
                     'ConditionExpression': 'attribute_not_exists(pk)'}},
            {'Put': {'TableName': t, 'Item': {'pk': f'USER#{user_id}#SHARES', 'sk': share['entry'],
                                              'share_id': share['id'], 'chat_id': share['chat_id']}}},
            {'Update': {'TableName': self.cfg.chats_table, 'Key': {'user_id': user_id, 'chat_id': share['chat_id']},
                        'ConditionExpression': 'attribute_exists(chat_id) AND '
                                               '(attribute_not_exists(shares) OR size(shares) < :max)',
                        'UpdateExpression': 'ADD shares :link, share_v :one',
                        'ExpressionAttributeValues': {':link': {f"{share['entry']}|{share['id']}"},
                                                      ':one': 1, ':max': self.SHARES_PER_CHAT}}},
            self._user_counter(user_id, 'share_count', 1),
        ])

    def get_share(self, share_id: str) -> dict[str, Any] | None:
        # strongly consistent: a link revoked a moment ago must already be gone
        item = self.quotes.get_item(Key={'pk': 'SHARE#' + share_id, 'sk': SHARE_SK}, ConsistentRead=True).get('Item')
        return plain(item) if item else None

    def get_shares(self, share_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        t = self.cfg.quotes_table
        items = self._batch_get({t: [{'pk': 'SHARE#' + i, 'sk': SHARE_SK} for i in sorted(set(share_ids))]})[t]
        return {i['id']: i for i in items}

    def delete_share(self, user_id: str, share_id: str) -> bool:
        """Revoke one of the user's links; False if it is not theirs or already gone."""
        share = self.get_share(share_id)
        if not share or share.get('user_id') != user_id:
            return False
        t = self.cfg.quotes_table
        try:
            self._transact([
                {'Delete': {'TableName': t, 'Key': {'pk': 'SHARE#' + share_id, 'sk': SHARE_SK},
                            'ConditionExpression': 'attribute_exists(pk)'}},
                {'Delete': {'TableName': t, 'Key': {'pk': f'USER#{user_id}#SHARES', 'sk': share['entry']}}},
                {'Update': {'TableName': self.cfg.chats_table, 'Key': {'user_id': user_id, 'chat_id': share['chat_id']},
                            'ConditionExpression': 'attribute_exists(chat_id)',
                            'UpdateExpression': 'DELETE shares :link ADD share_v :one',
                            'ExpressionAttributeValues': {':link': {f"{share['entry']}|{share_id}"}, ':one': 1}}},
                self._user_counter(user_id, 'share_count', -1),
            ])
        except ConditionFailed:
            return False  # revoked, or its chat deleted, by a parallel request
        return True

    def shares_of(self, user_id: str) -> Partition:
        return Partition(self.quotes, 'pk', f'USER#{user_id}#SHARES', 'sk')

    def share_count(self, user_id: str) -> int:
        return self._user_count(user_id, 'share_count')

    def delete_kept(self, user_id: str) -> None:
        """On account deletion, after its chats (which took their links): any link left,
        every bookmark and per-line count of the user."""
        for entry in list(self._query_all(self.quotes, KeyConditionExpression=Key('pk').eq(f'USER#{user_id}#SHARES'),
                                          ConsistentRead=True)):
            self.quotes.delete_item(Key={'pk': 'SHARE#' + entry['share_id'], 'sk': SHARE_SK})
        for kind in ('SHARES', 'BOOKMARKS', 'LINES'):
            self._delete_keys(self.quotes, 'pk', f'USER#{user_id}#{kind}', 'sk')

