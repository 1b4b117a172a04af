"""What code running in this process asks of DynamoDB: each call's operation, table, Limit
and the capacity it consumed. The test and bench API servers run in a thread of this
process, so wrapping one request counts what that request costs, the authorizer's GetItem
included.

    with DynamoCalls() as calls:
        api.get('/quote', token=token)
    assert calls.names == ['GetItem', 'Query', 'BatchGetItem']

It hooks botocore's events on the client of `storage.store()` (the app's one DynamoDB
client); `capacity=True` also asks DynamoDB for ConsumedCapacity on every call that can
return it (DynamoDB Local reports it too), without changing what the app sees otherwise.
"""
import json
import threading
from dataclasses import dataclass


@dataclass
class Call:
    operation: str
    table: str | None
    limit: int | None
    capacity: float = 0.0
    items: int = 0  # items a read returned (GetItem, Query, BatchGetItem)

    def __str__(self):
        return self.operation + (f'(Limit={self.limit})' if self.limit is not None else '')


def _capacity_units(consumed) -> float:
    if not consumed:
        return 0.0
    if isinstance(consumed, dict):
        consumed = [consumed]
    return sum(float(c.get('CapacityUnits', 0)) for c in consumed)


def _items_read(parsed) -> int:
    if 'Responses' in parsed and isinstance(parsed['Responses'], dict):  # BatchGetItem
        return sum(len(items) for items in parsed['Responses'].values())
    if 'Count' in parsed:  # Query, Scan
        return int(parsed['Count'])
    return 1 if parsed.get('Item') else 0


class DynamoCalls:
    def __init__(self, client=None, capacity: bool = False):
        if client is None:
            from chalicelib import storage
            client = storage.store().db.client
        self.client, self.capacity = client, capacity
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._current = threading.local()

    # -- botocore event handlers ------------------------------------------------------------
    def _ask_for_capacity(self, params, model, **_):
        if 'ReturnConsumedCapacity' in model.input_shape.members:
            params.setdefault('ReturnConsumedCapacity', 'TOTAL')

    def _before_call(self, model, params, **_):
        try:
            body = json.loads(params.get('body') or b'{}')
        except ValueError:
            body = {}
        tables = body.get('TableName') or ','.join(sorted(body.get('RequestItems') or {})) or None
        call = Call(model.name, tables, body.get('Limit'))
        with self._lock:
            self.calls.append(call)
        self._current.call = call

    def _after_call(self, parsed, **_):
        call = getattr(self._current, 'call', None)
        if call is not None and isinstance(parsed, dict):
            call.capacity = _capacity_units(parsed.get('ConsumedCapacity'))
            call.items = _items_read(parsed)
            self._current.call = None

    # -- use --------------------------------------------------------------------------------
    def __enter__(self) -> 'DynamoCalls':
        events = self.client.meta.events
        if self.capacity:
            events.register('before-parameter-build.dynamodb', self._ask_for_capacity)
        events.register('before-call.dynamodb', self._before_call)
        events.register('after-call.dynamodb', self._after_call)
        return self

    def __exit__(self, *exc) -> None:
        events = self.client.meta.events
        events.unregister('after-call.dynamodb', self._after_call)
        events.unregister('before-call.dynamodb', self._before_call)
        if self.capacity:
            events.unregister('before-parameter-build.dynamodb', self._ask_for_capacity)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()

    @property
    def names(self) -> list[str]:
        return [c.operation for c in self.calls]

    @property
    def shape(self) -> list[str]:
        """Operation and Limit of each call: equal shapes read the same number of items."""
        return [str(c) for c in self.calls]

    @property
    def total_capacity(self) -> float:
        return sum(c.capacity for c in self.calls)

    def __len__(self) -> int:
        return len(self.calls)

    def __str__(self) -> str:
        return ', '.join(self.shape)


def calls_of(fn, capacity: bool = False):
    """(fn's result, the DynamoCalls it made)."""
    with DynamoCalls(capacity=capacity) as calls:
        result = fn()
    return result, calls
