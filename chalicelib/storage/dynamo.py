"""DynamoDB in general, knowing nothing of our tables' layout: the request-path client, item
conversion, expressions, transactions with their failure reasons, Query and BatchGetItem
helpers, a partition read page by page, and the retry loop of a read-then-conditional-write."""
import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import boto3
from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.core import deadline, errors, settings
from chalicelib.core.errors import Conflict, ServiceUnavailable

TRANSACTION_MAX = 100  # items in one TransactWriteItems
BUSY = '잠시 후 다시 시도해 주세요.'
BUSIER = '저장소가 잠시 바쁩니다. 잠시 후 다시 시도해 주세요.'


class ConditionFailed(Exception):
    """A conditional write found an item not in the state it required; `detail` says what
    (a transaction's cancellation reasons, or the item as it is). Callers turn it into what
    it means for them (404, 401…); one that escapes is a 409 (see the translation below)."""

    def __init__(self, detail: Any = None):
        super().__init__(detail)
        self.detail = detail


errors.translate(ConditionFailed, lambda exc: Conflict('요청이 다른 변경과 겹쳤습니다. 다시 시도해 주세요.'))


def plain(value: Any) -> Any:
    """DynamoDB's Decimals back to ints, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


_DESERIALIZER = TypeDeserializer()


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    """An item in the low-level client's typed form (as a failed condition returns it), as plain values."""
    return plain({k: _DESERIALIZER.deserialize(v) for k, v in item.items()})


def lean(value: dict[str, Any]) -> Any:
    """One attribute value from DynamoDB's JSON, as plain(TypeDeserializer) gives it: the
    common types directly, the rest through them."""
    [(kind, v)] = value.items()
    if kind in ('S', 'BOOL'):
        return v
    if kind == 'L':
        return [lean(x) for x in v]
    if kind == 'M':
        return {k: lean(x) for k, x in v.items()}
    if kind == 'NULL':
        return None
    if kind == 'N' and v.lstrip('-').isdigit():
        return int(v)
    return plain(_DESERIALIZER.deserialize(value))


def set_expression(fields: dict[str, Any]) -> dict[str, Any]:
    """UpdateItem arguments that SET each field (names and values as placeholders)."""
    return {'UpdateExpression': 'SET ' + ', '.join(f'#f{i} = :f{i}' for i in range(len(fields))),
            'ExpressionAttributeNames': {f'#f{i}': k for i, k in enumerate(fields)},
            'ExpressionAttributeValues': {f':f{i}': v for i, v in enumerate(fields.values())}}


def failed_at(exc: ConditionFailed, index: int) -> bool:
    """Whether the transaction's item at `index` is one whose condition failed."""
    reasons = exc.detail or []
    return len(reasons) > index and reasons[index] == 'ConditionalCheckFailed'


def cancel_reasons(exc: ClientError) -> list[str]:
    return [r.get('Code', 'None') for r in exc.response.get('CancellationReasons', [])]


class Again:
    """What an attempt of a retried() loop returns to be tried again: a racing write changed
    what it read (or, for a transaction, merely conflicted with it)."""


AGAIN = Again()
T = TypeVar('T')


def retried(attempt: Callable[[int], T | Again], tries: int, pause: Callable[[int], float] | None = None,
            busy: str = BUSY, spent: Callable[[], T] | None = None) -> T:
    """The retry loop of a read-then-conditional-write, written once: `attempt(n)` (n = 0, 1,
    …) until it returns anything but AGAIN, at most `tries` times, sleeping `pause(n)` seconds
    before attempt n > 0 (jitter: racers do not retry in step). When every attempt is spent:
    `spent()`, or else ServiceUnavailable(busy), a 503 the client may retry."""
    for n in range(tries):
        if n and pause is not None:
            time.sleep(pause(n))
        result = attempt(n)
        if not isinstance(result, Again):
            return result
    if spent is not None:
        return spent()
    raise ServiceUnavailable(busy, retry_after=1)


def _within_deadline(**_: Any) -> None:
    """No DynamoDB attempt (first try or retry) starts once the request's budget is spent."""
    deadline.check()


class Partition:
    """One partition of a table in sort-key order (ids are time-ordered: descending is newest
    first): what pagination reads of a collection. Every read is a Query by key."""

    def __init__(self, table: Any, key_name: str, key_value: str, sort_name: str):
        self.table, self.key_name, self.key_value, self.sort_name = table, key_name, key_value, sort_name

    def key_of(self, item: dict[str, Any]) -> str:
        return item[self.sort_name]

    def _query(self, limit: int, start: str | None, newest_first: bool, **extra: Any) -> Iterator[dict[str, Any]]:
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

    def page(self, limit: int, start: str | None = None, newest_first: bool = True) -> list[dict[str, Any]]:
        """Up to `limit` items following sort key `start` (exclusive), in that order."""
        return [plain(i) for i in self._query(limit, start, newest_first)]

    def skip(self, n: int, newest_first: bool = True) -> str | None:
        """Sort key of the n-th item in that order (keys only), or None if there are fewer."""
        last, seen = None, 0
        for item in self._query(n, None, newest_first, ProjectionExpression='#s',
                                ExpressionAttributeNames={'#s': self.sort_name}):
            last, seen = item[self.sort_name], seen + 1
        return last if seen >= n else None


