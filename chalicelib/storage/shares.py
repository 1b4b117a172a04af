"""Share links: a public card, the owner's list entry, and the chat's list of its links.

The chat lists its links ("shares": "<entry id>|<share id>" strings, "share_v" counting
changes), so deleting it deletes them in the same transaction, conditioned on that list being
unchanged: a link made in between fails the delete, which then reads again.
"""
from collections.abc import Iterable
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.storage import keys
from chalicelib.storage.counters import Counters
from chalicelib.storage.dynamo import ConditionFailed, Dynamo, Partition, plain


class Shares:
    PER_CHAT = 10

    def __init__(self, db: Dynamo, counters: Counters):
        self.db, self.counters = db, counters

    def put(self, user_id: str, share: dict[str, Any]) -> None:
        """A public card and the owner's list entry, atomically. ConditionFailed if the chat
        is gone or has PER_CHAT links already (reason at index 2), or the account is gone."""
        t = self.db.cfg.quotes_table
        self.db.transact([
            {'Put': {'TableName': t, 'Item': dict(share, **keys.share(share['id']), user_id=user_id),
                     'ConditionExpression': 'attribute_not_exists(pk)'}},
            {'Put': {'TableName': t, 'Item': {**keys.share_entry(user_id, share['entry']),
                                              'share_id': share['id'], 'chat_id': share['chat_id']}}},
            {'Update': {'TableName': self.db.cfg.chats_table, 'Key': keys.chat(user_id, share['chat_id']),
                        'ConditionExpression': 'attribute_exists(chat_id) AND '
                                               '(attribute_not_exists(shares) OR size(shares) < :max)',
                        'UpdateExpression': 'ADD shares :link, share_v :one',
                        'ExpressionAttributeValues': {':link': {f"{share['entry']}|{share['id']}"},
                                                      ':one': 1, ':max': self.PER_CHAT}}},
            self.counters.on_account(user_id, 'share_count', 1),
        ])

    def get(self, share_id: str) -> dict[str, Any] | None:
        # strongly consistent: a link revoked a moment ago must already be gone
        item = self.db.quotes.get_item(Key=keys.share(share_id), ConsistentRead=True).get('Item')
        return plain(item) if item else None

    def get_many(self, share_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        t = self.db.cfg.quotes_table
        items = self.db.batch_get({t: [keys.share(i) for i in sorted(set(share_ids))]})[t]
        return {i['id']: i for i in items}

    def delete(self, user_id: str, share_id: str) -> bool:
        """Revoke one of the user's links; False if it is not theirs or already gone."""
        share = self.get(share_id)
        if not share or share.get('user_id') != user_id:
            return False
        t = self.db.cfg.quotes_table
        try:
            self.db.transact([
                {'Delete': {'TableName': t, 'Key': keys.share(share_id),
                            'ConditionExpression': 'attribute_exists(pk)'}},
                {'Delete': {'TableName': t, 'Key': keys.share_entry(user_id, share['entry'])}},
                {'Update': {'TableName': self.db.cfg.chats_table, 'Key': keys.chat(user_id, share['chat_id']),
                            'ConditionExpression': 'attribute_exists(chat_id)',
                            'UpdateExpression': 'DELETE shares :link ADD share_v :one',
                            'ExpressionAttributeValues': {':link': {f"{share['entry']}|{share_id}"}, ':one': 1}}},
                self.counters.on_account(user_id, 'share_count', -1),
            ])
        except ConditionFailed:
            return False  # revoked, or its chat deleted, by a parallel request
        return True

    def of(self, user_id: str) -> Partition:
        return Partition(self.db.quotes, 'pk', keys.kept_pk(user_id, 'SHARES'), 'sk')

    def count(self, user_id: str) -> int:
        return self.counters.of_account(user_id, 'share_count')

    def delete_all(self, user_id: str) -> None:
        """On account deletion, after its chats (which took their links): any link left, and
        the user's list of them."""
        mine = Key('pk').eq(keys.kept_pk(user_id, 'SHARES'))
        for entry in list(self.db.query_all(self.db.quotes, KeyConditionExpression=mine, ConsistentRead=True)):
            self.db.quotes.delete_item(Key=keys.share(entry['share_id']))
        self.db.delete_partition(self.db.quotes, 'pk', keys.kept_pk(user_id, 'SHARES'), 'sk')
