"""DynamoDB: the only module that knows the tables' layout.

Tables (names from settings):
- users:  pk = "USER#<id>" (the account, with a chat counter) | "EMAIL#<email>" (uniqueness guard,
          and a copy of what login needs: user_id, password_hash, nickname, created_at, is_admin)
- chats:  user_id, chat_id (time-ordered, so a Query lists newest first)
- quotes: pk, sk — "BOARD"/<quote id> proposals (GSI by_owner on owner, sk),
          "CORPUS"/<line id> the chatbot's lines, "META"/"board"|"corpus" counters and version
- auth:   pk, sk, TTL on expires_at — "USER#<id>"/"SESSION#<sid>" login sessions,
          "THROTTLE#<scope>#<value>"/<window start> failed-login counters,
          "LIMIT#<kind>#<key>"/<window start> abuse-limit counters (limits.py)
Every request-path access is a GetItem or a Query by key; nothing scans.
"""
import functools
import time
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Optional, Tuple

import boto3
from boto3.dynamodb.conditions import Attr, Key
from botocore.config import Config
from botocore.exceptions import ClientError

from . import deadline, settings
from .errors import Conflict

BOARD, CORPUS, META = 'BOARD', 'CORPUS', 'META'
# The account fields the email item mirrors, so a login reads one item (kept equal in one transaction).
LOGIN_FIELDS = ('password_hash', 'nickname', 'created_at', 'is_admin')


class ConditionFailed(Conflict):
    """A conditional write found the item not in the state it required.

    Callers turn it into what it means for them (404, 401…); one that escapes is a 409.
    """

    def __init__(self, detail: Any = None):
        super().__init__('요청이 다른 변경과 겹쳤습니다. 다시 시도해 주세요.')
        self.detail = detail


class EmailTaken(Exception):
    pass


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals back to ints, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _set_expression(fields: Dict[str, Any]) -> Dict[str, Any]:
    """UpdateItem arguments that SET each field (names and values as placeholders)."""
    return {'UpdateExpression': 'SET ' + ', '.join('#f%d = :f%d' % (i, i) for i in range(len(fields))),
            'ExpressionAttributeNames': {'#f%d' % i: k for i, k in enumerate(fields)},
            'ExpressionAttributeValues': {':f%d' % i: v for i, v in enumerate(fields.values())}}


def board_line_id(quote_id: str) -> str:
    """The corpus line an applied proposal becomes."""
    return 'board-' + quote_id


def _cancel_reasons(exc: ClientError) -> List[str]:
    return [r.get('Code', 'None') for r in exc.response.get('CancellationReasons', [])]


def _within_deadline(**_) -> None:
    """No DynamoDB attempt (first try or retry) starts once the request's budget is spent."""
    deadline.check()


class Partition:
    """One partition of a table in sort-key order (ids are time-ordered: descending is newest
    first): what pagination reads of a collection. Every read is a Query by key."""

    def __init__(self, table, key_name: str, key_value: str, sort_name: str):
        self.table, self.key_name, self.key_value, self.sort_name = table, key_name, key_value, sort_name

    def key_of(self, item: Dict[str, Any]) -> str:
        return item[self.sort_name]

    def _query(self, limit: int, start: Optional[str], newest_first: bool, **extra) -> Iterable[Dict[str, Any]]:
        kwargs = dict(extra, KeyConditionExpression=Key(self.key_name).eq(self.key_value),
                      ScanIndexForward=not newest_first, Limit=limit)
        if start is not None:
            kwargs['ExclusiveStartKey'] = {self.key_name: self.key_value, self.sort_name: start}
        seen = 0
        while seen < limit:  # more than one call only when a call hits DynamoDB's 1 MB page
            resp = self.table.query(**kwargs)
            seen += len(resp['Items'])
            yield from resp['Items']
            if 'LastEvaluatedKey' not in resp:
                return
            kwargs['ExclusiveStartKey'] = resp['LastEvaluatedKey']
            kwargs['Limit'] = limit - seen

    def page(self, limit: int, start: Optional[str] = None, newest_first: bool = True) -> List[Dict[str, Any]]:
        """Up to `limit` items following sort key `start` (exclusive), in that order."""
        return [_plain(i) for i in self._query(limit, start, newest_first)]

    def skip(self, n: int, newest_first: bool = True) -> Optional[str]:
        """Sort key of the n-th item in that order (keys only), or None if there are fewer."""
        last, seen = None, 0
        for item in self._query(n, None, newest_first, ProjectionExpression='#s',
                                ExpressionAttributeNames={'#s': self.sort_name}):
            last, seen = item[self.sort_name], seen + 1
        return last if seen >= n else None


