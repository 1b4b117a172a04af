"""Whether the service can answer: the table reachable, and which answerer is on."""
from typing import Any

from chalicelib import storage
from chalicelib.chat import model


def check() -> dict[str, Any]:
    try:
        store = 'ok' if storage.store().tables.ping() else 'down'
    except Exception:  # any failure to reach the table is "down"; its cause is in the log line
        store = 'down'
    return {'status': 'ok' if store == 'ok' else 'degraded', 'store': {'dynamodb': store}, 'model': model.describe()}
