"""One time budget per request, so every answer comes before API Gateway's 29 s cut.

The middleware starts it when a request arrives (API Gateway's `requestTimeEpoch`, so the
authorizer's time counts too); every DynamoDB attempt checks it before it is sent
(storage/dynamo.py) and the model call gets what is left (chat/model.py). Outside a request (operator
tools, tests calling modules directly) there is no budget.
"""
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from chalicelib.core.errors import ServiceUnavailable

_state = threading.local()  # Lambda runs one request per process; the local server one per thread


class DeadlineExceeded(ServiceUnavailable):
    def __init__(self):
        super().__init__('요청을 제시간에 처리하지 못했습니다. 잠시 후 다시 시도해 주세요.', retry_after=2)


def start(budget: float, arrived_at: float | None = None) -> None:
    _state.ends_at = (arrived_at or time.time()) + budget


def clear() -> None:
    _state.ends_at = None


def remaining() -> float:
    """Seconds left in this request's budget (infinite outside a request)."""
    ends_at = getattr(_state, 'ends_at', None)
    return math.inf if ends_at is None else ends_at - time.time()


def check() -> None:
    if remaining() <= 0:
        raise DeadlineExceeded()


def run_within(fn: Callable[[threading.Event], Any], timeout: float) -> Any:
    """fn(cancelled) on a worker thread; its result, or TimeoutError after `timeout` seconds.

    For calls whose library has no overall deadline (an HTTP client's read timeout restarts
    with every byte): we stop waiting at `timeout`; the worker sees `cancelled` at its next
    chance and ends on its own.
    """
    done, cancelled, out = threading.Event(), threading.Event(), {}

    def work() -> None:
        try:
            out['value'] = fn(cancelled)
        except BaseException as exc:  # handed to the waiting thread, which raises it
            out['error'] = exc
        finally:
            done.set()

    threading.Thread(target=work, name='deadline-worker', daemon=True).start()
    if not done.wait(max(0.0, timeout)):
        cancelled.set()
        raise TimeoutError(f'no answer within {timeout:.1f} s')
    if 'error' in out:
        raise out['error']
    return out['value']
