"""CORS for the configured frontend origins only, preflight included (against the real server)."""
import pytest

ALLOWED = 'http://localhost:8080'


@pytest.mark.parametrize('path', ['/chat/api', '/chat/api/', '/rest-auth/login/', '/quote/0000000000000000000000/apply',
                                  '/chat/model/0000000000000000000000', '/chat/model/0000000000000000000000/rating',
                                  '/chat/model/0000000000000000000000/share', '/chat/bookmarks/demo-x',
                                  '/chat/shares/x',
                                  '/share/' + 'A' * 24, '/chat/export', '/corpus/stats'])
def test_preflight_allows_the_configured_origin(api, path):
    r = api.request('OPTIONS', path, headers={'Origin': ALLOWED, 'Access-Control-Request-Method': 'POST',
                                              'Access-Control-Request-Headers': 'authorization,content-type'})
    assert r.status in (200, 204), r
    assert r.headers['access-control-allow-origin'] == ALLOWED
    assert r.headers['access-control-allow-credentials'] == 'true'
    assert 'POST' in r.headers['access-control-allow-methods']
    assert 'authorization' in r.headers['access-control-allow-headers'].lower()


def test_preflight_refuses_other_origins(api):
    r = api.request('OPTIONS', '/chat/api', headers={'Origin': 'https://evil.example',
                                                     'Access-Control-Request-Method': 'POST'})
    assert 'access-control-allow-origin' not in r.headers
    assert 'access-control-allow-methods' not in r.headers


def test_answers_and_errors_carry_cors_for_allowed_origin_only(api):
    ok = api.get('/health', headers={'Origin': ALLOWED})
    assert ok.headers['access-control-allow-origin'] == ALLOWED
    bad = api.post('/rest-auth/login', {'email': 'x'}, headers={'Origin': ALLOWED})
    assert bad.status == 400 and bad.headers['access-control-allow-origin'] == ALLOWED
    assert 'retry-after' in bad.headers['access-control-expose-headers'].lower()
    other = api.get('/health', headers={'Origin': 'https://evil.example'})
    assert 'access-control-allow-origin' not in other.headers
    assert other.headers.get('vary') == 'Origin'


def test_json_is_utf8_and_korean_is_not_escaped(api):
    r = api.post('/rest-auth/login', {'email': 'x'})
    assert r.headers['content-type'] == 'application/json; charset=utf-8'
    assert '입력값을 확인해 주세요'.encode() in r.raw
