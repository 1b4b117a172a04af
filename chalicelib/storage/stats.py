"""Per-line counts: how often each line was given (overall, and to each user: their "times
given"), and its 👍/👎."""
from collections import Counter
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.storage import keys
from chalicelib.storage.dynamo import Dynamo


class Stats:
    def __init__(self, db: Dynamo):
        self.db = db

    def given_ops(self, user_id: str, given: Counter) -> list[dict[str, Any]]:
        """Transaction items counting lines given: to this user and overall (the admin's stats)."""
        ops = []
        for line_id, n in sorted(given.items()):
            for key in (keys.user_line(user_id, line_id), keys.stats(line_id)):
                ops.append({'Update': {'TableName': self.db.cfg.quotes_table, 'Key': key,
                                       'UpdateExpression': 'ADD given :n', 'ExpressionAttributeValues': {':n': n}}})
        return ops

    def rating_op(self, line_id: str, up: int, down: int) -> dict[str, Any]:
        """Transaction item moving the line's 👍/👎 counts."""
        return {'Update': {'TableName': self.db.cfg.quotes_table, 'Key': keys.stats(line_id),
                           'UpdateExpression': 'ADD up :u, down :d',
                           'ExpressionAttributeValues': {':u': up, ':d': down}}}

    def lines(self) -> dict[str, dict[str, int]]:
        """{line id: {"given", "up", "down"}} for every line ever given (one partition's Query)."""
        return {i['sk']: {k: max(0, int(i.get(k, 0))) for k in ('given', 'up', 'down')}
                for i in self.db.query_all(self.db.quotes, KeyConditionExpression=Key('pk').eq(keys.STATS))}