class Store:
    def __init__(self, cfg: settings.Settings):
        self.cfg = cfg
        # Short timeouts and few attempts: a hung table costs seconds, not botocore's 60 s × 5.
        self.db = boto3.resource('dynamodb', config=Config(
            retries={'total_max_attempts': cfg.dynamodb_max_attempts, 'mode': 'standard'},
            connect_timeout=cfg.dynamodb_connect_timeout, read_timeout=cfg.dynamodb_read_timeout))
        self.client = self.db.meta.client
        self.client.meta.events.register('before-send.dynamodb', _within_deadline)
        self.users = self.db.Table(cfg.users_table)
        self.chats = self.db.Table(cfg.chats_table)
        self.quotes = self.db.Table(cfg.quotes_table)
        self.auth = self.db.Table(cfg.auth_table)

    # -- schema -----------------------------------------------------------------------------
    def table_specs(self) -> List[Dict[str, Any]]:
        def spec(name, keys, extra=None):
            attrs = {k for k, _ in keys}
            s = {'TableName': name, 'BillingMode': 'PAY_PER_REQUEST',
                 'KeySchema': [{'AttributeName': k, 'KeyType': t} for k, t in keys]}
            s.update(extra or {})
            for gsi in s.get('GlobalSecondaryIndexes', []):
                attrs.update(k['AttributeName'] for k in gsi['KeySchema'])
            s['AttributeDefinitions'] = [{'AttributeName': a, 'AttributeType': 'S'} for a in sorted(attrs)]
            return s
        return [
            spec(self.cfg.users_table, [('pk', 'HASH')]),
            spec(self.cfg.chats_table, [('user_id', 'HASH'), ('chat_id', 'RANGE')]),
            spec(self.cfg.quotes_table, [('pk', 'HASH'), ('sk', 'RANGE')], {'GlobalSecondaryIndexes': [{
                'IndexName': 'by_owner', 'Projection': {'ProjectionType': 'KEYS_ONLY'},
                'KeySchema': [{'AttributeName': 'owner', 'KeyType': 'HASH'},
                              {'AttributeName': 'sk', 'KeyType': 'RANGE'}]}]}),
            spec(self.cfg.auth_table, [('pk', 'HASH'), ('sk', 'RANGE')]),
        ]

    @staticmethod
    def _admin_client():
        """For operator work (creating tables takes seconds): patient, unlike the request path's."""
        return boto3.client('dynamodb', config=Config(retries={'total_max_attempts': 5, 'mode': 'standard'},
                                                      connect_timeout=5, read_timeout=60))

    def create_tables(self) -> List[str]:
        """Create missing tables (idempotent); returns the names it created."""
        admin = self._admin_client()
        existing = set(admin.list_tables()['TableNames'])
        created = []
        for s in self.table_specs():
            if s['TableName'] in existing:
                continue
            admin.create_table(**s)
            created.append(s['TableName'])
        for name in created:
            admin.get_waiter('table_exists').wait(TableName=name, WaiterConfig={'Delay': 1})
            if name == self.cfg.auth_table:
                admin.update_time_to_live(TableName=name, TimeToLiveSpecification={
                    'Enabled': True, 'AttributeName': 'expires_at'})
        return created

    def drop_tables(self) -> None:
        admin = self._admin_client()
        existing = set(admin.list_tables()['TableNames'])
        for s in self.table_specs():
            if s['TableName'] in existing:
                admin.delete_table(TableName=s['TableName'])

    def ping(self) -> bool:
        self.users.get_item(Key={'pk': 'PING'})
        return True

    def _transact(self, items: List[Dict[str, Any]], retries: int = 5) -> None:
        """A transaction; ConditionFailed if a condition failed, retried on mere conflicts."""
        for attempt in range(retries):
            try:
                self.client.transact_write_items(TransactItems=items)
                return
            except ClientError as exc:
                if exc.response['Error']['Code'] != 'TransactionCanceledException':
                    raise
                reasons = _cancel_reasons(exc)
                if 'ConditionalCheckFailed' in reasons:
                    raise ConditionFailed(reasons)
                if 'TransactionConflict' not in reasons or attempt == retries - 1:
                    raise
                time.sleep(0.02 * (2 ** attempt))

    def _query_all(self, table, **kwargs) -> Iterable[Dict[str, Any]]:
        """Every item a Query matches, page by page."""
        while True:
            resp = table.query(**kwargs)
            yield from resp['Items']
            if 'LastEvaluatedKey' not in resp:
                return
            kwargs['ExclusiveStartKey'] = resp['LastEvaluatedKey']

    # -- users ------------------------------------------------------------------------------
    def create_user(self, user: Dict[str, Any]) -> None:
        t = self.cfg.users_table
        try:
            self._transact([
                {'Put': {'TableName': t, 'Item': self._email_item(user),
                         'ConditionExpression': 'attribute_not_exists(pk)'}},
                {'Put': {'TableName': t, 'Item': dict(user, pk='USER#' + user['id'], chat_count=0),
                         'ConditionExpression': 'attribute_not_exists(pk)'}},
            ])
        except ConditionFailed:
            raise EmailTaken(user['email'])

    def get_user(self, user_id: str) -> Optional[Dict[str, Any]]:
        item = self.users.get_item(Key={'pk': 'USER#' + user_id}, ConsistentRead=True).get('Item')
        return _plain(item) if item else None

    def _batch_get(self, keys: Dict[str, List[Dict[str, str]]]) -> Dict[str, List[Dict[str, Any]]]:
        """Items by key from one or more tables (strongly consistent), in as few calls as
        BatchGetItem's 100 keys allow; what a table lacks is simply not returned."""
        found: Dict[str, List[Dict[str, Any]]] = {table: [] for table in keys}
        pending = [(table, k) for table, ks in keys.items() for k in ks]
        for start in range(0, len(pending), 100):
            request: Dict[str, Any] = {}
            for table, k in pending[start:start + 100]:
                request.setdefault(table, {'Keys': [], 'ConsistentRead': True})['Keys'].append(k)
            while request:
                resp = self.db.batch_get_item(RequestItems=request)
                for table, items in resp['Responses'].items():
                    found[table].extend(_plain(i) for i in items)
                request = resp.get('UnprocessedKeys') or None
        return found

    def get_users(self, user_ids: Iterable[str]) -> Dict[str, Dict[str, Any]]:
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        return {u['id']: u for u in self._batch_get({self.cfg.users_table: [{'pk': 'USER#' + i} for i in ids]})[self.cfg.users_table]}

    def user_id_for_email(self, email: str) -> Optional[str]:
        item = self.users.get_item(Key={'pk': 'EMAIL#' + email}, ConsistentRead=True).get('Item')
        return item['user_id'] if item else None

    @staticmethod
    def _email_item(user: Dict[str, Any]) -> Dict[str, Any]:
        item = {k: user[k] for k in LOGIN_FIELDS if k in user}
        return dict(item, pk='EMAIL#' + user['email'], user_id=user['id'])

    def update_user(self, user_id: str, fields: Dict[str, Any]) -> Dict[str, Any]:
        """Set fields of the account (none the email item mirrors: update_account does those);
        the account as it is now; ConditionFailed if it is gone."""
        if set(fields) & set(LOGIN_FIELDS):
            raise ValueError('%s are mirrored by the email item: use update_account' % sorted(set(fields) & set(LOGIN_FIELDS)))
        try:
            resp = self.users.update_item(Key={'pk': 'USER#' + user_id}, ConditionExpression='attribute_exists(pk)',
                                          ReturnValues='ALL_NEW', **_set_expression(fields))
        except self.client.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed(user_id)
        return _plain(resp['Attributes'])

    def update_account(self, user_id: str, email: str, fields: Dict[str, Any]) -> None:
        """Set fields of the account and, those it mirrors (LOGIN_FIELDS), of its email item, in
        one transaction; ConditionFailed if the account is gone."""
        self._transact(self._user_updates(user_id, fields, email))

    def _user_updates(self, user_id: str, fields: Dict[str, Any], email: str) -> List[Dict[str, Any]]:
        """Transaction items setting `fields` on the account, and on the email item those it mirrors."""
        t = self.cfg.users_table
        ops = [{'Update': dict(_set_expression(fields), TableName=t, Key={'pk': 'USER#' + user_id},
                               ConditionExpression='attribute_exists(pk)')}]
        mirrored = {k: v for k, v in fields.items() if k in LOGIN_FIELDS}
        if mirrored:
            mirror = _set_expression(mirrored)
            ops.append({'Update': dict(mirror, TableName=t, Key={'pk': 'EMAIL#' + email}, ConditionExpression='user_id = :uid',
                                       ExpressionAttributeValues=dict(mirror['ExpressionAttributeValues'], **{':uid': user_id}))})
        return ops

    # -- login (three calls: reserve_attempts, login_record, finish_login) --------------------
    def login_record(self, email: str) -> Optional[Dict[str, Any]]:
        """What a login checks and answers with, from the email item alone (one GetItem);
        an email item written before it mirrored the account costs a second read."""
        item = self.users.get_item(Key={'pk': 'EMAIL#' + email}, ConsistentRead=True).get('Item')
        if not item:
            return None
        item = _plain(item)
        if 'password_hash' not in item:
            user = self.get_user(item['user_id'])
            return dict(user, backfill=True) if user else None
        return {'id': item['user_id'], 'email': email, **{k: item.get(k) for k in LOGIN_FIELDS}}

    def finish_login(self, user: Dict[str, Any], fields: Dict[str, Any], session: Dict[str, Any],
                     release: Iterable[str], clear: Iterable[str], window: int, expires_at: int) -> None:
        """One transaction: the login's fields on the account, its new session, and the
        throttle counts given back (`release`) or cleared (`clear`). ConditionFailed if the
        account was deleted or its password changed since `user` was read."""
        t = self.cfg.users_table
        update = _set_expression(fields)
        ops = [{'Update': dict(update, TableName=t, Key={'pk': 'USER#' + user['id']},
                               ConditionExpression='attribute_exists(pk) AND password_hash = :h',
                               ExpressionAttributeValues=dict(update['ExpressionAttributeValues'],
                                                              **{':h': user['password_hash']}))},
               {'Put': {'TableName': self.cfg.auth_table, 'Item': self._session_item(user['id'], **session)}}]
        ops += self._give_back(release, clear, window, expires_at)
        if user.get('backfill'):
            ops.append({'Put': {'TableName': t, 'Item': self._email_item(user), 'ConditionExpression': 'user_id = :u',
                                'ExpressionAttributeValues': {':u': user['id']}}})
        self._transact(ops)

    def delete_user(self, user_id: str, email: str) -> None:
        t = self.cfg.users_table
        self._transact([
            {'Delete': {'TableName': t, 'Key': {'pk': 'USER#' + user_id},
                        'ConditionExpression': 'attribute_exists(pk)'}},
            {'Delete': {'TableName': t, 'Key': {'pk': 'EMAIL#' + email}}},
        ])

    # -- sessions ---------------------------------------------------------------------------
    @staticmethod
    def _session_item(user_id: str, sid: str, refresh_jti: str, expires_at: int) -> Dict[str, Any]:
        return {'pk': 'USER#' + user_id, 'sk': 'SESSION#' + sid, 'refresh_jti': refresh_jti, 'expires_at': expires_at}

    def put_session(self, user_id: str, sid: str, refresh_jti: str, expires_at: int) -> None:
        self.auth.put_item(Item=self._session_item(user_id, sid, refresh_jti, expires_at))

    def get_session(self, user_id: str, sid: str) -> Optional[Dict[str, Any]]:
        item = self.auth.get_item(Key={'pk': 'USER#' + user_id, 'sk': 'SESSION#' + sid},
                                  ConsistentRead=True).get('Item')
        if not item or int(item['expires_at']) < time.time():
            return None
        return _plain(item)

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
            raise ConditionFailed(self._deserialize(item) if item else None)

    def _deserialize(self, item: Dict[str, Any]) -> Dict[str, Any]:
        from boto3.dynamodb.types import TypeDeserializer
        d = TypeDeserializer()
        return _plain({k: d.deserialize(v) for k, v in item.items()})

    def delete_session(self, user_id: str, sid: str) -> None:
        self.auth.delete_item(Key={'pk': 'USER#' + user_id, 'sk': 'SESSION#' + sid})

    def delete_sessions(self, user_id: str, keep: Optional[str] = None) -> None:
        """End every session of the user, but `keep` (a session id) if given."""
        self._delete_keys(self.auth, 'pk', 'USER#' + user_id, 'sk',
                          skip='SESSION#' + keep if keep else None)

    def _session_keys(self, user_id: str) -> List[Dict[str, str]]:
        return [{'pk': i['pk'], 'sk': i['sk']} for i in self._query_all(
            self.auth, KeyConditionExpression=Key('pk').eq('USER#' + user_id), ConsistentRead=True,
            ProjectionExpression='pk, sk')]

    def update_user_ending_sessions(self, user_id: str, fields: Dict[str, Any], keep: str, email: str,
                                    give_back: Optional[Tuple[List[str], List[str], int, int]] = None) -> None:
        """Change the account (and the email item's copy of it), end its other sessions (all but
        session id `keep`) and give back throttle counts (`give_back`: release, clear, window,
        expires_at): one Query for the sessions, one transaction (more only past ~95 sessions)."""
        doomed = [k for k in self._session_keys(user_id) if k['sk'] != 'SESSION#' + keep]
        ops = self._user_updates(user_id, fields, email) + (self._give_back(*give_back) if give_back else [])
        room = 100 - len(ops)
        self._transact(ops + [{'Delete': {'TableName': self.cfg.auth_table, 'Key': k}} for k in doomed[:room]])
        if doomed[room:]:
            with self.auth.batch_writer() as batch:
                for k in doomed[room:]:
                    batch.delete_item(Key=k)

    def _delete_keys(self, table, key_name: str, key_value: str, sort_name: str, skip: Optional[str] = None) -> None:
        items = self._query_all(table, KeyConditionExpression=Key(key_name).eq(key_value), ConsistentRead=True,
                                ProjectionExpression='#k, #s',
                                ExpressionAttributeNames={'#k': key_name, '#s': sort_name})
        with table.batch_writer() as batch:
            for item in items:
                if item[sort_name] != skip:
                    batch.delete_item(Key={key_name: item[key_name], sort_name: item[sort_name]})

    # -- failed-login throttling ------------------------------------------------------------
    def reserve_attempts(self, keys: List[Tuple[str, int]], window: int, expires_at: int) -> Optional[str]:
        """Count an attempt as a failure, up front, on every (key, limit) at once — unless one
        of them already holds `limit`: then nothing is counted and that key is returned.

        Counting before the password is checked keeps the limits exact however many attempts
        run at once; a successful attempt gives its counts back (finish_login, release_attempts).
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
            full = [key for (key, _), reason in zip(keys, reasons) if reason == 'ConditionalCheckFailed']
            return full[0] if full else keys[0][0]

    def release_attempts(self, release: Iterable[str], clear: Iterable[str], window: int, expires_at: int) -> None:
        """Give attempts back after a password proved right (outside a login)."""
        self._transact(self._give_back(release, clear, window, expires_at))

    def _give_back(self, release: Iterable[str], clear: Iterable[str], window: int,
                   expires_at: int) -> List[Dict[str, Any]]:
        # No condition on the release (a failed one would cancel the whole transaction): the
        # counter outlives any request, and if_not_exists keeps even a stray one expiring.
        ops = [{'Update': {'TableName': self.cfg.auth_table, 'Key': {'pk': 'THROTTLE#' + key, 'sk': str(window)},
                           'UpdateExpression': 'ADD fails :minus SET expires_at = if_not_exists(expires_at, :e)',
                           'ExpressionAttributeValues': {':minus': -1, ':e': expires_at}}} for key in release]
        return ops + [{'Delete': {'TableName': self.cfg.auth_table, 'Key': {'pk': 'THROTTLE#' + key, 'sk': str(window)}}}
                      for key in clear]

    # -- abuse limits -----------------------------------------------------------------------
    def count_use(self, key: str, windows: List[Tuple[int, int]], now: float) -> Optional[float]:
        """Count one use of `key` in every (limit, seconds) window, unless one is already full.

        One conditional UpdateItem on one item per longest window; each shorter window is an
        attribute of it (at most `limit` of the longest window of them, as only uses create
        one). Returns None if counted, else seconds until the full window(s) end.
        """
        longest = max(seconds for _, seconds in windows)
        start = int(now // longest) * longest
        names, values, conds, adds = {}, {':one': 1, ':e': start + longest + 60}, [], []
        for i, (limit, seconds) in enumerate(windows):
            names['#w%d' % i] = 'n%d_%d' % (seconds, int(now // seconds))
            values[':l%d' % i] = limit
            conds.append('(attribute_not_exists(#w{0}) OR #w{0} < :l{0})'.format(i))
            adds.append('#w%d :one' % i)
        try:
            self.auth.update_item(Key={'pk': 'LIMIT#' + key, 'sk': str(start)},
                                  ConditionExpression=' AND '.join(conds),
                                  UpdateExpression='ADD %s SET expires_at = :e' % ', '.join(adds),
                                  ExpressionAttributeNames=names, ExpressionAttributeValues=values,
                                  ReturnValuesOnConditionCheckFailure='ALL_OLD')
            return None
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            item = self._deserialize(exc.response['Item']) if exc.response.get('Item') else {}
            waits = [(int(now // seconds) + 1) * seconds - now for i, (limit, seconds) in enumerate(windows)
                     if item.get(names['#w%d' % i], 0) >= limit]
            return max(waits) if waits else start + longest - now

    # -- chats ------------------------------------------------------------------------------
    def put_chat(self, user_id: str, chat: Dict[str, Any]) -> None:
        """Save a chat and count it, atomically; ConditionFailed if the account is gone."""
        self._transact([
            {'Put': {'TableName': self.cfg.chats_table, 'Item': dict(chat, user_id=user_id),
                     'ConditionExpression': 'attribute_not_exists(chat_id)'}},
            {'Update': {'TableName': self.cfg.users_table, 'Key': {'pk': 'USER#' + user_id},
                        'ConditionExpression': 'attribute_exists(pk)',
                        'UpdateExpression': 'ADD chat_count :one', 'ExpressionAttributeValues': {':one': 1}}},
        ])

    def put_chats_bulk(self, user_id: str, chats: List[Dict[str, Any]]) -> None:
        """Seed many chats at once (benchmarks, migrations): batch writes, then one counter update."""
        with self.chats.batch_writer() as batch:
            for chat in chats:
                batch.put_item(Item=dict(chat, user_id=user_id))
        self.users.update_item(Key={'pk': 'USER#' + user_id}, UpdateExpression='ADD chat_count :n',
                               ExpressionAttributeValues={':n': len(chats)})

    def get_chat(self, user_id: str, chat_id: str) -> Optional[Dict[str, Any]]:
        item = self.chats.get_item(Key={'user_id': user_id, 'chat_id': chat_id}).get('Item')
        return _plain(item) if item else None

    def chats_of(self, user_id: str) -> Partition:
        return Partition(self.chats, 'user_id', user_id, 'chat_id')

    def chat_count(self, user_id: str) -> int:
        user = self.get_user(user_id)
        return max(0, int(user.get('chat_count', 0))) if user else 0

    def delete_chat(self, user_id: str, chat_id: str) -> None:
        self._transact([
            {'Delete': {'TableName': self.cfg.chats_table, 'Key': {'user_id': user_id, 'chat_id': chat_id},
                        'ConditionExpression': 'attribute_exists(chat_id)'}},
            {'Update': {'TableName': self.cfg.users_table, 'Key': {'pk': 'USER#' + user_id},
                        'ConditionExpression': 'attribute_exists(pk)',
                        'UpdateExpression': 'ADD chat_count :minus', 'ExpressionAttributeValues': {':minus': -1}}},
        ])

    def delete_chats(self, user_id: str) -> int:
        """Delete every chat of the user, keeping the counter exact under concurrent deletes.

        Each transaction deletes up to 99 chats that must still exist and subtracts exactly
        that many; if another request deleted one first, the batch is read again.
        """
        deleted = 0
        while True:
            resp = self.chats.query(KeyConditionExpression=Key('user_id').eq(user_id), ConsistentRead=True,
                                    ProjectionExpression='chat_id', Limit=99)
            if not resp['Items']:
                return deleted
            ops = [{'Delete': {'TableName': self.cfg.chats_table, 'Key': {'user_id': user_id, 'chat_id': i['chat_id']},
                               'ConditionExpression': 'attribute_exists(chat_id)'}} for i in resp['Items']]
            ops.append({'Update': {'TableName': self.cfg.users_table, 'Key': {'pk': 'USER#' + user_id},
                                   'UpdateExpression': 'ADD chat_count :minus',
                                   'ExpressionAttributeValues': {':minus': -len(resp['Items'])}}})
            try:
                self._transact(ops)
            except ConditionFailed:
                continue  # someone deleted some of these meanwhile: read again
            deleted += len(resp['Items'])
            if 'LastEvaluatedKey' not in resp:  # that was all of them
                return deleted

    # -- quote board ------------------------------------------------------------------------
    def _counter_update(self, name: str, delta: int) -> Dict[str, Any]:
        return {'Update': {'TableName': self.cfg.quotes_table, 'Key': {'pk': META, 'sk': name},
                           'UpdateExpression': 'ADD #n :d', 'ExpressionAttributeNames': {'#n': 'value'},
                           'ExpressionAttributeValues': {':d': delta}}}

    def _counter(self, name: str) -> int:
        item = self.quotes.get_item(Key={'pk': META, 'sk': name}, ConsistentRead=True).get('Item')
        return max(0, int(item['value'])) if item else 0

    def put_proposal(self, proposal: Dict[str, Any]) -> None:
        """Save a proposal and count it; ConditionFailed if the author's account is gone."""
        self._transact([
            {'Put': {'TableName': self.cfg.quotes_table,
                     'Item': dict(proposal, pk=BOARD, sk=proposal['id'], owner=proposal['user_id']),
                     'ConditionExpression': 'attribute_not_exists(sk)'}},
            {'ConditionCheck': {'TableName': self.cfg.users_table, 'Key': {'pk': 'USER#' + proposal['user_id']},
                                'ConditionExpression': 'attribute_exists(pk)'}},
            self._counter_update('board', 1),
        ])

    def get_proposal(self, quote_id: str) -> Optional[Dict[str, Any]]:
        item = self.quotes.get_item(Key={'pk': BOARD, 'sk': quote_id}, ConsistentRead=True).get('Item')
        return _plain(item) if item else None

    def proposals(self) -> Partition:
        return Partition(self.quotes, 'pk', BOARD, 'sk')

    def proposal_count(self) -> int:
        return self._counter('board')

    def users_and_board_count(self, user_ids: Iterable[str]) -> Tuple[Dict[str, Dict[str, Any]], int]:
        """Those accounts and the board's proposal count, in one BatchGetItem."""
        found = self._batch_get({self.cfg.users_table: [{'pk': 'USER#' + i} for i in sorted(set(user_ids))],
                                 self.cfg.quotes_table: [{'pk': META, 'sk': 'board'}]})
        counter = found[self.cfg.quotes_table]
        return ({u['id']: u for u in found[self.cfg.users_table]},
                max(0, int(counter[0]['value'])) if counter else 0)

    def user_and_proposal(self, user_id: str, quote_id: str) -> Tuple[Optional[Dict[str, Any]], Optional[Dict[str, Any]]]:
        """An account and a proposal, in one BatchGetItem."""
        found = self._batch_get({self.cfg.users_table: [{'pk': 'USER#' + user_id}],
                                 self.cfg.quotes_table: [{'pk': BOARD, 'sk': quote_id}]})
        users, quotes = found[self.cfg.users_table], found[self.cfg.quotes_table]
        return (users[0] if users else None), (quotes[0] if quotes else None)

    def put_proposals_bulk(self, proposals: List[Dict[str, Any]]) -> None:
        """Seed many proposals at once (benchmarks, migrations): batch writes, then one counter update."""
        with self.quotes.batch_writer() as batch:
            for q in proposals:
                batch.put_item(Item=dict(q, pk=BOARD, sk=q['id'], owner=q['user_id']))
        self.client.transact_write_items(TransactItems=[self._counter_update('board', len(proposals))])

    def proposal_ids_of(self, user_id: str) -> List[str]:
        return [i['sk'] for i in self._query_all(self.quotes, IndexName='by_owner',
                                                 KeyConditionExpression=Key('owner').eq(user_id))]

    def update_proposal(self, quote_id: str, fields: Dict[str, Any], unapplied_only: bool = False) -> Dict[str, Any]:
        cond = Attr('sk').exists()
        if unapplied_only:
            cond = cond & Attr('is_apply').eq(False)
        try:
            resp = self.quotes.update_item(Key={'pk': BOARD, 'sk': quote_id}, ConditionExpression=cond,
                                           ReturnValues='ALL_NEW', **_set_expression(fields))
        except self.client.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed(quote_id)
        return _plain(resp['Attributes'])

    def anonymize_proposal(self, quote_id: str) -> None:
        try:
            self.quotes.update_item(Key={'pk': BOARD, 'sk': quote_id}, ConditionExpression='attribute_exists(sk)',
                                    UpdateExpression='REMOVE #o, user_id', ExpressionAttributeNames={'#o': 'owner'})
        except self.client.exceptions.ConditionalCheckFailedException:
            pass  # deleted meanwhile: nothing left to anonymize

    def delete_proposal(self, quote_id: str, applied: bool) -> None:
        """Delete a proposal, and its corpus line if it was applied."""
        ops = [{'Delete': {'TableName': self.cfg.quotes_table, 'Key': {'pk': BOARD, 'sk': quote_id},
                           'ConditionExpression': 'attribute_exists(sk) AND is_apply = :a',
                           'ExpressionAttributeValues': {':a': applied}}},
               self._counter_update('board', -1)]
        if applied:
            ops += [{'Delete': {'TableName': self.cfg.quotes_table, 'Key': {'pk': CORPUS, 'sk': board_line_id(quote_id)}}},
                    self._counter_update('corpus', 1)]
        self._transact(ops)

    def set_applied(self, quote_id: str, seen_updated_at: str, line: Optional[Dict[str, Any]],
                    at: Optional[str]) -> None:
        """Apply (`line` joins the corpus) or withdraw (line None: it leaves), atomically.

        Conditioned on the proposal being unchanged since it was read (`seen_updated_at`), so
        an edit racing the apply cannot leave the board and the corpus saying different things.
        """
        line_key = {'pk': CORPUS, 'sk': board_line_id(quote_id)}
        applied = line is not None
        corpus_op = ({'Put': {'TableName': self.cfg.quotes_table, 'Item': dict(line, id=line_key['sk'], **line_key)}}
                     if applied else {'Delete': {'TableName': self.cfg.quotes_table, 'Key': line_key}})
        update = {'TableName': self.cfg.quotes_table, 'Key': {'pk': BOARD, 'sk': quote_id},
                  'ConditionExpression': 'updated_at = :seen AND is_apply = :was',
                  'UpdateExpression': 'SET is_apply = :a, applied_at = :t',
                  'ExpressionAttributeValues': {':a': applied, ':t': at, ':seen': seen_updated_at, ':was': not applied}}
        self._transact([{'Update': update}, corpus_op, self._counter_update('corpus', 1)])

    # -- corpus -----------------------------------------------------------------------------
    def corpus_version(self) -> int:
        return self._counter('corpus')

    def corpus_lines(self) -> List[Dict[str, Any]]:
        return [_plain(i) for i in self._query_all(self.quotes, KeyConditionExpression=Key('pk').eq(CORPUS))]

    def put_corpus_lines(self, lines: List[Dict[str, Any]]) -> None:
        """Write lines keyed by their own id (rewriting one is harmless), then bump the version."""
        with self.quotes.batch_writer() as batch:
            for line in lines:
                batch.put_item(Item=dict(line, pk=CORPUS, sk=line['id']))
        self.client.transact_write_items(TransactItems=[self._counter_update('corpus', 1)])

    def delete_corpus_lines(self, line_ids: List[str]) -> None:
        with self.quotes.batch_writer() as batch:
            for line_id in line_ids:
                batch.delete_item(Key={'pk': CORPUS, 'sk': line_id})
        self.client.transact_write_items(TransactItems=[self._counter_update('corpus', 1)])


@functools.lru_cache(maxsize=1)
def _store_for(cfg: settings.Settings) -> Store:
    return Store(cfg)


def store() -> Store:
    return _store_for(settings.get())
