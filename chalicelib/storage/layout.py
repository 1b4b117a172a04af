"""Our tables' keys: the names every part of the store shares, and the items they all touch
(the account's counters, the board's and corpus's counters)."""
from typing import Any

from chalicelib.storage.dynamo import Base

BOARD, CORPUS, CORPUS_LOG, META, STATS, PURGE = 'BOARD', 'CORPUS', 'CORPUS_LOG', 'META', 'STATS', 'PURGE'
SHARE_SK = 'SHARE'
# The account fields the email item mirrors, so a login reads one item (kept equal in one transaction).
LOGIN_FIELDS = ('password_hash', 'nickname', 'created_at', 'is_admin')


class EmailTaken(Exception):
    pass


def board_line_id(quote_id: str) -> str:
    """The corpus line an applied proposal becomes."""
    return 'board-' + quote_id


class Layout(Base):
    def _user_counter(self, user_id: str, name: str, delta: int) -> dict[str, Any]:
        """Count on the account item; the account must still exist, so nothing is orphaned."""
        return {'Update': {'TableName': self.cfg.users_table, 'Key': {'pk': 'USER#' + user_id},
                           'ConditionExpression': 'attribute_exists(pk)',
                           'UpdateExpression': 'ADD #n :d', 'ExpressionAttributeNames': {'#n': name},
                           'ExpressionAttributeValues': {':d': delta}}}

    def _counter_update(self, name: str, delta: int) -> dict[str, Any]:
        return {'Update': {'TableName': self.cfg.quotes_table, 'Key': {'pk': META, 'sk': name},
                           'UpdateExpression': 'ADD #n :d', 'ExpressionAttributeNames': {'#n': 'value'},
                           'ExpressionAttributeValues': {':d': delta}}}

    def _counter(self, name: str) -> int:
        item = self.quotes.get_item(Key={'pk': META, 'sk': name}, ConsistentRead=True).get('Item')
        return max(0, int(item['value'])) if item else 0

    def _user_count(self, user_id: str, name: str) -> int:
        """One of the account's counters (chats, bookmarks, share links); 0 if it is gone."""
        item = self.users.get_item(Key={'pk': 'USER#' + user_id}, ConsistentRead=True,
                                   ProjectionExpression='#n', ExpressionAttributeNames={'#n': name}).get('Item')
        return max(0, int(item.get(name, 0))) if item else 0
