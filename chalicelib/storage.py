"""DynamoDB: the only module that knows the tables' layout.

Tables (names from settings):
- users:  pk = "USER#<id>" (the account, with a chat counter) | "EMAIL#<email>" (uniqueness guard,
          and a copy of what login needs: user_id, password_hash, nickname, created_at, is_admin)
- chats:  user_id, chat_id (time-ordered, so a Query lists newest first)
- quotes: pk, sk — "BOARD"/<quote id> proposals (GSI by_owner on owner, sk),
          "CORPUS"/<line id> the chatbot's lines, "META"/"board"|"corpus" counters and version,
          "CORPUS_LOG"/<version, 12 digits> what that version changed: the lines put (in full when
          few), the ids deleted (the last 100 versions kept),
          "STATS"/<line id> per-line counters (given, up, down), "PURGE"/<user id> deleted
          accounts whose things are still to be removed,
          what a user keeps: "USER#<id>#LINES"/<line id> times given to them and the bookmark
          guard, "USER#<id>#BOOKMARKS"/<bookmark id> and "USER#<id>#SHARES"/<entry id> their
          lists (time-ordered), "SHARE#<share id>"/"SHARE" a public card
- auth:   pk, sk, TTL on expires_at — "USER#<id>"/"SESSION#<sid>" login sessions,
          "USER#<id>"/"SESSIONS" their index (sids, a change count n, complete once it is known
          to list every session), so ending them needs no Query,
          "THROTTLE#<scope>#<value>"/<window start> failed-login counters,
          "LIMIT#<kind>#<key>"/<window start> abuse-limit counters (limits.py)
Every request-path access is a GetItem or a Query by key; nothing scans.
"""
import functools
import json
import random
import threading
import time
from collections import Counter
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Optional, Tuple

import boto3
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import ClientError

from . import deadline, settings
from .errors import Conflict, ServiceUnavailable

BOARD, CORPUS, CORPUS_LOG, META, STATS, PURGE = 'BOARD', 'CORPUS', 'CORPUS_LOG', 'META', 'STATS', 'PURGE'
CORPUS_LOG_KEEP = 100        # versions the corpus change log keeps; a container further behind reads every line
CORPUS_LOG_IDS = 100         # line ids a log item lists, and a catch-up reads; beyond it, every line is read
CORPUS_LOG_LINES = 10        # a change of up to this many lines carries them in its log item (no read of its own)
CORPUS_WRITE_ATTEMPTS = 20   # racing corpus writers, each retrying on a version another one took
SHARE_SK = 'SHARE'
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


def _lean(value: Dict[str, Any]) -> Any:
    """One attribute value from DynamoDB's JSON, as _plain(TypeDeserializer) gives it: the
    common types directly, the rest through them."""
    [(kind, v)] = value.items()
    if kind in ('S', 'BOOL'):
        return v
    if kind == 'L':
        return [_lean(x) for x in v]
    if kind == 'M':
        return {k: _lean(x) for k, x in v.items()}
    if kind == 'NULL':
        return None
    if kind == 'N' and v.lstrip('-').isdigit():
        return int(v)
    return _plain(TypeDeserializer().deserialize(value))


def _set_expression(fields: Dict[str, Any]) -> Dict[str, Any]:
    """UpdateItem arguments that SET each field (names and values as placeholders)."""
    return {'UpdateExpression': 'SET ' + ', '.join('#f%d = :f%d' % (i, i) for i in range(len(fields))),
            'ExpressionAttributeNames': {'#f%d' % i: k for i, k in enumerate(fields)},
            'ExpressionAttributeValues': {':f%d' % i: v for i, v in enumerate(fields.values())}}


def _version_key(version: int) -> str:
    """A corpus version as a sort key that sorts in number order."""
    return '%012d' % version


def _corpus_line(item: Dict[str, Any]) -> Dict[str, Any]:
    """A corpus item as the line it stores (without its keys)."""
    return {k: v for k, v in item.items() if k not in ('pk', 'sk')}


def board_line_id(quote_id: str) -> str:
    """The corpus line an applied proposal becomes."""
    return 'board-' + quote_id


def _failed_at(exc: 'ConditionFailed', index: int) -> bool:
    """Whether the transaction's item at `index` is one whose condition failed."""
    reasons = exc.detail or []
    return len(reasons) > index and reasons[index] == 'ConditionalCheckFailed'


