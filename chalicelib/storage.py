"""DynamoDB: the only module that knows the tables' layout.

Tables (names from settings):
- users:  pk = "USER#<id>" (the account, with a chat counter) | "EMAIL#<email>" (uniqueness guard)
- chats:  user_id, chat_id (time-ordered, so a Query lists newest first)
- quotes: pk, sk — "BOARD"/<quote id> proposals (GSI by_owner on owner, sk),
          "CORPUS"/<line id> the chatbot's lines, "META"/"board"|"corpus" counters and version,
          "STATS"/<line id> per-line counters (given, up, down),
          what a user keeps: "USER#<id>#LINES"/<line id> times given to them and the bookmark
          guard, "USER#<id>#BOOKMARKS"/<bookmark id> and "USER#<id>#SHARES"/<entry id> their
          lists (time-ordered), "SHARE#<share id>"/"SHARE" a public card
- auth:   pk, sk, TTL on expires_at — "USER#<id>"/"SESSION#<sid>" login sessions,
          "THROTTLE#<scope>#<value>"/<window start> failed-login counters
Every request-path access is a GetItem or a Query by key; nothing scans.
"""
import functools
import random
import time
from collections import Counter
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Optional, Tuple

import boto3
from boto3.dynamodb.conditions import Attr, Key
from botocore.config import Config
from botocore.exceptions import ClientError

from . import settings
from .errors import Conflict, ServiceUnavailable

BOARD, CORPUS, META, STATS = 'BOARD', 'CORPUS', 'META', 'STATS'
SHARE_SK = 'SHARE'


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


def _account_gone(exc: 'ConditionFailed', index: int) -> bool:
    """Whether the transaction failed on its account-counter update (at `index`)."""
    reasons = exc.detail or []
    return len(reasons) > index and reasons[index] == 'ConditionalCheckFailed'


def _cancel_reasons(exc: ClientError) -> List[str]:
    return [r.get('Code', 'None') for r in exc.response.get('CancellationReasons', [])]


