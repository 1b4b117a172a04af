"""The OpenAPI document itself: it names exactly app.py's routes, it is valid OpenAPI 3.1, it is
current with its builder. That the server serves it and answers as it says: tests/test_openapi.py."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCUMENT = os.path.join(ROOT, 'chalicelib', 'service', 'openapi.json')
METHODS = {'get', 'put', 'post', 'delete', 'patch', 'head'}  # OPTIONS (CORS preflight) is not listed


def document():
    with open(DOCUMENT, encoding='utf-8') as f:
        return json.load(f)


def app_routes():
    import app
    return {(path, method.lower()) for path, entries in app.app.routes.items() for method in entries
            if method.lower() in METHODS}


def documented_routes():
    return {(path, method) for path, item in document()['paths'].items() for method in item if method in METHODS}


def test_every_route_in_app_is_documented_and_nothing_else():
    routes, documented = app_routes(), documented_routes()
    missing = sorted(f'{m.upper()} {p}' for p, m in routes - documented)
    extra = sorted(f'{m.upper()} {p}' for p, m in documented - routes)
    assert not missing, ('routes in app.py that chalicelib/service/openapi.json lacks: {}. Add an op(...) for each to '
                         'OPERATIONS in tools/build_openapi.py and run `make openapi`.'.format(', '.join(missing)))
    assert not extra, ('chalicelib/service/openapi.json documents routes app.py does not have: {}. Remove them from '
                       'tools/build_openapi.py and run `make openapi`.'.format(', '.join(extra)))


def test_document_is_valid_openapi_3_1():
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate
    doc = document()
    assert doc['openapi'].startswith('3.1')
    validate(doc, cls=OpenAPIV31SpecValidator)


def test_document_is_what_the_builder_writes():
    proc = subprocess.run([sys.executable, '-m', 'tools.build_openapi', '--check'],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr


def test_document_describes_auth_errors_pagination_and_links():
    doc = document()
    assert doc['components']['securitySchemes']['bearerAuth'] == {'type': 'http', 'scheme': 'bearer',
                                                                   'bearerFormat': 'JWT'}
    error = doc['components']['schemas']['Error']
    assert set(error['properties']) == {'Code', 'Message', 'Fields', 'RequestId'}
    assert error['required'] == ['Code', 'Message']
    history = doc['paths']['/chat/model']['get']
    assert {p['name'] for p in history['parameters']} == {'page', 'per-page', 'per_page', 'cursor', 'q'}
    assert history['security'] == [{'bearerAuth': []}]
    assert doc['paths']['/health']['get']['security'] == []
    page = doc['components']['schemas']['ChatPage']
    assert set(page['required']) == {'count', 'next', 'previous', 'results', '_links'}
    registration = doc['paths']['/rest-auth/registration']['post']['responses']['400']
    assert registration['content']['application/json']['schema'] == {'$ref': '#/components/schemas/FieldErrors'}
    assert 'trailing slash' in doc['info']['description']