def _account_gone(exc: 'ConditionFailed', index: int) -> bool:
    """Whether the transaction failed on its account-counter update (at `index`)."""
    return _failed_at(exc, index)


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
        self._lean_reads = threading.local()
        self.client.meta.events.register('before-parse.dynamodb.Query', self._read_items_lean)
        self.users = self.db.Table(cfg.users_table)
        self.chats = self.db.Table(cfg.chats_table)
        self.quotes = self.db.Table(cfg.quotes_table)
        self.auth = self.db.Table(cfg.auth_table)
        self._corpus_seen: Optional[int] = None  # the corpus version last read or written here

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
                if 'TransactionConflict' not in reasons:
                    raise
                if attempt == retries - 1:  # a hot item (a popular line's counter): busy, not broken
                    raise ServiceUnavailable('저장소가 잠시 바쁩니다. 잠시 후 다시 시도해 주세요.', retry_after=1)
                time.sleep(random.uniform(0.01, 0.03) * (2 ** attempt))  # jitter: racers do not retry in step

    def _read_items_lean(self, response_dict: Dict[str, Any], customized_response_dict: Optional[Dict[str, Any]] = None,
                         **_) -> None:
        """For a Query asked to read lean (_query_lean): its items decoded here, with json and
        _lean, and taken out of the body botocore parses next. botocore's parser and boto3's
        deserializer walk every value through the service model: at 1,000 corpus lines they took
        ~80 ms of a ~110 ms read, the HTTP exchange with DynamoDB Local the rest."""
        if (not getattr(self._lean_reads, 'active', False) or response_dict.get('status_code') != 200
                or customized_response_dict is None):  # (a botocore without the hook's second half: parse as usual)
            return
        try:
            body = json.loads(response_dict['body'])
        except ValueError:
            return  # botocore's parser reports it as it would any malformed answer
        customized_response_dict['LeanItems'] = [{k: _lean(v) for k, v in item.items()} for item in body.get('Items', [])]
        body['Items'] = []
        response_dict['body'] = json.dumps(body).encode()

    def _query_lean(self, table, **kwargs) -> List[Dict[str, Any]]:
        """_query_all's items, already plain (ints, not Decimals)."""
        items: List[Dict[str, Any]] = []
        while True:
            self._lean_reads.active = True  # for this call only: nothing else this thread asks is touched
            try:
                resp = table.query(**kwargs)
            finally:
                self._lean_reads.active = False
            lean = resp.get('LeanItems')
            items.extend(lean if lean is not None else [_plain(i) for i in resp['Items']])
            if 'LastEvaluatedKey' not in resp:
                return items
            kwargs['ExclusiveStartKey'] = resp['LastEvaluatedKey']

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
                # a new account has no session yet: its index is complete from the start
                {'Put': {'TableName': self.cfg.auth_table, 'Item': {**self._index_key(user['id']), 'n': 0,
                                                                     'complete': True}}},
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
               {'Put': {'TableName': self.cfg.auth_table, 'Item': self._session_item(user['id'], **session)}},
               self._index_add(user['id'], session['sid'])]
        ops += self._give_back(release, clear, window, expires_at)
        if user.get('backfill'):
            ops.append({'Put': {'TableName': t, 'Item': self._email_item(user), 'ConditionExpression': 'user_id = :u',
                                'ExpressionAttributeValues': {':u': user['id']}}})
        self._listing_session(ops, 2, user['id'], session['sid'])

    def delete_account(self, user_id: str, email: str, index: Optional[Dict[str, Any]],
                       give_back: Tuple[List[str], List[str], int, int]) -> None:
        """Delete the account, its email item and its sessions, give back the password check's
        throttle counts, and leave a purge job for what the account owned (purge_account), in
        one transaction, given the session `index` read with the account. ConditionFailed if
        the account is gone already."""
        t = self.cfg.users_table
        ops = [{'Delete': {'TableName': t, 'Key': {'pk': 'USER#' + user_id}, 'ConditionExpression': 'attribute_exists(pk)'}},
               {'Delete': {'TableName': t, 'Key': {'pk': 'EMAIL#' + email}}},
               {'Put': {'TableName': self.cfg.quotes_table,
                        'Item': {'pk': PURGE, 'sk': user_id, 'deleted_at': int(time.time())}}}]
        ops += self._give_back(*give_back)
        for _ in range(5):
            sids, n = self._sessions_to_end(user_id, index)
            doomed = [{'pk': 'USER#' + user_id, 'sk': 'SESSION#' + s} for s in sids]
            index_op = {'Delete': dict(self._index_unchanged(n), TableName=self.cfg.auth_table, Key=self._index_key(user_id))}
            room = self.TRANSACTION_MAX - len(ops) - 1
            try:
                self._transact(ops + [index_op] + [{'Delete': {'TableName': self.cfg.auth_table, 'Key': k}}
                                                   for k in doomed[:room]])
            except ConditionFailed as exc:
                if not _failed_at(exc, len(ops)) or _failed_at(exc, 0):
                    raise
                index = self._index_of(user_id)  # a login listed itself meanwhile: end it too
                continue
            if doomed[room:]:
                with self.auth.batch_writer() as batch:
                    for k in doomed[room:]:
                        batch.delete_item(Key=k)
            return
        raise ServiceUnavailable('잠시 후 다시 시도해 주세요.', retry_after=1)

    def purge_jobs(self, older_than: float) -> List[str]:
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
    def _session_item(user_id: str, sid: str, refresh_jti: str, expires_at: int) -> Dict[str, Any]:
        return {'pk': 'USER#' + user_id, 'sk': 'SESSION#' + sid, 'refresh_jti': refresh_jti, 'expires_at': expires_at}

    @staticmethod
    def _index_key(user_id: str) -> Dict[str, str]:
        return {'pk': 'USER#' + user_id, 'sk': 'SESSIONS'}

    def _index_add(self, user_id: str, sid: str, bounded: bool = True) -> Dict[str, Any]:
        """Transaction item listing a new session; when `bounded`, fails (ConditionFailed) if the
        index is full."""
        update = {'TableName': self.cfg.auth_table, 'Key': self._index_key(user_id),
                  'UpdateExpression': 'ADD sids :sid, n :one', 'ExpressionAttributeValues': {':sid': {sid}, ':one': 1}}
        if bounded:
            update['ConditionExpression'] = 'attribute_not_exists(sids) OR size(sids) < :max'
            update['ExpressionAttributeValues'][':max'] = self.SESSION_INDEX_MAX
        return {'Update': update}

    def _listing_session(self, ops: List[Dict[str, Any]], at: int, user_id: str, sid: str) -> None:
        """Run a transaction whose item `at` lists session `sid`; if the index is full, prune it
        to the live sessions and run it again (unbounded: that many sessions are all alive)."""
        try:
            self._transact(ops)
        except ConditionFailed as exc:
            if not _failed_at(exc, at):  # another item's condition, not the index's
                raise
            self.rebuild_session_index(user_id)
            self._transact(ops[:at] + [self._index_add(user_id, sid, bounded=False)] + ops[at + 1:])

    def put_session(self, user_id: str, sid: str, refresh_jti: str, expires_at: int) -> None:
        self._listing_session([{'Put': {'TableName': self.cfg.auth_table,
                                        'Item': self._session_item(user_id, sid, refresh_jti, expires_at)}},
                               self._index_add(user_id, sid)], 1, user_id, sid)

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

    def account_with_sessions(self, user_id: str) -> Tuple[Optional[Dict[str, Any]], Optional[Dict[str, Any]]]:
        """The account and its session index, in one BatchGetItem."""
        found = self._batch_get({self.cfg.users_table: [{'pk': 'USER#' + user_id}],
                                 self.cfg.auth_table: [self._index_key(user_id)]})
        users, index = found[self.cfg.users_table], found[self.cfg.auth_table]
        return (users[0] if users else None), (index[0] if index else None)

    def _live_sessions(self, user_id: str) -> Tuple[List[str], Optional[int]]:
        """Every session id of the user, read from the sessions themselves, and the index's
        change count as it was (None if there is no index)."""
        sids, n = [], None
        for item in self._query_all(self.auth, KeyConditionExpression=Key('pk').eq('USER#' + user_id),
                                    ConsistentRead=True, ProjectionExpression='sk, n'):
            if item['sk'] == 'SESSIONS':
                n = int(item.get('n', 0))
            elif item['sk'].startswith('SESSION#'):
                sids.append(item['sk'][len('SESSION#'):])
        return sids, n

    @staticmethod
    def _index_unchanged(n: Optional[int]) -> Dict[str, Any]:
        if n is None:
            return {'ConditionExpression': 'attribute_not_exists(n)'}
        return {'ConditionExpression': 'n = :seen', 'ExpressionAttributeValues': {':seen': n}}

    def _index_set(self, user_id: str, sids: Iterable[str], n: Optional[int]) -> Dict[str, Any]:
        """Transaction item making the index exactly `sids` (complete), if unchanged since it
        showed change count `n`: a login in between fails it, to be read again."""
        cond = self._index_unchanged(n)
        values = dict(cond.pop('ExpressionAttributeValues', {}), **{':one': 1, ':t': True})
        expr = 'SET complete = :t ADD n :one'
        if sids:
            values[':s'] = set(sids)
            expr = 'SET complete = :t, sids = :s ADD n :one'
        else:
            expr = 'SET complete = :t REMOVE sids ADD n :one'
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

    def _sessions_to_end(self, user_id: str, index: Optional[Dict[str, Any]]) -> Tuple[List[str], Optional[int]]:
        """The session ids to end and the index's change count: from the index when it is
        complete, else (an account older than the index) from a Query of the sessions."""
        if index and index.get('complete'):
            return sorted(index.get('sids') or ()), int(index.get('n', 0))
        return self._live_sessions(user_id)

    def _index_of(self, user_id: str) -> Optional[Dict[str, Any]]:
        item = self.auth.get_item(Key=self._index_key(user_id), ConsistentRead=True).get('Item')
        return _plain(item) if item else None

    def update_user_ending_sessions(self, user_id: str, fields: Dict[str, Any], keep: str, email: str,
                                    index: Optional[Dict[str, Any]] = None,
                                    give_back: Optional[Tuple[List[str], List[str], int, int]] = None) -> None:
        """Change the account (and the email item's copy of it), end its other sessions (all but
        session id `keep`) and give back throttle counts (`give_back`: release, clear, window,
        expires_at), in one transaction, given the session `index` as read with the account
        (account_with_sessions). ConditionFailed if the account is gone."""
        ops = self._user_updates(user_id, fields, email) + (self._give_back(*give_back) if give_back else [])
        for _ in range(5):
            sids, n = self._sessions_to_end(user_id, index)
            doomed = [{'pk': 'USER#' + user_id, 'sk': 'SESSION#' + s} for s in sids if s != keep]
            index_op = self._index_set(user_id, [keep], n)
            room = self.TRANSACTION_MAX - len(ops) - 1
            try:
                self._transact(ops + [index_op] + [{'Delete': {'TableName': self.cfg.auth_table, 'Key': k}}
                                                   for k in doomed[:room]])
            except ConditionFailed as exc:
                if not _failed_at(exc, len(ops)) or _failed_at(exc, 0):  # the account is gone
                    raise
                index = self._index_of(user_id)  # a login listed itself meanwhile: end it too
                continue
            if doomed[room:]:  # only an index older than its size limit gets here
                with self.auth.batch_writer() as batch:
                    for k in doomed[room:]:
                        batch.delete_item(Key=k)
            return
        raise ServiceUnavailable('잠시 후 다시 시도해 주세요.', retry_after=1)

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
    def _user_counter(self, user_id: str, name: str, delta: int) -> Dict[str, Any]:
        """Count on the account item; the account must still exist, so nothing is orphaned."""
        return {'Update': {'TableName': self.cfg.users_table, 'Key': {'pk': 'USER#' + user_id},
                           'ConditionExpression': 'attribute_exists(pk)',
                           'UpdateExpression': 'ADD #n :d', 'ExpressionAttributeNames': {'#n': name},
                           'ExpressionAttributeValues': {':d': delta}}}

    def _given_ops(self, user_id: str, given: Counter) -> List[Dict[str, Any]]:
        """Count lines given: to this user (their "times given") and overall (the admin's stats)."""
        ops = []
        for line_id, n in sorted(given.items()):
            for key in ({'pk': 'USER#%s#LINES' % user_id, 'sk': line_id}, {'pk': STATS, 'sk': line_id}):
                ops.append({'Update': {'TableName': self.cfg.quotes_table, 'Key': key,
                                       'UpdateExpression': 'ADD given :n', 'ExpressionAttributeValues': {':n': n}}})
        return ops

    def _rating_op(self, line_id: str, up: int, down: int) -> Dict[str, Any]:
        return {'Update': {'TableName': self.cfg.quotes_table, 'Key': {'pk': STATS, 'sk': line_id},
                           'UpdateExpression': 'ADD up :u, down :d',
                           'ExpressionAttributeValues': {':u': up, ':d': down}}}

    def put_chat(self, user_id: str, chat: Dict[str, Any]) -> None:
        """Save a chat and count it (and the line it gave), atomically; ConditionFailed if the
        account is gone."""
        line_id = chat['reply'].get('line_id')
        self._transact([
            {'Put': {'TableName': self.cfg.chats_table, 'Item': dict(chat, user_id=user_id),
                     'ConditionExpression': 'attribute_not_exists(chat_id)'}},
            self._user_counter(user_id, 'chat_count', 1),
        ] + self._given_ops(user_id, Counter([line_id] if line_id else [])))

    def put_chats_bulk(self, user_id: str, chats: List[Dict[str, Any]]) -> None:
        """Seed many chats at once (benchmarks, migrations): batch writes, then the counters."""
        with self.chats.batch_writer() as batch:
            for chat in chats:
                batch.put_item(Item=dict(chat, user_id=user_id))
        self.users.update_item(Key={'pk': 'USER#' + user_id}, UpdateExpression='ADD chat_count :n',
                               ExpressionAttributeValues={':n': len(chats)})
        given = Counter(c['reply']['line_id'] for c in chats if c['reply'].get('line_id'))
        for op in self._given_ops(user_id, given):
            u = op['Update']
            self.quotes.update_item(Key=u['Key'], UpdateExpression=u['UpdateExpression'],
                                    ExpressionAttributeValues=u['ExpressionAttributeValues'])

    def get_chat(self, user_id: str, chat_id: str, consistent: bool = False) -> Optional[Dict[str, Any]]:
        item = self.chats.get_item(Key={'user_id': user_id, 'chat_id': chat_id}, ConsistentRead=consistent).get('Item')
        return _plain(item) if item else None

    def chats_of(self, user_id: str) -> Partition:
        return Partition(self.chats, 'user_id', user_id, 'chat_id')

    def chat_count(self, user_id: str) -> int:
        user = self.get_user(user_id)
        return max(0, int(user.get('chat_count', 0))) if user else 0

    @staticmethod
    def _search_filter(words: List[str]):
        """Every word in the input or in the line (substrings: Korean needs no word boundaries)."""
        cond = None
        for word in words:
            either = Attr('content').contains(word) | Attr('reply.quote').contains(word)
            cond = either if cond is None else cond & either
        return cond

    def search_chats(self, user_id: str, words: List[str], limit: int, start: Optional[str],
                     read_budget: int, newest_first: bool = True) -> Tuple[List[Dict[str, Any]], Optional[str]]:
        """Up to `limit` matches following `start` in that order, within one user's partition,
        reading at most `read_budget` chats.

        The second value is where to go on from: after the page's last match when there are
        more, after the last chat read when the budget ran out (the page may then be short,
        even empty), None at that end of the history.
        """
        kwargs = {'KeyConditionExpression': Key('user_id').eq(user_id), 'ScanIndexForward': not newest_first,
                  'FilterExpression': self._search_filter(words)}
        if start:
            kwargs['ExclusiveStartKey'] = {'user_id': user_id, 'chat_id': start}
        items: List[Dict[str, Any]] = []
        # A first small read fills most pages; the rest of the budget, if needed, in one more
        # call (DynamoDB's 1 MB page may still cut a call in two).
        read, chunk = 0, min(read_budget, max(100, limit * 10))
        while True:
            kwargs['Limit'] = min(chunk, read_budget - read)
            resp = self.chats.query(**kwargs)
            read += resp['ScannedCount']
            items.extend(resp['Items'])
            if len(items) > limit:  # a full page and proof of more: go on after its last item
                return [_plain(i) for i in items[:limit]], items[limit - 1]['chat_id']
            last = resp.get('LastEvaluatedKey')
            if last is None:
                return [_plain(i) for i in items], None
            if read >= read_budget:
                return [_plain(i) for i in items], last['chat_id']
            kwargs['ExclusiveStartKey'] = last
            chunk = read_budget

    def skip_search(self, user_id: str, words: List[str], n: int) -> Optional[str]:
        """chat_id of the n-th newest match, or None if there are fewer (reads until found)."""
        kwargs = {'KeyConditionExpression': Key('user_id').eq(user_id), 'ScanIndexForward': False,
                  'FilterExpression': self._search_filter(words), 'ProjectionExpression': 'chat_id'}
        seen = 0
        for item in self._query_all(self.chats, **kwargs):
            seen += 1
            if seen == n:
                return item['chat_id']
        return None

    @staticmethod
    def _unchanged(chat: Dict[str, Any], values: Dict[str, Any], tag: str = '') -> str:
        """A condition that the chat still exists with the rating and share links it was read with."""
        values[':r' + tag] = int(chat.get('rating', 0))
        values[':v' + tag] = int(chat.get('share_v', 0))
        rating = ('(attribute_not_exists(rating) OR rating = :r{0})' if values[':r' + tag] == 0
                  else 'rating = :r{0}')
        shares = ('(attribute_not_exists(share_v) OR share_v = :v{0})' if values[':v' + tag] == 0
                  else 'share_v = :v{0}')
        return ('attribute_exists(chat_id) AND ' + rating + ' AND ' + shares).format(tag)

    def rate_chat(self, user_id: str, chat_id: str, value: int) -> Optional[Dict[str, Any]]:
        """Set the chat's rating and move the line's 👍/👎 counts with it, atomically.

        Conditioned on the rating read a moment before, so parallel changes each move the
        counts by exactly what they changed; None if the chat does not exist.
        """
        key = {'user_id': user_id, 'chat_id': chat_id}
        for _ in range(30):
            chat = self.get_chat(user_id, chat_id, consistent=True)
            if chat is None:
                return None
            old = int(chat.get('rating', 0))
            if old == value:
                return chat
            values = {':new': value, ':old': old}
            cond = 'attribute_exists(chat_id) AND ' + (
                '(attribute_not_exists(rating) OR rating = :old)' if old == 0 else 'rating = :old')
            ops = [{'Update': {'TableName': self.cfg.chats_table, 'Key': key, 'ConditionExpression': cond,
                               'UpdateExpression': 'SET rating = :new', 'ExpressionAttributeValues': values}}]
            line_id = chat['reply'].get('line_id')
            if line_id:
                ops.append(self._rating_op(line_id, (value == 1) - (old == 1), (value == -1) - (old == -1)))
            try:
                self._transact(ops)
                return dict(chat, rating=value)
            except ConditionFailed:
                time.sleep(random.uniform(0, 0.01))  # changed meanwhile: read again
        raise ServiceUnavailable('이 답변의 평가가 너무 자주 바뀌고 있습니다. 잠시 후 다시 시도해 주세요.', retry_after=1)

    @staticmethod
    def _ops_for(chat: Dict[str, Any]) -> int:
        """Transaction items deleting this chat takes: itself, its line's counts, two per link."""
        return 2 + 2 * len(chat.get('shares') or ())

    def _delete_chats_ops(self, user_id: str, chats: List[Dict[str, Any]], account: bool = True) -> List[Dict[str, Any]]:
        """Delete these chats as read (a rating or link changed meanwhile fails the whole
        transaction), with their share links; take them off the account's counters (unless
        `account` is False: a purge, the account is gone) and their ratings off their lines'
        counts. The account update sits at index len(chats)."""
        ops, links, up, down = [], [], Counter(), Counter()
        for i, chat in enumerate(chats):
            values: Dict[str, Any] = {}
            ops.append({'Delete': {'TableName': self.cfg.chats_table,
                                   'Key': {'user_id': user_id, 'chat_id': chat['chat_id']},
                                   'ConditionExpression': self._unchanged(chat, values, str(i)),
                                   'ExpressionAttributeValues': values}})
            line_id, rating = (chat.get('reply') or {}).get('line_id'), int(chat.get('rating', 0))
            if line_id and rating:
                up[line_id] += rating == 1
                down[line_id] += rating == -1
            for pair in sorted(chat.get('shares') or ()):
                entry, share_id = pair.split('|', 1)
                links += [{'Delete': {'TableName': self.cfg.quotes_table, 'Key': {'pk': 'SHARE#' + share_id, 'sk': SHARE_SK}}},
                          {'Delete': {'TableName': self.cfg.quotes_table,
                                      'Key': {'pk': 'USER#%s#SHARES' % user_id, 'sk': entry}}}]
        if account:
            ops.append({'Update': {'TableName': self.cfg.users_table, 'Key': {'pk': 'USER#' + user_id},
                                   'ConditionExpression': 'attribute_exists(pk)',
                                   'UpdateExpression': 'ADD chat_count :c, share_count :s',
                                   'ExpressionAttributeValues': {':c': -len(chats), ':s': -(len(links) // 2)}}})
        ops += [self._rating_op(line_id, -up[line_id], -down[line_id]) for line_id in sorted(set(up) | set(down))]
        return ops + links

    def delete_chat(self, user_id: str, chat_id: str) -> bool:
        """Delete one chat, its rating from its line's counts and its share links; False if absent."""
        for _ in range(30):
            chat = self.get_chat(user_id, chat_id, consistent=True)
            if chat is None:
                return False
            try:
                self._transact(self._delete_chats_ops(user_id, [chat]))
                return True
            except ConditionFailed as exc:
                if _account_gone(exc, 1):
                    return False
                # re-rated or shared meanwhile: read again
        raise ServiceUnavailable('잠시 후 다시 시도해 주세요.', retry_after=1)

    DELETE_BATCH = 49
    TRANSACTION_MAX = 100

    def delete_chats(self, user_id: str, account: bool = True) -> int:
        """Delete every chat of the user, keeping the counters exact under concurrent changes
        (`account` False: a purge after the account is gone, with no account counters left).

        Each transaction deletes chats that must still be as read, with their share links, and
        subtracts exactly them; if another request changed one first, the batch is read again.
        """
        deleted = 0
        while True:
            resp = self.chats.query(KeyConditionExpression=Key('user_id').eq(user_id), ConsistentRead=True,
                                    ProjectionExpression='chat_id, rating, reply.line_id, shares, share_v',
                                    Limit=self.DELETE_BATCH)
            batch = [_plain(i) for i in resp['Items']]
            if not batch:
                return deleted
            groups, group, size = [], [], 1  # the account update
            for chat in batch:  # as many chats a transaction as fit in its 100 items
                if group and size + self._ops_for(chat) > self.TRANSACTION_MAX:
                    groups.append(group)
                    group, size = [], 1
                group.append(chat)
                size += self._ops_for(chat)
            groups.append(group)
            try:
                for group in groups:
                    self._transact(self._delete_chats_ops(user_id, group, account))
                    deleted += len(group)
            except ConditionFailed as exc:
                if account and _account_gone(exc, len(group)):
                    return deleted
                continue  # someone deleted, re-rated or shared some of these meanwhile: read again
            if 'LastEvaluatedKey' not in resp:  # that was all of them
                return deleted

    # -- per-line stats ---------------------------------------------------------------------
    def line_stats(self) -> Dict[str, Dict[str, int]]:
        """{line id: {"given", "up", "down"}} for every line ever given (one partition's Query)."""
        return {i['sk']: {k: max(0, int(i.get(k, 0))) for k in ('given', 'up', 'down')}
                for i in self._query_all(self.quotes, KeyConditionExpression=Key('pk').eq(STATS))}

    # -- bookmarks ("my lines") -------------------------------------------------------------
    # The user's per-line item ("USER#<id>#LINES"/<line id>: times given, and the bookmark's id
    # and time once kept) guards against keeping a line twice; the list item holds the line as kept.
    def _line_item(self, user_id: str, line_id: str) -> Dict[str, Any]:
        return self.quotes.get_item(Key={'pk': 'USER#%s#LINES' % user_id, 'sk': line_id},
                                    ConsistentRead=True).get('Item') or {}

    @staticmethod
    def _kept(line_item: Dict[str, Any], line_id: str) -> Optional[Dict[str, Any]]:
        if 'bookmark' not in line_item:
            return None
        return {'id': line_item['bookmark'], 'line_id': line_id, 'created_at': line_item['bookmarked_at']}

    def line_for(self, user_id: str, line_id: str) -> Tuple[Optional[Dict[str, Any]], Dict[str, Any]]:
        """(the corpus line or None, the user's per-line item or {}) in one read."""
        t = self.cfg.quotes_table
        found = {i['pk']: i for i in self._batch_get({t: [{'pk': CORPUS, 'sk': line_id},
                                                          {'pk': 'USER#%s#LINES' % user_id, 'sk': line_id}]})[t]}
        line = found.get(CORPUS)
        return (dict(line, id=line['sk']) if line else None), found.get('USER#%s#LINES' % user_id, {})

    def put_bookmark(self, user_id: str, bookmark: Dict[str, Any],
                     item: Optional[Dict[str, Any]] = None) -> Tuple[Dict[str, Any], bool, int]:
        """Keep a line once: (the bookmark, whether it is new, times the line was given).
        `item`: the user's per-line item if just read. ConditionFailed (on the account) if
        the account is gone.
        """
        t, line_id = self.cfg.quotes_table, bookmark['line_id']
        while True:
            item = self._line_item(user_id, line_id) if item is None else item
            kept = self._kept(item, line_id)
            if kept is not None:
                return kept, False, int(item.get('given', 0))
            try:
                self._transact([
                    {'Update': {'TableName': t, 'Key': {'pk': 'USER#%s#LINES' % user_id, 'sk': line_id},
                                'ConditionExpression': 'attribute_not_exists(bookmark)',
                                'UpdateExpression': 'SET bookmark = :b, bookmarked_at = :t',
                                'ExpressionAttributeValues': {':b': bookmark['id'], ':t': bookmark['created_at']}}},
                    {'Put': {'TableName': t, 'Item': dict(bookmark, pk='USER#%s#BOOKMARKS' % user_id, sk=bookmark['id'])}},
                    self._user_counter(user_id, 'bookmark_count', 1),
                ])
                return bookmark, True, int(item.get('given', 0))
            except ConditionFailed as exc:
                if exc.detail and exc.detail[0] != 'ConditionalCheckFailed':
                    raise  # the account is gone
                item = None  # kept by a parallel request a moment ago: read it

    def delete_bookmark(self, user_id: str, line_id: str) -> bool:
        """Remove the line from the user's list; False if it was not there."""
        t = self.cfg.quotes_table
        for _ in range(10):
            kept = self._kept(self._line_item(user_id, line_id), line_id)
            if kept is None:
                return False
            try:
                self._transact([
                    {'Update': {'TableName': t, 'Key': {'pk': 'USER#%s#LINES' % user_id, 'sk': line_id},
                                'ConditionExpression': 'bookmark = :b', 'UpdateExpression': 'REMOVE bookmark, bookmarked_at',
                                'ExpressionAttributeValues': {':b': kept['id']}}},
                    {'Delete': {'TableName': t, 'Key': {'pk': 'USER#%s#BOOKMARKS' % user_id, 'sk': kept['id']}}},
                    self._user_counter(user_id, 'bookmark_count', -1),
                ])
                return True
            except ConditionFailed:
                continue  # removed (or removed and kept again) meanwhile: read again
        return False

    def bookmarks_of(self, user_id: str) -> Partition:
        return Partition(self.quotes, 'pk', 'USER#%s#BOOKMARKS' % user_id, 'sk')

    def all_bookmarks(self, user_id: str) -> List[Dict[str, Any]]:
        """Newest first (an export; at most one per corpus line)."""
        return [_plain(i) for i in self._query_all(self.quotes, ScanIndexForward=False,
                                                   KeyConditionExpression=Key('pk').eq('USER#%s#BOOKMARKS' % user_id))]

    def times_given(self, user_id: str, line_ids: Iterable[str]) -> Dict[str, int]:
        t = self.cfg.quotes_table
        items = self._batch_get({t: [{'pk': 'USER#%s#LINES' % user_id, 'sk': i} for i in sorted(set(line_ids))]})[t]
        return {i['sk']: int(i.get('given', 0)) for i in items}

    def _user_count(self, user_id: str, name: str) -> int:
        user = self.get_user(user_id)
        return max(0, int(user.get(name, 0))) if user else 0

    def bookmark_count(self, user_id: str) -> int:
        return self._user_count(user_id, 'bookmark_count')

    # -- share links ------------------------------------------------------------------------
    # The chat lists its links ("shares": "<entry id>|<share id>" strings, "share_v" counting
    # changes), so deleting it deletes them in the same transaction, conditioned on that list
    # being unchanged: a link made in between fails the delete, which then reads again.
    SHARES_PER_CHAT = 10

    def put_share(self, user_id: str, share: Dict[str, Any]) -> None:
        """A public card and the owner's list entry, atomically. ConditionFailed if the chat
        is gone or has SHARES_PER_CHAT links already (reason at index 2), or the account is gone."""
        t = self.cfg.quotes_table
        self._transact([
            {'Put': {'TableName': t, 'Item': dict(share, pk='SHARE#' + share['id'], sk=SHARE_SK, user_id=user_id),
                     'ConditionExpression': 'attribute_not_exists(pk)'}},
            {'Put': {'TableName': t, 'Item': {'pk': 'USER#%s#SHARES' % user_id, 'sk': share['entry'],
                                              'share_id': share['id'], 'chat_id': share['chat_id']}}},
            {'Update': {'TableName': self.cfg.chats_table, 'Key': {'user_id': user_id, 'chat_id': share['chat_id']},
                        'ConditionExpression': 'attribute_exists(chat_id) AND '
                                               '(attribute_not_exists(shares) OR size(shares) < :max)',
                        'UpdateExpression': 'ADD shares :link, share_v :one',
                        'ExpressionAttributeValues': {':link': {'%s|%s' % (share['entry'], share['id'])},
                                                      ':one': 1, ':max': self.SHARES_PER_CHAT}}},
            self._user_counter(user_id, 'share_count', 1),
        ])

    def get_share(self, share_id: str) -> Optional[Dict[str, Any]]:
        # strongly consistent: a link revoked a moment ago must already be gone
        item = self.quotes.get_item(Key={'pk': 'SHARE#' + share_id, 'sk': SHARE_SK}, ConsistentRead=True).get('Item')
        return _plain(item) if item else None

    def get_shares(self, share_ids: Iterable[str]) -> Dict[str, Dict[str, Any]]:
        t = self.cfg.quotes_table
        items = self._batch_get({t: [{'pk': 'SHARE#' + i, 'sk': SHARE_SK} for i in sorted(set(share_ids))]})[t]
        return {i['id']: i for i in items}

    def delete_share(self, user_id: str, share_id: str) -> bool:
        """Revoke one of the user's links; False if it is not theirs or already gone."""
        share = self.get_share(share_id)
        if not share or share.get('user_id') != user_id:
            return False
        t = self.cfg.quotes_table
        try:
            self._transact([
                {'Delete': {'TableName': t, 'Key': {'pk': 'SHARE#' + share_id, 'sk': SHARE_SK},
                            'ConditionExpression': 'attribute_exists(pk)'}},
                {'Delete': {'TableName': t, 'Key': {'pk': 'USER#%s#SHARES' % user_id, 'sk': share['entry']}}},
                {'Update': {'TableName': self.cfg.chats_table, 'Key': {'user_id': user_id, 'chat_id': share['chat_id']},
                            'ConditionExpression': 'attribute_exists(chat_id)',
                            'UpdateExpression': 'DELETE shares :link ADD share_v :one',
                            'ExpressionAttributeValues': {':link': {'%s|%s' % (share['entry'], share_id)}, ':one': 1}}},
                self._user_counter(user_id, 'share_count', -1),
            ])
        except ConditionFailed:
            return False  # revoked, or its chat deleted, by a parallel request
        return True

    def shares_of(self, user_id: str) -> Partition:
        return Partition(self.quotes, 'pk', 'USER#%s#SHARES' % user_id, 'sk')

    def share_count(self, user_id: str) -> int:
        return self._user_count(user_id, 'share_count')

    def delete_kept(self, user_id: str) -> None:
        """On account deletion, after its chats (which took their links): any link left,
        every bookmark and per-line count of the user."""
        for entry in list(self._query_all(self.quotes, KeyConditionExpression=Key('pk').eq('USER#%s#SHARES' % user_id),
                                          ConsistentRead=True)):
            self.quotes.delete_item(Key={'pk': 'SHARE#' + entry['share_id'], 'sk': SHARE_SK})
        for kind in ('SHARES', 'BOOKMARKS', 'LINES'):
            self._delete_keys(self.quotes, 'pk', 'USER#%s#%s' % (user_id, kind), 'sk')

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
        if not applied:
            self._transact(ops)
            return
        ops.append({'Delete': {'TableName': self.cfg.quotes_table, 'Key': {'pk': CORPUS, 'sk': board_line_id(quote_id)}}})
        self._corpus_change([], [board_line_id(quote_id)], ops)

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
        self._corpus_change([_corpus_line(corpus_op['Put']['Item'])] if applied else [], [] if applied else [line_key['sk']],
                            [{'Update': update}, corpus_op])

    # -- corpus -----------------------------------------------------------------------------
    # Every corpus write moves the version (META/"corpus") and, in the same transaction, writes
    # the log item of the new version: what it changed. A container holding the index of version
    # v catches up to w by reading the log items after v (and, for a larger import, the lines it
    # names) only. The version is set conditioned on its old value, so racing writers cannot
    # share a version (and lose a log item): the loser reads the version again and retries.
    def corpus_version(self) -> int:
        self._corpus_seen = self._counter('corpus')
        return self._corpus_seen

    def _corpus_change(self, put: List[Dict[str, Any]], deleted: List[str], ops: List[Dict[str, Any]]) -> None:
        """`ops` (a transaction's items, any conditions of their own) plus the version bump and
        its log item, atomically; ConditionFailed only if one of `ops`' conditions failed."""
        t = self.cfg.quotes_table
        change: Dict[str, Any] = {'deleted': sorted(set(deleted))} if deleted else {}
        if len(put) + len(deleted) > CORPUS_LOG_IDS:
            change = {'full': True}
        elif len(put) > CORPUS_LOG_LINES:
            change['put_ids'] = sorted({line['id'] for line in put})
        elif put:
            change['lines'] = put
        for attempt in range(CORPUS_WRITE_ATTEMPTS):
            seen = self._corpus_seen  # right unless another container wrote since: then read again
            if seen is None or attempt:
                seen = self.corpus_version()
            version = seen + 1
            log = {'pk': CORPUS_LOG, 'sk': _version_key(version)}
            log.update(change)
            bump = [{'Update': {'TableName': t, 'Key': {'pk': META, 'sk': 'corpus'},
                                'ConditionExpression': 'attribute_not_exists(#n) OR #n = :seen' if seen == 0 else '#n = :seen',
                                'UpdateExpression': 'SET #n = :v', 'ExpressionAttributeNames': {'#n': 'value'},
                                'ExpressionAttributeValues': {':seen': seen, ':v': version}}},
                    {'Put': {'TableName': t, 'Item': log, 'ConditionExpression': 'attribute_not_exists(sk)'}}]
            if version > CORPUS_LOG_KEEP:  # the log keeps the last CORPUS_LOG_KEEP versions
                bump.append({'Delete': {'TableName': t, 'Key': {'pk': CORPUS_LOG, 'sk': _version_key(version - CORPUS_LOG_KEEP)}}})
            try:
                self._transact(ops + bump)
            except ConditionFailed as exc:
                reasons = exc.detail or []
                if any(r == 'ConditionalCheckFailed' for r in reasons[:len(ops)]):
                    raise
                time.sleep(random.uniform(0, 0.01) * attempt)  # another writer took this version: read it again
                continue
            self._corpus_seen = version
            return
        raise ServiceUnavailable('저장소가 잠시 바쁩니다. 잠시 후 다시 시도해 주세요.', retry_after=1)

    def corpus_changes(self, since: int, version: int) -> Optional[Dict[str, Optional[Dict[str, Any]]]]:
        """What changed after version `since` up to `version`: line id → the line (None: deleted).
        One Query of the log, and for a larger import (ids without their lines) one BatchGetItem.
        None when the log cannot say: items expired, a change too large to list, or more lines
        changed than CORPUS_LOG_IDS (then reading every line is the way)."""
        if since >= version:
            return {} if since == version else None
        items = list(self._query_all(self.quotes, ConsistentRead=True, KeyConditionExpression=Key('pk').eq(CORPUS_LOG) &
                                     Key('sk').between(_version_key(since + 1), _version_key(version))))
        if len(items) != version - since or any(i.get('full') for i in items):
            return None
        changes: Dict[str, Optional[Dict[str, Any]]] = {}
        unread = set()
        for item in items:  # in version order: a later change to a line wins
            for line_id in item.get('deleted', []):
                changes[line_id] = None
            for line in item.get('lines', []):
                changes[line['id']] = _plain(line)
            unread.update(item.get('put_ids', []))
        if len(changes.keys() | unread) > CORPUS_LOG_IDS:
            return None
        if unread:  # read as they are now, which is no older than any logged version of them
            found = self.corpus_lines_by_id(unread)
            changes.update({line_id: found.get(line_id) for line_id in unread})
        return changes

    def corpus_lines_by_id(self, line_ids: Iterable[str]) -> Dict[str, Dict[str, Any]]:
        """Those lines that exist (one BatchGetItem per 100 ids), by id."""
        t = self.cfg.quotes_table
        found = self._batch_get({t: [{'pk': CORPUS, 'sk': i} for i in sorted(set(line_ids))]})[t]
        return {i['sk']: _corpus_line(i) for i in found}

    def corpus_line(self, line_id: str) -> Optional[Dict[str, Any]]:
        item = self.quotes.get_item(Key={'pk': CORPUS, 'sk': line_id}).get('Item')
        return _plain(item) if item else None

    def corpus_lines(self) -> List[Dict[str, Any]]:
        # strongly consistent, like the version read before it: no line written before that
        # version may be missing from an index labelled with it
        return [_corpus_line(i) for i in self._query_lean(self.quotes, KeyConditionExpression=Key('pk').eq(CORPUS),
                                                          ConsistentRead=True)]

    def put_corpus_lines(self, lines: List[Dict[str, Any]]) -> None:
        """Write lines keyed by their own id (rewriting one is harmless), then bump the version."""
        if not lines:
            return
        with self.quotes.batch_writer() as batch:
            for line in lines:
                batch.put_item(Item=dict(line, pk=CORPUS, sk=line['id']))
        self._corpus_change(lines, [], [])

    def delete_corpus_lines(self, line_ids: List[str]) -> None:
        if not line_ids:
            return
        with self.quotes.batch_writer() as batch:
            for line_id in line_ids:
                batch.delete_item(Key={'pk': CORPUS, 'sk': line_id})
        self._corpus_change([], line_ids, [])


@functools.lru_cache(maxsize=1)
def _store_for(cfg: settings.Settings) -> Store:
    return Store(cfg)


def store() -> Store:
    return _store_for(settings.get())
