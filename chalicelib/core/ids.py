"""Time-ordered ids: sorting them as strings sorts by creation, so DynamoDB keys list newest first."""
import re
import secrets
import time
from datetime import UTC, datetime

ID_RE = re.compile(r'^[0-9a-f]{14}[0-9a-f]{8}$')


def new_id() -> str:
    return f'{time.time_ns() // 1000:014x}{secrets.token_hex(4)}'


def is_id(value: str) -> bool:
    return isinstance(value, str) and bool(ID_RE.match(value))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec='microseconds')
