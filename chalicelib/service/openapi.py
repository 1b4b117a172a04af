"""The OpenAPI 3.1 document of this API (openapi.json beside this module, written by
tools/build_openapi.py), read on first use so a cold start never pays for it."""
import functools
import json
import os
from typing import Any

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'openapi.json')


@functools.lru_cache(maxsize=1)
def _load() -> str:
    with open(PATH, encoding='utf-8') as f:
        return f.read()


def document(base_url: str) -> dict[str, Any]:
    """The document, with `servers` naming this API as the caller reached it, so a viewer's
    "try it out" calls this deployment (and its stage path)."""
    doc = json.loads(_load())  # a fresh copy per call: callers may change it
    doc['servers'] = [{'url': base_url, 'description': 'this API'}]
    return doc
