"""The counters every concern shares: an account's (chats, bookmarks, share links) on its
item, and the table-wide ones (the board's proposals) under META."""
from typing import Any

from chalicelib.storage import keys
from chalicelib.storage.dynamo import Dynamo


class Counters:
    def __init__(self, db: Dynamo):
        self.db = db

    def on_account(self, user_id: str, name: str, delta: int) -> dict[str, Any]:
        """Transaction item counting on the account item; the account must still exist, so
        nothing is orphaned."""
        return {'Update': {'TableName': self.db.cfg.users_table, 'Key': keys.user(user_id),
                           'ConditionExpression': 'attribute_exists(pk)',
                           'UpdateExpression': 'ADD #n :d', 'ExpressionAttributeNames': {'#n': name},
                           'ExpressionAttributeValues': {':d': delta}}}

    def of_account(self, user_id: str, name: str) -> int:
        """One of the account's counters; 0 if it is gone."""
        item = self.db.users.get_item(Key=keys.user(user_id), ConsistentRead=True, ProjectionExpression='#n',
                                      ExpressionAttributeNames={'#n': name}).get('Item')
        return max(0, int(item.get(name, 0))) if item else 0

    def move(self, name: str, delta: int) -> dict[str, Any]:
        """Transaction item moving a table-wide counter."""
        return {'Update': {'TableName': self.db.cfg.quotes_table, 'Key': keys.meta(name),
                           'UpdateExpression': 'ADD #n :d', 'ExpressionAttributeNames': {'#n': 'value'},
                           'ExpressionAttributeValues': {':d': delta}}}

    def read(self, name: str) -> int:
        item = self.db.quotes.get_item(Key=keys.meta(name), ConsistentRead=True).get('Item')
        return max(0, int(item['value'])) if item else 0
