"""Abuse and cost limits' counters (chalicelib/limits.py decides what is limited)."""
from chalicelib.storage import keys
from chalicelib.storage.dynamo import Dynamo, deserialize


class Limits:
    def __init__(self, db: Dynamo):
        self.db = db

    def count_use(self, key: str, windows: list[tuple[int, int]], now: float) -> float | None:
        """Count one use of `key` in every (limit, seconds) window, unless one is already full.

        One conditional UpdateItem on one item per longest window; each shorter window is an
        attribute of it (at most `limit` of the longest window of them, as only uses create
        one). Returns None if counted, else seconds until the full window(s) end.
        """
        longest = max(seconds for _, seconds in windows)
        start = int(now // longest) * longest
        names, values, conds, adds = {}, {':one': 1, ':e': start + longest + 60}, [], []
        for i, (limit, seconds) in enumerate(windows):
            names[f'#w{i}'] = f'n{seconds}_{int(now // seconds)}'
            values[f':l{i}'] = limit
            conds.append(f'(attribute_not_exists(#w{i}) OR #w{i} < :l{i})')
            adds.append(f'#w{i} :one')
        try:
            self.db.auth.update_item(Key=keys.limit(key, start),
                                     ConditionExpression=' AND '.join(conds),
                                     UpdateExpression=f"ADD {', '.join(adds)} SET expires_at = :e",
                                     ExpressionAttributeNames=names, ExpressionAttributeValues=values,
                                     ReturnValuesOnConditionCheckFailure='ALL_OLD')
            return None
        except self.db.client.exceptions.ConditionalCheckFailedException as exc:
            item = deserialize(exc.response['Item']) if exc.response.get('Item') else {}
            waits = [(int(now // seconds) + 1) * seconds - now for i, (limit, seconds) in enumerate(windows)
                     if item.get(names[f'#w{i}'], 0) >= limit]
            return max(waits) if waits else start + longest - now
