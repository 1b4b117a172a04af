"""The service itself over HTTP: health, and the OpenAPI document."""
from typing import Any

from chalice import Blueprint, Response

from chalicelib import gateway
from chalicelib.service import health, openapi

bp = Blueprint(__name__)
route = gateway.router(bp)


@route('/health', ['GET'], public=True)
def health_check() -> Any:
    body = health.check()
    if body['status'] != 'ok':
        return Response(body=body, status_code=503, headers={'Retry-After': '5'})
    return body


@route('/openapi.json', ['GET'], public=True)
def openapi_document(base: str) -> dict[str, Any]:
    return openapi.document(base)
