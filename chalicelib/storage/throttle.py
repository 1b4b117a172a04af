"""Failed-login throttling: counts per key and window, reserved before a password is checked
and given back after a right one."""
from typing import Any, NamedTuple

from chalicelib.storage import keys
from chalicelib.storage.dynamo import ConditionFailed, Dynamo


class GiveBack(NamedTuple):
    """The throttle counts a password check reserved, for the write after a right password to
    give back: `release` one attempt of each key, `clear` each key's window altogether."""
    release: list[str]
    clear: list[str]
    window: int
    expires_at: int


class Throttle:
    def __init__(self, db: Dynamo):
        self.db = db

    def reserve(self, counts: list[tuple[str, int]], window: int, expires_at: int) -> str | None:
        """Count an attempt as a failure, up front, on every (key, limit) at once — unless one
        of them already holds `limit`: then nothing is counted and that key is returned.

        Counting before the password is checked keeps the limits exact however many attempts
        run at once; a successful attempt gives its counts back (GiveBack, in its own write).
        """
        try:
            self.db.transact([{'Update': {
                'TableName': self.db.cfg.auth_table, 'Key': keys.throttle(key, window),
                'ConditionExpression': 'attribute_not_exists(fails) OR fails < :limit',
                'UpdateExpression': 'ADD fails :one SET expires_at = :e',
                'ExpressionAttributeValues': {':one': 1, ':e': expires_at, ':limit': limit}}}
                for key, limit in counts])
            return None
        except ConditionFailed as exc:
            reasons = exc.detail or []
            full = [key for (key, _), reason in zip(counts, reasons, strict=False)
                    if reason == 'ConditionalCheckFailed']
            return full[0] if full else counts[0][0]

    def give_back_ops(self, back: GiveBack) -> list[dict[str, Any]]:
        """Transaction items giving back what `back` names."""
        # No condition on the release (a failed one would cancel the whole transaction): the
        # counter outlives any request, and if_not_exists keeps even a stray one expiring.
        t = self.db.cfg.auth_table
        ops = [{'Update': {'TableName': t, 'Key': keys.throttle(name, back.window),
                           'UpdateExpression': 'ADD fails :minus SET expires_at = if_not_exists(expires_at, :e)',
                           'ExpressionAttributeValues': {':minus': -1, ':e': back.expires_at}}}
               for name in back.release]
        return ops + [{'Delete': {'TableName': t, 'Key': keys.throttle(name, back.window)}} for name in back.clear]
