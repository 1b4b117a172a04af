"""Login sessions and each account's index of them.

Each account's sessions are listed in an index item beside them, so a password change or an
account deletion ends them in its one transaction instead of Querying them first. Logouts and
expiry leave ids in it (deleting a missing session is harmless); a login that finds it full
prunes it to the live sessions (a Query, once per INDEX_MAX logins).
"""
import time
from collections.abc import Callable, Iterable
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.storage import keys
from chalicelib.storage.dynamo import (
    AGAIN,
    TRANSACTION_MAX,
    Again,
    ConditionFailed,
    Dynamo,
    deserialize,
    failed_at,
    plain,
    retried,
)
from chalicelib.storage.records import SessionIndex


class Sessions:
    INDEX_MAX = 60  # with the other items of a password change, one transaction's 100

    def __init__(self, db: Dynamo):
        self.db = db

    # -- one session ------------------------------------------------------------------------
    @staticmethod
    def item(user_id: str, sid: str, refresh_jti: str, expires_at: int) -> dict[str, Any]:
        return dict(keys.session(user_id, sid), refresh_jti=refresh_jti, expires_at=expires_at)

    def put(self, user_id: str, sid: str, refresh_jti: str, expires_at: int) -> None:
        self.listing([{'Put': {'TableName': self.db.cfg.auth_table,
                               'Item': self.item(user_id, sid, refresh_jti, expires_at)}},
                      self.listing_op(user_id, sid)], 1, user_id, sid)

    def get(self, user_id: str, sid: str) -> dict[str, Any] | None:
        item = self.db.auth.get_item(Key=keys.session(user_id, sid), ConsistentRead=True).get('Item')
        if not item or int(item['expires_at']) < time.time():
            return None
        return plain(item)

    def rotate(self, user_id: str, sid: str, old_jti: str, new_jti: str, expires_at: int, rotated_at: int) -> None:
        """Swap the session's refresh token, remembering the one it replaced and when.

        ConditionFailed if `old_jti` is no longer current; its `detail` is the session as it
        is (None if it is gone), so the caller can tell a just-rotated token from theft.
        """
        try:
            self.db.auth.update_item(
                Key=keys.session(user_id, sid),
                ConditionExpression='refresh_jti = :old',
                UpdateExpression='SET refresh_jti = :new, expires_at = :e, prev_jti = :old, rotated_at = :t',
                ExpressionAttributeValues={':old': old_jti, ':new': new_jti, ':e': expires_at, ':t': rotated_at},
                ReturnValuesOnConditionCheckFailure='ALL_OLD')
        except self.db.client.exceptions.ConditionalCheckFailedException as exc:
            item = exc.response.get('Item')
            raise ConditionFailed(deserialize(item) if item else None) from exc

    def delete(self, user_id: str, sid: str) -> None:
        self.db.auth.delete_item(Key=keys.session(user_id, sid))

    def delete_left(self, user_id: str) -> None:
        """The purge's last word on sessions: whatever of the account's auth partition is left."""
        self.db.delete_partition(self.db.auth, 'pk', keys.account_pk(user_id), 'sk')

    # -- the index, as transaction items ----------------------------------------------------
    def new_index_op(self, user_id: str) -> dict[str, Any]:
        """A new account has no session yet: its index is complete from the start."""
        return {'Put': {'TableName': self.db.cfg.auth_table,
                        'Item': {**keys.session_index(user_id), 'n': 0, 'complete': True}}}

    def listing_op(self, user_id: str, sid: str, bounded: bool = True) -> dict[str, Any]:
        """Transaction item listing a new session; when `bounded`, fails (ConditionFailed) if the
        index is full."""
        update: dict[str, Any] = {'TableName': self.db.cfg.auth_table, 'Key': keys.session_index(user_id),
                  'UpdateExpression': 'ADD sids :sid, n :one', 'ExpressionAttributeValues': {':sid': {sid}, ':one': 1}}
        if bounded:
            update['ConditionExpression'] = 'attribute_not_exists(sids) OR size(sids) < :max'
            update['ExpressionAttributeValues'][':max'] = self.INDEX_MAX
        return {'Update': update}

    @staticmethod
    def _unchanged(n: int | None) -> dict[str, Any]:
        if n is None:
            return {'ConditionExpression': 'attribute_not_exists(n)'}
        return {'ConditionExpression': 'n = :seen', 'ExpressionAttributeValues': {':seen': n}}

    def index_delete_op(self, user_id: str, n: int | None) -> dict[str, Any]:
        """Transaction item deleting the index, if unchanged since it showed change count `n`."""
        return {'Delete': dict(self._unchanged(n), TableName=self.db.cfg.auth_table, Key=keys.session_index(user_id))}

    def index_set_op(self, user_id: str, sids: Iterable[str], n: int | None) -> dict[str, Any]:
        """Transaction item making the index exactly `sids` (complete), if unchanged since it
        showed change count `n`: a login in between fails it, to be read again."""
        cond = self._unchanged(n)
        values = dict(cond.pop('ExpressionAttributeValues', {}), **{':one': 1, ':t': True})
        sids = set(sids)
        if sids:  # DynamoDB has no empty set: none left is no attribute
            values[':s'] = sids
        expr = 'SET complete = :t, sids = :s ADD n :one' if sids else 'SET complete = :t REMOVE sids ADD n :one'
        return {'Update': dict(cond, TableName=self.db.cfg.auth_table, Key=keys.session_index(user_id),
                               UpdateExpression=expr, ExpressionAttributeValues=values)}

    # -- transactions that list or end sessions ---------------------------------------------
    def listing(self, ops: list[dict[str, Any]], at: int, user_id: str, sid: str) -> None:
        """Run a transaction whose item `at` lists session `sid` (listing_op); if the index is
        full, prune it to the live sessions and run it again (unbounded: that many sessions are
        all alive)."""
        try:
            self.db.transact(ops)
        except ConditionFailed as exc:
            if not failed_at(exc, at):  # another item's condition, not the index's
                raise
            self.rebuild_index(user_id)
            self.db.transact(ops[:at] + [self.listing_op(user_id, sid, bounded=False)] + ops[at + 1:])

    def ending(self, user_id: str, index: SessionIndex | None, ops: list[dict[str, Any]],
               index_op: Callable[[int | None], dict[str, Any]], keep: str | None = None) -> None:
        """Run `ops` (the account's item first) in one transaction with deletes of every session
        but `keep` and `index_op(n)`, the index's own change conditioned on its count `n`:
        if a login lists itself meanwhile, read the index again and end that session too."""
        seen = [index]

        def attempt(_: int) -> Again | None:
            sids, n = self._to_end(user_id, seen[0])
            doomed = [keys.session(user_id, s) for s in sids if s != keep]
            room = TRANSACTION_MAX - len(ops) - 1
            try:
                self.db.transact(ops + [index_op(n)] + [{'Delete': {'TableName': self.db.cfg.auth_table, 'Key': k}}
                                                        for k in doomed[:room]])
            except ConditionFailed as exc:
                if not failed_at(exc, len(ops)) or failed_at(exc, 0):  # not the index's: the account is gone
                    raise
                seen[0] = self._index_of(user_id)
                return AGAIN
            if doomed[room:]:  # only an index grown past its size limit (all its sessions alive) gets here
                with self.db.auth.batch_writer() as batch:
                    for k in doomed[room:]:
                        batch.delete_item(Key=k)
            return None
        retried(attempt, 5)

    def rebuild_index(self, user_id: str) -> None:
        """Make the index list exactly the live sessions (dropping those ended meanwhile)."""
        def attempt(_: int) -> Again | None:
            sids, n = self._live(user_id)
            try:
                self.db.transact([self.index_set_op(user_id, sids, n)])
                return None
            except ConditionFailed:
                return AGAIN  # a login listed itself meanwhile: read again
        retried(attempt, 5)

    def _live(self, user_id: str) -> tuple[list[str], int | None]:
        """Every session id of the user, read from the sessions themselves, and the index's
        change count as it was before they were read (None if there is no index).

        The count is read first, on its own: a Query is only read-committed against
        transactions, so a login committing while it runs could be missed by it yet counted
        in an index item read after it. Read before, the count is older than any session the
        Query missed, and a write conditioned on it fails (to read again) if a login came
        in between."""
        index = self._index_of(user_id)
        n = int(index.get('n', 0)) if index else None
        query = Key('pk').eq(keys.account_pk(user_id)) & Key('sk').begins_with(keys.SESSION_PREFIX)
        sids = [keys.sid_of(item['sk']) for item in self.db.query_all(
            self.db.auth, KeyConditionExpression=query, ConsistentRead=True, ProjectionExpression='sk')]
        return sids, n

    def _to_end(self, user_id: str, index: SessionIndex | None) -> tuple[list[str], int | None]:
        """The session ids to end and the index's change count: from the index when it is
        complete, else (an account older than the index) from a Query of the sessions."""
        if index and index.get('complete'):
            return sorted(index.get('sids') or ()), int(index.get('n', 0))
        return self._live(user_id)

    def _index_of(self, user_id: str) -> SessionIndex | None:
        item = self.db.auth.get_item(Key=keys.session_index(user_id), ConsistentRead=True).get('Item')
        return plain(item) if item else None
