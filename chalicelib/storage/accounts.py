"""Accounts, their email items, sessions and the session index, login throttling, abuse limits
and the purge jobs of deleted accounts."""
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from boto3.dynamodb.conditions import Key

from chalicelib.core.errors import ServiceUnavailable
from chalicelib.storage.dynamo import TRANSACTION_MAX, ConditionFailed, deserialize, failed_at, plain, set_expression
from chalicelib.storage.layout import LOGIN_FIELDS, PURGE, EmailTaken, Layout
from chalicelib.storage.records import SessionIndex, User


class GiveBack(NamedTuple):
    """The throttle counts a password check reserved, for the write after a right password to
    give back: `release` one attempt of each key, `clear` each key's window altogether."""
    release: list[str]
    clear: list[str]
    window: int
    expires_at: int


class Accounts(Layout):
    # -- users ------------------------------------------------------------------------------
    def create_user(self, user: User) -> None:
        t = self.cfg.users_table
        try:
            self._transact([
                {'Put': {'TableName': t, 'Item': self._email_item(user),
                         'ConditionExpression': 'attribute_not_exists(pk)'}},
                {'Put': {'TableName': t, 'Item': dict(user, pk='USER#' + user['id'], chat_count=0),
                         'ConditionExpression': 'attribute_not_exists(pk)'}},
                # a new account has no session yet: its index is complete from the start
                {'Put': {'TableName': self.cfg.auth_table, 'Item': {**self._index_key(user['id']), 'n': 0,
                                                                     'complete': True}}},
            ])
        except ConditionFailed:
            raise EmailTaken(user['email']) from None

    def get_user(self, user_id: str) -> User | None:
        item = self.users.get_item(Key={'pk': 'USER#' + user_id}, ConsistentRead=True).get('Item')
        return plain(item) if item else None

    def get_users(self, user_ids: Iterable[str]) -> dict[str, User]:
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        found = self._batch_get({self.cfg.users_table: [{'pk': 'USER#' + i} for i in ids]})
        return {u['id']: u for u in found[self.cfg.users_table]}

    def user_id_for_email(self, email: str) -> str | None:
        item = self.users.get_item(Key={'pk': 'EMAIL#' + email}, ConsistentRead=True).get('Item')
        return item['user_id'] if item else None

    @staticmethod
    def _email_item(user: dict[str, Any]) -> dict[str, Any]:
        item = {k: user[k] for k in LOGIN_FIELDS if k in user}
        return dict(item, pk='EMAIL#' + user['email'], user_id=user['id'])

    def update_account(self, user_id: str, email: str, fields: dict[str, Any]) -> None:
        """Set fields of the account and, those it mirrors (LOGIN_FIELDS), of its email item, in
        one transaction; ConditionFailed if the account is gone."""
        self._transact(self._user_updates(user_id, fields, email))

    def _user_updates(self, user_id: str, fields: dict[str, Any], email: str) -> list[dict[str, Any]]:
        """Transaction items setting `fields` on the account, and on the email item those it mirrors."""
        t = self.cfg.users_table
        ops = [{'Update': dict(set_expression(fields), TableName=t, Key={'pk': 'USER#' + user_id},
                               ConditionExpression='attribute_exists(pk)')}]
        mirrored = {k: v for k, v in fields.items() if k in LOGIN_FIELDS}
        if mirrored:
            mirror = set_expression(mirrored)
            values = dict(mirror['ExpressionAttributeValues'], **{':uid': user_id})
            ops.append({'Update': dict(mirror, TableName=t, Key={'pk': 'EMAIL#' + email},
                                       ConditionExpression='user_id = :uid', ExpressionAttributeValues=values)})
        return ops

    # -- login (three calls: reserve_attempts, login_record, finish_login) --------------------
    def login_record(self, email: str) -> User | None:
        """What a login checks and answers with, from the email item alone (one GetItem);
        an email item written before it mirrored the account costs a second read."""
        item = self.users.get_item(Key={'pk': 'EMAIL#' + email}, ConsistentRead=True).get('Item')
        if not item:
            return None
        item = plain(item)
        if 'password_hash' not in item:
            user = self.get_user(item['user_id'])
            return dict(user, backfill=True) if user else None
        return {'id': item['user_id'], 'email': email, **{k: item.get(k) for k in LOGIN_FIELDS}}

    def finish_login(self, user: User, fields: dict[str, Any], session: dict[str, Any], give_back: GiveBack) -> None:
        """One transaction: the login's fields on the account, its new session, and the
        throttle counts given back. ConditionFailed if the account was deleted or its
        password changed since `user` was read."""
        t = self.cfg.users_table
        update = set_expression(fields)
        ops = [{'Update': dict(update, TableName=t, Key={'pk': 'USER#' + user['id']},
                               ConditionExpression='attribute_exists(pk) AND password_hash = :h',
                               ExpressionAttributeValues=dict(update['ExpressionAttributeValues'],
                                                              **{':h': user['password_hash']}))},
               {'Put': {'TableName': self.cfg.auth_table, 'Item': self._session_item(user['id'], **session)}},
               self._index_add(user['id'], session['sid'])]
        ops += self._give_back(give_back)
        if user.get('backfill'):
            ops.append({'Put': {'TableName': t, 'Item': self._email_item(user), 'ConditionExpression': 'user_id = :u',
                                'ExpressionAttributeValues': {':u': user['id']}}})
        self._listing_session(ops, 2, user['id'], session['sid'])

    def delete_account(self, user_id: str, email: str, index: SessionIndex | None,
                       give_back: GiveBack) -> None:
        """Delete the account, its email item and its sessions, give back the password check's
        throttle counts, and leave a purge job for what the account owned (purge_account), in
        one transaction, given the session `index` read with the account. ConditionFailed if
        the account is gone already."""
        t = self.cfg.users_table
        ops = [{'Delete': {'TableName': t, 'Key': {'pk': 'USER#' + user_id},
                           'ConditionExpression': 'attribute_exists(pk)'}},
               {'Delete': {'TableName': t, 'Key': {'pk': 'EMAIL#' + email}}},
               {'Put': {'TableName': self.cfg.quotes_table,
                        'Item': {'pk': PURGE, 'sk': user_id, 'deleted_at': int(time.time())}}}]
        ops += self._give_back(give_back)

        self._ending_sessions(user_id, index, ops, lambda n: {'Delete': dict(
            self._index_unchanged(n), TableName=self.cfg.auth_table, Key=self._index_key(user_id))})

    def _ending_sessions(self, user_id: str, index: SessionIndex | None, ops: list[dict[str, Any]],
                         index_op: Callable[[int | None], dict[str, Any]], keep: str | None = None) -> None:
        """Run `ops` (the account's item first) in one transaction with deletes of every session
        but `keep` and `index_op(n)`, the index's own change conditioned on its count `n`:
        if a login lists itself meanwhile, read the index again and end that session too."""
        for _ in range(5):
            sids, n = self._sessions_to_end(user_id, index)
            doomed = [{'pk': 'USER#' + user_id, 'sk': 'SESSION#' + s} for s in sids if s != keep]
            room = TRANSACTION_MAX - len(ops) - 1
            try:
                self._transact(ops + [index_op(n)] + [{'Delete': {'TableName': self.cfg.auth_table, 'Key': k}}
                                                            for k in doomed[:room]])
            except ConditionFailed as exc:
                if not failed_at(exc, len(ops)) or failed_at(exc, 0):  # not the index's: the account is gone
                    raise
                index = self._index_of(user_id)
                continue
            if doomed[room:]:  # only an index grown past its size limit (all its sessions alive) gets here
                with self.auth.batch_writer() as batch:
                    for k in doomed[room:]:
                        batch.delete_item(Key=k)
            return
        raise ServiceUnavailable('잠시 후 다시 시도해 주세요.', retry_after=1)

    def delete_sessions_left(self, user_id: str) -> None:
        """The purge's last word on sessions: whatever of the account's auth partition is left."""
        self._delete_keys(self.auth, 'pk', 'USER#' + user_id, 'sk')

    def purge_jobs(self, older_than: float) -> list[str]:
        """Ids of deleted accounts whose things are still to be removed, deleted before `older_than`."""
        return [i['sk'] for i in self._query_all(self.quotes, KeyConditionExpression=Key('pk').eq(PURGE),
                                                 ConsistentRead=True) if int(i['deleted_at']) <= older_than]

    def finish_purge(self, user_id: str) -> None:
        self.quotes.delete_item(Key={'pk': PURGE, 'sk': user_id})

    def account_exists(self, user_id: str) -> bool:
        return 'Item' in self.users.get_item(Key={'pk': 'USER#' + user_id}, ConsistentRead=True,
                                             ProjectionExpression='pk')

    # -- sessions ---------------------------------------------------------------------------
    # Each account's sessions are listed in an index item beside them, so a password change or
    # an account deletion ends them in its one transaction instead of Querying them first.
    # Logouts and expiry leave ids in it (deleting a missing session is harmless); a login that
    # finds it full prunes it to the live sessions (a Query, once per SESSION_INDEX_MAX logins).
    SESSION_INDEX_MAX = 60  # with the other items of a password change, one transaction's 100

    @staticmethod
    def _session_item(user_id: str, sid: str, refresh_jti: str, expires_at: int) -> dict[str, Any]:
        return {'pk': 'USER#' + user_id, 'sk': 'SESSION#' + sid, 'refresh_jti': refresh_jti, 'expires_at': expires_at}

    @staticmethod
    def _index_key(user_id: str) -> dict[str, str]:
        return {'pk': 'USER#' + user_id, 'sk': 'SESSIONS'}

    def _index_add(self, user_id: str, sid: str, bounded: bool = True) -> dict[str, Any]:
        """Transaction item listing a new session; when `bounded`, fails (ConditionFailed) if the
        index is full."""
        update = {'TableName': self.cfg.auth_table, 'Key': self._index_key(user_id),
                  'UpdateExpression': 'ADD sids :sid, n :one', 'ExpressionAttributeValues': {':sid': {sid}, ':one': 1}}
        if bounded:
            update['ConditionExpression'] = 'attribute_not_exists(sids) OR size(sids) < :max'
            update['ExpressionAttributeValues'][':max'] = self.SESSION_INDEX_MAX
        return {'Update': update}

    def _listing_session(self, ops: list[dict[str, Any]], at: int, user_id: str, sid: str) -> None:
        """Run a transaction whose item `at` lists session `sid`; if the index is full, prune it
        to the live sessions and run it again (unbounded: that many sessions are all alive)."""
        try:
            self._transact(ops)
        except ConditionFailed as exc:
            if not failed_at(exc, at):  # another item's condition, not the index's
                raise
            self.rebuild_session_index(user_id)
            self._transact(ops[:at] + [self._index_add(user_id, sid, bounded=False)] + ops[at + 1:])

    def put_session(self, user_id: str, sid: str, refresh_jti: str, expires_at: int) -> None:
        self._listing_session([{'Put': {'TableName': self.cfg.auth_table,
                                        'Item': self._session_item(user_id, sid, refresh_jti, expires_at)}},
                               self._index_add(user_id, sid)], 1, user_id, sid)

    def get_session(self, user_id: str, sid: str) -> dict[str, Any] | None:
        item = self.auth.get_item(Key={'pk': 'USER#' + user_id, 'sk': 'SESSION#' + sid},
                                  ConsistentRead=True).get('Item')
        if not item or int(item['expires_at']) < time.time():
            return None
        return plain(item)

    def rotate_session(self, user_id: str, sid: str, old_jti: str, new_jti: str, expires_at: int,
                       rotated_at: int) -> None:
        """Swap the session's refresh token, remembering the one it replaced and when.

        ConditionFailed if `old_jti` is no longer current; its `detail` is the session as it
        is (None if it is gone), so the caller can tell a just-rotated token from theft.
        """
        try:
            self.auth.update_item(
                Key={'pk': 'USER#' + user_id, 'sk': 'SESSION#' + sid},
                ConditionExpression='refresh_jti = :old',
                UpdateExpression='SET refresh_jti = :new, expires_at = :e, prev_jti = :old, rotated_at = :t',
                ExpressionAttributeValues={':old': old_jti, ':new': new_jti, ':e': expires_at, ':t': rotated_at},
                ReturnValuesOnConditionCheckFailure='ALL_OLD')
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            item = exc.response.get('Item')
            raise ConditionFailed(deserialize(item) if item else None) from exc

    def delete_session(self, user_id: str, sid: str) -> None:
        self.auth.delete_item(Key={'pk': 'USER#' + user_id, 'sk': 'SESSION#' + sid})

    def account_with_sessions(self, user_id: str) -> tuple[User | None, SessionIndex | None]:
        """The account and its session index, in one BatchGetItem."""
        found = self._batch_get({self.cfg.users_table: [{'pk': 'USER#' + user_id}],
                                 self.cfg.auth_table: [self._index_key(user_id)]})
        users, index = found[self.cfg.users_table], found[self.cfg.auth_table]
        return (users[0] if users else None), (index[0] if index else None)

    def _live_sessions(self, user_id: str) -> tuple[list[str], int | None]:
        """Every session id of the user, read from the sessions themselves, and the index's
        change count as it was before they were read (None if there is no index).

        The count is read first, on its own: a Query is only read-committed against
        transactions, so a login committing while it runs could be missed by it yet counted
        in an index item read after it. Read before, the count is older than any session the
        Query missed, and a write conditioned on it fails (to read again) if a login came
        in between."""
        index = self._index_of(user_id)
        n = int(index.get('n', 0)) if index else None
        sids = [item['sk'][len('SESSION#'):] for item in self._query_all(
            self.auth, KeyConditionExpression=Key('pk').eq('USER#' + user_id) & Key('sk').begins_with('SESSION#'),
            ConsistentRead=True, ProjectionExpression='sk')]
        return sids, n

    @staticmethod
    def _index_unchanged(n: int | None) -> dict[str, Any]:
        if n is None:
            return {'ConditionExpression': 'attribute_not_exists(n)'}
        return {'ConditionExpression': 'n = :seen', 'ExpressionAttributeValues': {':seen': n}}

    def _index_set(self, user_id: str, sids: Iterable[str], n: int | None) -> dict[str, Any]:
        """Transaction item making the index exactly `sids` (complete), if unchanged since it
        showed change count `n`: a login in between fails it, to be read again."""
        cond = self._index_unchanged(n)
        values = dict(cond.pop('ExpressionAttributeValues', {}), **{':one': 1, ':t': True})
        sids = set(sids)
        if sids:  # DynamoDB has no empty set: none left is no attribute
            values[':s'] = sids
        expr = 'SET complete = :t, sids = :s ADD n :one' if sids else 'SET complete = :t REMOVE sids ADD n :one'
        return {'Update': dict(cond, TableName=self.cfg.auth_table, Key=self._index_key(user_id),
                               UpdateExpression=expr, ExpressionAttributeValues=values)}

    def rebuild_session_index(self, user_id: str) -> None:
        """Make the index list exactly the live sessions (dropping those ended meanwhile)."""
        for _ in range(5):
            sids, n = self._live_sessions(user_id)
            try:
                self._transact([self._index_set(user_id, sids, n)])
                return
            except ConditionFailed:
                continue  # a login listed itself meanwhile: read again
        raise ServiceUnavailable('잠시 후 다시 시도해 주세요.', retry_after=1)

    def _sessions_to_end(self, user_id: str, index: SessionIndex | None) -> tuple[list[str], int | None]:
        """The session ids to end and the index's change count: from the index when it is
        complete, else (an account older than the index) from a Query of the sessions."""
        if index and index.get('complete'):
            return sorted(index.get('sids') or ()), int(index.get('n', 0))
        return self._live_sessions(user_id)

    def _index_of(self, user_id: str) -> dict[str, Any] | None:
        item = self.auth.get_item(Key=self._index_key(user_id), ConsistentRead=True).get('Item')
        return plain(item) if item else None

    def update_user_ending_sessions(self, user_id: str, fields: dict[str, Any], keep: str, email: str,
                                    index: SessionIndex | None = None,
                                    give_back: GiveBack | None = None) -> None:
        """Change the account (and the email item's copy of it), end its other sessions (all but
        session id `keep`) and give back throttle counts, in one transaction, given the session
        `index` as read with the account (account_with_sessions). ConditionFailed if the account
        is gone."""
        ops = self._user_updates(user_id, fields, email) + (self._give_back(give_back) if give_back else [])
        self._ending_sessions(user_id, index, ops, lambda n: self._index_set(user_id, [keep], n), keep=keep)

    # -- failed-login throttling ------------------------------------------------------------
    def reserve_attempts(self, keys: list[tuple[str, int]], window: int, expires_at: int) -> str | None:
        """Count an attempt as a failure, up front, on every (key, limit) at once — unless one
        of them already holds `limit`: then nothing is counted and that key is returned.

        Counting before the password is checked keeps the limits exact however many attempts
        run at once; a successful attempt gives its counts back (GiveBack, in its own write).
        """
        try:
            self._transact([{'Update': {
                'TableName': self.cfg.auth_table, 'Key': {'pk': 'THROTTLE#' + key, 'sk': str(window)},
                'ConditionExpression': 'attribute_not_exists(fails) OR fails < :limit',
                'UpdateExpression': 'ADD fails :one SET expires_at = :e',
                'ExpressionAttributeValues': {':one': 1, ':e': expires_at, ':limit': limit}}} for key, limit in keys])
            return None
        except ConditionFailed as exc:
            reasons = exc.detail or []
            full = [key for (key, _), reason in zip(keys, reasons, strict=False) if reason == 'ConditionalCheckFailed']
            return full[0] if full else keys[0][0]

    def _give_back(self, back: GiveBack) -> list[dict[str, Any]]:
        # No condition on the release (a failed one would cancel the whole transaction): the
        # counter outlives any request, and if_not_exists keeps even a stray one expiring.
        key = lambda name: {'pk': 'THROTTLE#' + name, 'sk': str(back.window)}  # noqa: E731
        ops = [{'Update': {'TableName': self.cfg.auth_table, 'Key': key(name),
                           'UpdateExpression': 'ADD fails :minus SET expires_at = if_not_exists(expires_at, :e)',
                           'ExpressionAttributeValues': {':minus': -1, ':e': back.expires_at}}}
               for name in back.release]
        return ops + [{'Delete': {'TableName': self.cfg.auth_table, 'Key': key(name)}} for name in back.clear]

    # -- abuse limits -----------------------------------------------------------------------
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
            self.auth.update_item(Key={'pk': 'LIMIT#' + key, 'sk': str(start)},
                                  ConditionExpression=' AND '.join(conds),
                                  UpdateExpression=f"ADD {', '.join(adds)} SET expires_at = :e",
                                  ExpressionAttributeNames=names, ExpressionAttributeValues=values,
                                  ReturnValuesOnConditionCheckFailure='ALL_OLD')
            return None
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            item = deserialize(exc.response['Item']) if exc.response.get('Item') else {}
            waits = [(int(now // seconds) + 1) * seconds - now for i, (limit, seconds) in enumerate(windows)
                     if item.get(names[f'#w{i}'], 0) >= limit]
            return max(waits) if waits else start + longest - now