class Dynamo:
    """The tables and the calls every part of the store makes (shared by composition: each
    concern of the store holds this one object)."""

    def __init__(self, cfg: settings.Settings):
        self.cfg = cfg
        # Short timeouts and few attempts: a hung table costs seconds, not botocore's 60 s × 5.
        self.resource = boto3.resource('dynamodb', config=Config(
            retries={'total_max_attempts': cfg.dynamodb_max_attempts, 'mode': 'standard'},
            connect_timeout=cfg.dynamodb_connect_timeout, read_timeout=cfg.dynamodb_read_timeout))
        self.client = self.resource.meta.client
        self.client.meta.events.register('before-send.dynamodb', _within_deadline)
        self._lean_reads = threading.local()
        self.client.meta.events.register('before-parse.dynamodb.Query', self._read_items_lean)
        self.users = self.resource.Table(cfg.users_table)
        self.chats = self.resource.Table(cfg.chats_table)
        self.quotes = self.resource.Table(cfg.quotes_table)
        self.auth = self.resource.Table(cfg.auth_table)

    def transact(self, items: list[dict[str, Any]], retries: int = 5) -> None:
        """A transaction; ConditionFailed if a condition failed, retried on mere conflicts (a
        hot item, such as a popular line's counter: busy, not broken)."""
        def attempt(_: int) -> Again | None:
            try:
                self.client.transact_write_items(TransactItems=items)
                return None
            except ClientError as exc:
                if exc.response['Error']['Code'] != 'TransactionCanceledException':
                    raise
                reasons = cancel_reasons(exc)
                if 'ConditionalCheckFailed' in reasons:
                    raise ConditionFailed(reasons) from exc
                if 'TransactionConflict' not in reasons:
                    raise
                return AGAIN
        retried(attempt, retries, pause=lambda n: random.uniform(0.01, 0.03) * (2 ** (n - 1)), busy=BUSIER)

    def _read_items_lean(self, response_dict: dict[str, Any], customized_response_dict: dict[str, Any] | None = None,
                         **_: Any) -> None:
        """For a Query asked to read lean (query_lean): its items decoded here, with json and
        lean(), and taken out of the body botocore parses next. botocore's parser and boto3's
        deserializer walk every value through the service model: at 1,000 corpus lines they took
        ~80 ms of a ~110 ms read, the HTTP exchange with DynamoDB Local the rest."""
        if (not getattr(self._lean_reads, 'active', False) or response_dict.get('status_code') != 200
                or customized_response_dict is None):  # (a botocore without the hook's second half: parse as usual)
            return
        try:
            body = json.loads(response_dict['body'])
        except ValueError:
            return  # botocore's parser reports it as it would any malformed answer
        customized_response_dict['LeanItems'] = [{k: lean(v) for k, v in item.items()}
                                                 for item in body.get('Items', [])]
        body['Items'] = []
        response_dict['body'] = json.dumps(body).encode()

    def query_lean(self, table: Any, **kwargs: Any) -> list[dict[str, Any]]:
        """query_all's items, already plain (ints, not Decimals)."""
        items: list[dict[str, Any]] = []
        while True:
            self._lean_reads.active = True  # for this call only: nothing else this thread asks is touched
            try:
                resp = table.query(**kwargs)
            finally:
                self._lean_reads.active = False
            found = resp.get('LeanItems')
            items.extend(found if found is not None else [plain(i) for i in resp['Items']])
            if 'LastEvaluatedKey' not in resp:
                return items
            kwargs['ExclusiveStartKey'] = resp['LastEvaluatedKey']

    def query_all(self, table: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item a Query matches, page by page."""
        while True:
            resp = table.query(**kwargs)
            yield from resp['Items']
            if 'LastEvaluatedKey' not in resp:
                return
            kwargs['ExclusiveStartKey'] = resp['LastEvaluatedKey']

    def batch_get(self, keys: dict[str, list[dict[str, str]]]) -> dict[str, list[dict[str, Any]]]:
        """Items by key from one or more tables (strongly consistent), in as few calls as
        BatchGetItem's 100 keys allow; what a table lacks is simply not returned."""
        found: dict[str, list[dict[str, Any]]] = {table: [] for table in keys}
        pending = [(table, k) for table, ks in keys.items() for k in ks]
        for start in range(0, len(pending), 100):
            request: dict[str, Any] | None = {}
            for table, k in pending[start:start + 100]:
                assert request is not None
                request.setdefault(table, {'Keys': [], 'ConsistentRead': True})['Keys'].append(k)
            while request:
                resp = self.resource.batch_get_item(RequestItems=request)
                for table, items in resp['Responses'].items():
                    found[table].extend(plain(i) for i in items)
                request = resp.get('UnprocessedKeys') or None
        return found

    def delete_partition(self, table: Any, key_name: str, key_value: str, sort_name: str) -> None:
        """Delete every item of one partition."""
        items = self.query_all(table, KeyConditionExpression=Key(key_name).eq(key_value), ConsistentRead=True,
                               ProjectionExpression='#k, #s',
                               ExpressionAttributeNames={'#k': key_name, '#s': sort_name})
        with table.batch_writer() as batch:
            for item in items:
                batch.delete_item(Key={key_name: item[key_name], sort_name: item[sort_name]})