class Store:
    def __init__(self, cfg: settings.Settings):
        self.cfg = cfg
        self.db = boto3.resource('dynamodb', config=Config(
            retries={'max_attempts': 3, 'mode': 'standard'}, connect_timeout=3, read_timeout=10))
        self.client = self.db.meta.client
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

    def create_tables(self) -> List[str]:
        """Create missing tables (idempotent); returns the names it created."""
        existing = set(self.client.list_tables()['TableNames'])
        created = []
        for s in self.table_specs():
            if s['TableName'] in existing:
                continue
            self.client.create_table(**s)
            created.append(s['TableName'])
        for name in created:
            self.client.get_waiter('table_exists').wait(TableName=name, WaiterConfig={'Delay': 1})
            if name == self.cfg.auth_table:
                self.client.update_time_to_live(TableName=name, TimeToLiveSpecification={
                    'Enabled': True, 'AttributeName': 'expires_at'})
        return created

    def drop_tables(self) -> None:
        existing = set(self.client.list_tables()['TableNames'])
        for s in self.table_specs():
            if s['TableName'] in existing:
                self.client.delete_table(TableName=s['TableName'])

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

    def _query_all(self, table, **kwargs) -> Iterable[Dict[str, Any]]:
        """Every item a Query matches, page by page."""
        while True:
            resp = table.query(**kwargs)
            yield from resp['Items']
            if 'LastEvaluatedKey' not in resp:
                return
            kwargs['ExclusiveStartKey'] = resp['LastEvaluatedKey']

    def _query_page(self, table, key_name: str, key_value: str, sort_name: str, limit: int,
                    after: Optional[str]) -> Tuple[List[Dict[str, Any]], Optional[str]]:
        """Newest-first page of `limit` items after `after`; second value continues, or None."""
        kwargs = {'KeyConditionExpression': Key(key_name).eq(key_value), 'ScanIndexForward': False,
                  'Limit': limit + 1}
        if after:
            kwargs['ExclusiveStartKey'] = {key_name: key_value, sort_name: after}
        items: List[Dict[str, Any]] = []
        while len(items) <= limit:
            resp = table.query(**kwargs)
            items.extend(resp['Items'])
            if 'LastEvaluatedKey' not in resp:
                break
            kwargs['ExclusiveStartKey'] = resp['LastEvaluatedKey']
            kwargs['Limit'] = limit + 1 - len(items)
        more = len(items) > limit
        items = items[:limit]
        return [_plain(i) for i in items], (items[-1][sort_name] if more else None)

    def _skip(self, table, key_name: str, key_value: str, sort_name: str, n: int) -> Optional[str]:
        """Sort key of the n-th newest item (keys only), or None if there are fewer."""
        kwargs = {'KeyConditionExpression': Key(key_name).eq(key_value), 'ScanIndexForward': False,
                  'ProjectionExpression': '#s', 'ExpressionAttributeNames': {'#s': sort_name}, 'Limit': n}
        seen, last = 0, None
        while seen < n:
            resp = table.query(**kwargs)
            seen += len(resp['Items'])
            if resp['Items']:
                last = resp['Items'][-1][sort_name]
            if 'LastEvaluatedKey' not in resp:
                break
            kwargs['ExclusiveStartKey'] = resp['LastEvaluatedKey']
            kwargs['Limit'] = n - seen
        return last if seen >= n else None

    # -- users ------------------------------------------------------------------------------
    def create_user(self, user: Dict[str, Any]) -> None:
        t = self.cfg.users_table
        try:
            self._transact([
                {'Put': {'TableName': t, 'Item': {'pk': 'EMAIL#' + user['email'], 'user_id': user['id']},
                         'ConditionExpression': 'attribute_not_exists(pk)'}},
                {'Put': {'TableName': t, 'Item': dict(user, pk='USER#' + user['id'], chat_count=0),
                         'ConditionExpression': 'attribute_not_exists(pk)'}},
            ])
        except ConditionFailed:
            raise EmailTaken(user['email'])

    def get_user(self, user_id: str) -> Optional[Dict[str, Any]]:
        item = self.users.get_item(Key={'pk': 'USER#' + user_id}, ConsistentRead=True).get('Item')
        return _plain(item) if item else None

    def get_users(self, user_ids: Iterable[str]) -> Dict[str, Dict[str, Any]]:
        ids = sorted(set(user_ids))
        found: Dict[str, Dict[str, Any]] = {}
        for start in range(0, len(ids), 100):
            keys = [{'pk': 'USER#' + i} for i in ids[start:start + 100]]
            request = {self.cfg.users_table: {'Keys': keys}}
            while request:
                resp = self.db.batch_get_item(RequestItems=request)
                for item in resp['Responses'].get(self.cfg.users_table, []):
                    found[item['id']] = _plain(item)
                request = resp.get('UnprocessedKeys') or None
        return found

    def user_id_for_email(self, email: str) -> Optional[str]:
        item = self.users.get_item(Key={'pk': 'EMAIL#' + email}, ConsistentRead=True).get('Item')
        return item['user_id'] if item else None

    def update_user(self, user_id: str, fields: Dict[str, Any]) -> Dict[str, Any]:
        try:
            resp = self.users.update_item(Key={'pk': 'USER#' + user_id}, ConditionExpression='attribute_exists(pk)',
                                          ReturnValues='ALL_NEW', **_set_expression(fields))
        except self.client.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed(user_id)
        return _plain(resp['Attributes'])

    def delete_user(self, user_id: str, email: str) -> None:
        t = self.cfg.users_table
        self._transact([
            {'Delete': {'TableName': t, 'Key': {'pk': 'USER#' + user_id},
                        'ConditionExpression': 'attribute_exists(pk)'}},
            {'Delete': {'TableName': t, 'Key': {'pk': 'EMAIL#' + email}}},
        ])

    # -- sessions ---------------------------------------------------------------------------
    def put_session(self, user_id: str, sid: str, refresh_jti: str, expires_at: int) -> None:
        self.auth.put_item(Item={'pk': 'USER#' + user_id, 'sk': 'SESSION#' + sid,
                                 'refresh_jti': refresh_jti, 'expires_at': expires_at})

    def get_session(self, user_id: str, sid: str) -> Optional[Dict[str, Any]]:
        item = self.auth.get_item(Key={'pk': 'USER#' + user_id, 'sk': 'SESSION#' + sid},
                                  ConsistentRead=True).get('Item')
        if not item or int(item['expires_at']) < time.time():
            return None
        return _plain(item)

    def rotate_session(self, user_id: str, sid: str, old_jti: str, new_jti: str, expires_at: int) -> None:
        """Swap the session's refresh token; ConditionFailed if `old_jti` is no longer current."""
        try:
            self.auth.update_item(
                Key={'pk': 'USER#' + user_id, 'sk': 'SESSION#' + sid},
                ConditionExpression='refresh_jti = :old', UpdateExpression='SET refresh_jti = :new, expires_at = :e',
                ExpressionAttributeValues={':old': old_jti, ':new': new_jti, ':e': expires_at})
        except self.client.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed(sid)

    def delete_session(self, user_id: str, sid: str) -> None:
        self.auth.delete_item(Key={'pk': 'USER#' + user_id, 'sk': 'SESSION#' + sid})

    def delete_sessions(self, user_id: str, keep: Optional[str] = None) -> None:
        """End every session of the user, but `keep` (a session id) if given."""
        self._delete_keys(self.auth, 'pk', 'USER#' + user_id, 'sk',
                          skip='SESSION#' + keep if keep else None)

    def _delete_keys(self, table, key_name: str, key_value: str, sort_name: str, skip: Optional[str] = None) -> None:
        items = self._query_all(table, KeyConditionExpression=Key(key_name).eq(key_value), ConsistentRead=True,
                                ProjectionExpression='#k, #s',
                                ExpressionAttributeNames={'#k': key_name, '#s': sort_name})
        with table.batch_writer() as batch:
            for item in items:
                if item[sort_name] != skip:
                    batch.delete_item(Key={key_name: item[key_name], sort_name: item[sort_name]})

    # -- failed-login throttling ------------------------------------------------------------
    def reserve_attempt(self, key: str, window: int, limit: int, expires_at: int) -> bool:
        """Count an attempt as a failure up front, unless `limit` are already counted.

        Counting before the password is checked keeps the limit exact however many attempts
        run at once; a successful attempt gives its count back (release_attempt).
        """
        try:
            self.auth.update_item(
                Key={'pk': 'THROTTLE#' + key, 'sk': str(window)},
                ConditionExpression='attribute_not_exists(fails) OR fails < :limit',
                UpdateExpression='ADD fails :one SET expires_at = :e',
                ExpressionAttributeValues={':one': 1, ':e': expires_at, ':limit': limit})
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            return False

    def release_attempt(self, key: str, window: int) -> None:
        try:
            self.auth.update_item(Key={'pk': 'THROTTLE#' + key, 'sk': str(window)},
                                  ConditionExpression='fails > :zero', UpdateExpression='ADD fails :minus',
                                  ExpressionAttributeValues={':minus': -1, ':zero': 0})
        except self.client.exceptions.ConditionalCheckFailedException:
            pass  # nothing left to give back (the counter was cleared meanwhile)

    def clear_failures(self, key: str, window: int) -> None:
        self.auth.delete_item(Key={'pk': 'THROTTLE#' + key, 'sk': str(window)})

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

    def list_chats(self, user_id: str, limit: int, after: Optional[str]):
        return self._query_page(self.chats, 'user_id', user_id, 'chat_id', limit, after)

    def skip_chats(self, user_id: str, n: int) -> Optional[str]:
        return self._skip(self.chats, 'user_id', user_id, 'chat_id', n)

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

    def search_chats(self, user_id: str, words: List[str], limit: int, after: Optional[str],
                     read_budget: int) -> Tuple[List[Dict[str, Any]], Optional[str]]:
        """Newest-first matches within one user's partition, reading at most `read_budget` chats.

        A page ends when it is full or the budget is spent; the second value continues after
        the last chat read (the page may then hold fewer than `limit`, even none), or is None
        at the end of the history.
        """
        kwargs = {'KeyConditionExpression': Key('user_id').eq(user_id), 'ScanIndexForward': False,
                  'FilterExpression': self._search_filter(words)}
        if after:
            kwargs['ExclusiveStartKey'] = {'user_id': user_id, 'chat_id': after}
        items: List[Dict[str, Any]] = []
        read, chunk = 0, max(20, limit * 4)
        while True:
            kwargs['Limit'] = min(chunk, read_budget - read)
            resp = self.chats.query(**kwargs)
            read += resp['ScannedCount']
            items.extend(resp['Items'])
            if len(items) > limit:  # a full page and proof of more: continue after its last item
                return [_plain(i) for i in items[:limit]], items[limit - 1]['chat_id']
            last = resp.get('LastEvaluatedKey')
            if last is None:
                return [_plain(i) for i in items], None
            if read >= read_budget:
                return [_plain(i) for i in items], last['chat_id']
            kwargs['ExclusiveStartKey'] = last
            chunk *= 2

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
    def _unchanged_rating(chat: Dict[str, Any], values: Dict[str, Any], tag: str = '') -> str:
        """A condition that the chat still exists with the rating it was read with."""
        values[':r' + tag] = int(chat.get('rating', 0))
        if values[':r' + tag] == 0:
            return 'attribute_exists(chat_id) AND (attribute_not_exists(rating) OR rating = :r%s)' % tag
        return 'rating = :r' + tag

    def rate_chat(self, user_id: str, chat_id: str, value: int) -> Optional[Dict[str, Any]]:
        """Set the chat's rating and move the line's 👍/👎 counts with it, atomically.

        Conditioned on the rating read a moment before, so parallel changes each move the
        counts by exactly what they changed; None if the chat does not exist.
        """
        for _ in range(30):
            chat = self.get_chat(user_id, chat_id, consistent=True)
            if chat is None:
                return None
            old = int(chat.get('rating', 0))
            if old == value:
                return chat
            values = {':v': value}
            cond = self._unchanged_rating(chat, values)
            ops = [{'Update': {'TableName': self.cfg.chats_table, 'Key': {'user_id': user_id, 'chat_id': chat_id},
                               'ConditionExpression': cond, 'UpdateExpression': 'SET rating = :v',
                               'ExpressionAttributeValues': values}}]
            line_id = chat['reply'].get('line_id')
            if line_id:
                ops.append(self._rating_op(line_id, (value == 1) - (old == 1), (value == -1) - (old == -1)))
            try:
                self._transact(ops)
                return dict(chat, rating=value)
            except ConditionFailed:
                time.sleep(random.uniform(0, 0.01))  # changed meanwhile: read again
        raise ServiceUnavailable('이 답변의 평가가 너무 자주 바뀌고 있습니다. 잠시 후 다시 시도해 주세요.', retry_after=1)

    def _delete_chats_ops(self, user_id: str, chats: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Delete these chats as read (a rating changed meanwhile fails the transaction), take
        them off the chat counter and their ratings off their lines' counts."""
        ops, up, down = [], Counter(), Counter()
        for i, chat in enumerate(chats):
            values: Dict[str, Any] = {}
            cond = self._unchanged_rating(chat, values, str(i))
            ops.append({'Delete': {'TableName': self.cfg.chats_table,
                                   'Key': {'user_id': user_id, 'chat_id': chat['chat_id']},
                                   'ConditionExpression': cond, 'ExpressionAttributeValues': values}})
            line_id, rating = (chat.get('reply') or {}).get('line_id'), int(chat.get('rating', 0))
            if line_id and rating:
                up[line_id] += rating == 1
                down[line_id] += rating == -1
        ops.append(self._user_counter(user_id, 'chat_count', -len(chats)))  # at index len(chats)
        ops += [self._rating_op(line_id, -up[line_id], -down[line_id]) for line_id in sorted(set(up) | set(down))]
        return ops

    def delete_chat(self, user_id: str, chat_id: str) -> bool:
        """Delete one chat, its rating from its line's counts, and its share links; False if absent."""
        for _ in range(30):
            chat = self.get_chat(user_id, chat_id, consistent=True)
            if chat is None:
                return False
            try:
                self._transact(self._delete_chats_ops(user_id, [chat]))
                break
            except ConditionFailed as exc:
                if _account_gone(exc, 1):
                    return False
                continue  # re-rated meanwhile: read again
        else:
            raise ServiceUnavailable('잠시 후 다시 시도해 주세요.', retry_after=1)
        self.delete_shares_of(user_id, {chat_id})
        return True

    # 2 ops per chat at most (its delete, its line's rating) plus the chat counter: within 100.
    DELETE_BATCH = 49

    def delete_chats(self, user_id: str) -> int:
        """Delete every chat of the user, keeping the counters exact under concurrent changes.

        Each transaction deletes a batch of chats that must still be as read and subtracts
        exactly them; if another request changed one first, the batch is read again. Their
        share links go afterwards (a new link needs its chat, so none can slip in).
        """
        deleted: set = set()
        while True:
            resp = self.chats.query(KeyConditionExpression=Key('user_id').eq(user_id), ConsistentRead=True,
                                    ProjectionExpression='chat_id, rating, reply.line_id', Limit=self.DELETE_BATCH)
            if not resp['Items']:
                break
            try:
                self._transact(self._delete_chats_ops(user_id, [_plain(i) for i in resp['Items']]))
                deleted.update(i['chat_id'] for i in resp['Items'])
            except ConditionFailed as exc:
                if _account_gone(exc, len(resp['Items'])):
                    break
                continue  # someone deleted or re-rated some of these meanwhile: read again
        self.delete_shares_of(user_id, deleted)
        return len(deleted)

    # -- per-line stats ---------------------------------------------------------------------
    def line_stats(self) -> Dict[str, Dict[str, int]]:
        """{line id: {"given", "up", "down"}} for every line ever given (one partition's Query)."""
        return {i['sk']: {k: max(0, int(i.get(k, 0))) for k in ('given', 'up', 'down')}
                for i in self._query_all(self.quotes, KeyConditionExpression=Key('pk').eq(STATS))}

    def times_given(self, user_id: str, line_ids: Iterable[str]) -> Dict[str, int]:
        items = self._batch_get(self.cfg.quotes_table,
                                [{'pk': 'USER#%s#LINES' % user_id, 'sk': i} for i in sorted(set(line_ids))])
        return {i['sk']: int(i.get('given', 0)) for i in items}

    def _batch_get(self, table_name: str, keys: List[Dict[str, str]]) -> List[Dict[str, Any]]:
        found: List[Dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request = {table_name: {'Keys': keys[start:start + 100]}}
            while request:
                resp = self.db.batch_get_item(RequestItems=request)
                found.extend(_plain(i) for i in resp['Responses'].get(table_name, []))
                request = resp.get('UnprocessedKeys') or None
        return found

    # -- bookmarks ("my lines") -------------------------------------------------------------
    def put_bookmark(self, user_id: str, bookmark: Dict[str, Any]) -> Tuple[Dict[str, Any], bool]:
        """Keep a line once: (the bookmark, True) if new, (the one already there, False) if not.

        The user's per-line item is the guard: it takes the bookmark's id only if it has none.
        ConditionFailed (reason on the account) if the account is gone.
        """
        t, lines = self.cfg.quotes_table, 'USER#%s#LINES' % user_id
        while True:
            try:
                self._transact([
                    {'Update': {'TableName': t, 'Key': {'pk': lines, 'sk': bookmark['line_id']},
                                'ConditionExpression': 'attribute_not_exists(bookmark)',
                                'UpdateExpression': 'SET bookmark = :b',
                                'ExpressionAttributeValues': {':b': bookmark['id']}}},
                    {'Put': {'TableName': t, 'Item': dict(bookmark, pk='USER#%s#BOOKMARKS' % user_id, sk=bookmark['id'])}},
                    self._user_counter(user_id, 'bookmark_count', 1),
                ])
                return bookmark, True
            except ConditionFailed as exc:
                if exc.detail and exc.detail[0] != 'ConditionalCheckFailed':
                    raise  # the account is gone
            existing = self.get_bookmark(user_id, bookmark['line_id'])
            if existing is not None:
                return existing, False
            # removed between the two: try again

    def get_bookmark(self, user_id: str, line_id: str) -> Optional[Dict[str, Any]]:
        guard = self.quotes.get_item(Key={'pk': 'USER#%s#LINES' % user_id, 'sk': line_id},
                                     ConsistentRead=True).get('Item')
        if not guard or 'bookmark' not in guard:
            return None
        item = self.quotes.get_item(Key={'pk': 'USER#%s#BOOKMARKS' % user_id, 'sk': guard['bookmark']},
                                    ConsistentRead=True).get('Item')
        return _plain(item) if item else None

    def delete_bookmark(self, user_id: str, line_id: str) -> bool:
        """Remove the line from the user's list; False if it was not there."""
        t = self.cfg.quotes_table
        for _ in range(10):
            guard = self.quotes.get_item(Key={'pk': 'USER#%s#LINES' % user_id, 'sk': line_id},
                                         ConsistentRead=True).get('Item')
            if not guard or 'bookmark' not in guard:
                return False
            try:
                self._transact([
                    {'Update': {'TableName': t, 'Key': {'pk': 'USER#%s#LINES' % user_id, 'sk': line_id},
                                'ConditionExpression': 'bookmark = :b', 'UpdateExpression': 'REMOVE bookmark',
                                'ExpressionAttributeValues': {':b': guard['bookmark']}}},
                    {'Delete': {'TableName': t, 'Key': {'pk': 'USER#%s#BOOKMARKS' % user_id, 'sk': guard['bookmark']}}},
                    self._user_counter(user_id, 'bookmark_count', -1),
                ])
                return True
            except ConditionFailed:
                continue  # removed (or removed and kept again) meanwhile: read again
        return False

    def list_bookmarks(self, user_id: str, limit: int, after: Optional[str]):
        return self._query_page(self.quotes, 'pk', 'USER#%s#BOOKMARKS' % user_id, 'sk', limit, after)

    def skip_bookmarks(self, user_id: str, n: int) -> Optional[str]:
        return self._skip(self.quotes, 'pk', 'USER#%s#BOOKMARKS' % user_id, 'sk', n)

    def all_bookmarks(self, user_id: str) -> List[Dict[str, Any]]:
        """Newest first (an export; bounded by the corpus's size)."""
        return [_plain(i) for i in self._query_all(self.quotes, ScanIndexForward=False,
                                                   KeyConditionExpression=Key('pk').eq('USER#%s#BOOKMARKS' % user_id))]

    def _user_count(self, user_id: str, name: str) -> int:
        user = self.get_user(user_id)
        return max(0, int(user.get(name, 0))) if user else 0

    def bookmark_count(self, user_id: str) -> int:
        return self._user_count(user_id, 'bookmark_count')

    # -- share links ------------------------------------------------------------------------
    def put_share(self, user_id: str, share: Dict[str, Any]) -> None:
        """A public card and the owner's list entry, atomically; ConditionFailed if the chat or
        the account is gone (so a deleted chat can never gain a link)."""
        t = self.cfg.quotes_table
        self._transact([
            {'Put': {'TableName': t, 'Item': dict(share, pk='SHARE#' + share['id'], sk=SHARE_SK, user_id=user_id),
                     'ConditionExpression': 'attribute_not_exists(pk)'}},
            {'Put': {'TableName': t, 'Item': {'pk': 'USER#%s#SHARES' % user_id, 'sk': share['entry'],
                                              'share_id': share['id'], 'chat_id': share['chat_id']}}},
            {'ConditionCheck': {'TableName': self.cfg.chats_table, 'Key': {'user_id': user_id, 'chat_id': share['chat_id']},
                                'ConditionExpression': 'attribute_exists(chat_id)'}},
            self._user_counter(user_id, 'share_count', 1),
        ])

    def get_share(self, share_id: str) -> Optional[Dict[str, Any]]:
        # strongly consistent: a link revoked a moment ago must already be gone
        item = self.quotes.get_item(Key={'pk': 'SHARE#' + share_id, 'sk': SHARE_SK}, ConsistentRead=True).get('Item')
        return _plain(item) if item else None

    def get_shares(self, share_ids: Iterable[str]) -> Dict[str, Dict[str, Any]]:
        items = self._batch_get(self.cfg.quotes_table, [{'pk': 'SHARE#' + i, 'sk': SHARE_SK} for i in sorted(set(share_ids))])
        return {i['id']: i for i in items}

    def delete_share(self, user_id: str, share_id: str) -> bool:
        """Revoke one of the user's links; False if it is not theirs or already gone."""
        share = self.quotes.get_item(Key={'pk': 'SHARE#' + share_id, 'sk': SHARE_SK}, ConsistentRead=True).get('Item')
        if not share or share.get('user_id') != user_id:
            return False
        t = self.cfg.quotes_table
        try:
            self._transact([
                {'Delete': {'TableName': t, 'Key': {'pk': 'SHARE#' + share_id, 'sk': SHARE_SK},
                            'ConditionExpression': 'attribute_exists(pk)'}},
                {'Delete': {'TableName': t, 'Key': {'pk': 'USER#%s#SHARES' % user_id, 'sk': share['entry']}}},
                self._user_counter(user_id, 'share_count', -1),
            ])
        except ConditionFailed:
            return False  # revoked by a parallel request
        return True

    def delete_shares_of(self, user_id: str, chat_ids: set) -> None:
        """Revoke the user's links to these chats (read from their list, strongly consistent)."""
        if not chat_ids:
            return
        for entry in list(self._query_all(self.quotes, KeyConditionExpression=Key('pk').eq('USER#%s#SHARES' % user_id),
                                          ConsistentRead=True)):
            if entry['chat_id'] in chat_ids:
                self.delete_share(user_id, entry['share_id'])

    def list_shares(self, user_id: str, limit: int, after: Optional[str]):
        return self._query_page(self.quotes, 'pk', 'USER#%s#SHARES' % user_id, 'sk', limit, after)

    def skip_shares(self, user_id: str, n: int) -> Optional[str]:
        return self._skip(self.quotes, 'pk', 'USER#%s#SHARES' % user_id, 'sk', n)

    def share_count(self, user_id: str) -> int:
        return self._user_count(user_id, 'share_count')

    def delete_kept(self, user_id: str) -> None:
        """On account deletion: every share link, bookmark and per-line count of the user."""
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

    def list_proposals(self, limit: int, after: Optional[str]):
        return self._query_page(self.quotes, 'pk', BOARD, 'sk', limit, after)

    def skip_proposals(self, n: int) -> Optional[str]:
        return self._skip(self.quotes, 'pk', BOARD, 'sk', n)

    def proposal_count(self) -> int:
        return self._counter('board')

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
