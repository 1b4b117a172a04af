"""The purge jobs of deleted accounts: what they owned is still to be removed."""
import time
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.storage import keys
from chalicelib.storage.dynamo import Dynamo


class Purges:
    def __init__(self, db: Dynamo):
        self.db = db

    def start_op(self, user_id: str) -> dict[str, Any]:
        """Transaction item leaving a job for the deleted account."""
        return {'Put': {'TableName': self.db.cfg.quotes_table,
                        'Item': dict(keys.purge(user_id), deleted_at=int(time.time()))}}

    def jobs(self, older_than: float) -> list[str]:
        """Ids of deleted accounts whose things are still to be removed, deleted before `older_than`."""
        return [i['sk'] for i in self.db.query_all(self.db.quotes, KeyConditionExpression=Key('pk').eq(keys.PURGE),
                                                   ConsistentRead=True) if int(i['deleted_at']) <= older_than]

    def finish(self, user_id: str) -> None:
        self.db.quotes.delete_item(Key=keys.purge(user_id))
