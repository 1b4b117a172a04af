"""Input an attacker (or a broken client) sends: lone surrogates, deep nesting, odd multipart
parts, forged Host headers. Each is a clear 4xx, and nothing already stored can break an answer."""
import base64
import json

import pytest

from tools.devkit.http import Api

PASSWORD = 'correct horse 1'


def raw_json(body) -> bytes:
    """JSON text as a client may send it: ensure_ascii keeps a lone surrogate as the escape \\ud800."""
    return json.dumps(body).encode('ascii')


def send_json(api: Api, method, path, body, token=None):
    return api.request(method, path, raw=raw_json(body), token=token, headers={'Content-Type': 'application/json'})


@pytest.fixture
def token(api):
    return api.join()['access']


# -- lone UTF-16 surrogates -------------------------------------------------------------------
LONE = ['\ud800', 'abc\udfffdef', '가\udbff']


@pytest.mark.parametrize('value', LONE)
@pytest.mark.parametrize('method, path, body, field, authed', [
    ('POST', '/rest-auth/join', {'email': 'a@b.co', 'nickname': None, 'password': PASSWORD}, 'nickname', False),
    ('POST', '/rest-auth/join', {'email': None, 'nickname': 'n', 'password': PASSWORD}, 'email', False),
    ('POST', '/rest-auth/join', {'email': 'a@b.co', 'nickname': 'n', 'password': None}, 'password', False),
    ('POST', '/rest-auth/login', {'email': 'user@example.com', 'password': None}, 'password', False),
    ('POST', '/rest-auth/token/refresh', {'refresh': None}, 'refresh', False),
    ('PUT', '/rest-auth/profile', {'nickname': None}, 'nickname', True),
    ('PUT', '/rest-auth/profile', {'password': 'new password 2', 'current_password': None}, 'current_password', True),
    ('DELETE', '/rest-auth/profile', {'password': None}, 'password', True),
    ('POST', '/chat/api', {'input': None}, 'input', True),
    ('POST', '/chat/model', {'content': None, 'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}},
     'content', True),
    ('POST', '/quote', {'title': None, 'content': 'c', 'description': 'd'}, 'title', True),
])
def test_lone_surrogates_are_a_400_naming_the_field(api, demo, token, method, path, body, field, authed, value):
    # otherwise well-formed, so only the surrogate can be the reason for the 400
    value = {'email': f'x{value}@b.co', 'password': f'password {value}'}.get(field, value)
    body = {k: (value if v is None else v) for k, v in body.items()}
    r = send_json(api, method, path, body, token=token if authed else None)
    assert r.status == 400, r
    assert r.json['Code'] == 'BadRequestError' and field in r.json['Fields'], r.json
    assert api.get('/rest-auth/profile', token=token).json['nickname'] == '사용자'
    assert api.get('/chat/model', token=token).json['count'] == 0


def test_lone_surrogate_in_a_form_field_is_a_400(api, demo, token):
    r = api.request('POST', '/chat/api', raw=b'input=%ED%A0%80', token=token,
                    headers={'Content-Type': 'application/x-www-form-urlencoded'})
    assert r.status == 400, r


def test_text_already_stored_with_a_lone_surrogate_cannot_break_an_answer(api, store, token):
    """Stored before validation refused them: every page showing it must still answer JSON."""
    from chalicelib.core import ids
    user_id = api.get('/rest-auth/profile', token=token).json['id']
    store.users.update(user_id, 'user@example.com', {'nickname': '짝\ud800없음'})
    at = ids.now_iso()
    store.board.put({'id': ids.new_id(), 'user_id': user_id, 'title': 'bad \udc00 title', 'content': 'c',
                        'description': 'd', 'scene': None, 'speaker': None, 'is_apply': False,
                        'created_at': at, 'updated_at': at, 'applied_at': None})
    for path in ('/quote', '/rest-auth/profile'):
        r = api.get(path, token=token)
        assert r.status == 200, r
        assert r.raw.decode('utf-8')  # valid UTF-8 all through
    board = api.get('/quote', token=token).json
    assert board['results'][0]['title'] == 'bad \ufffd title'
    assert board['results'][0]['user']['nickname'] == '짝\ufffd없음'


# -- deep nesting -----------------------------------------------------------------------------
DEEP = [b'[' * 2000 + b']' * 2000, b'{"a":' * 2000 + b'1' + b'}' * 2000]


@pytest.mark.parametrize('raw', DEEP, ids=['array', 'object'])
@pytest.mark.parametrize('method, path, authed', [
    ('POST', '/rest-auth/join', False), ('POST', '/rest-auth/login', False),
    ('POST', '/rest-auth/token/refresh', False), ('PUT', '/rest-auth/profile', True),
    ('DELETE', '/rest-auth/profile', True), ('POST', '/chat/api', True), ('POST', '/chat/model', True),
    ('POST', '/quote', True),
])
def test_deeply_nested_json_is_a_400(api, token, method, path, authed, raw):
    r = api.request(method, path, raw=raw, token=token if authed else None,
                    headers={'Content-Type': 'application/json'})
    assert r.status == 400, r
    assert r.json['Code'] == 'BadRequestError'


@pytest.mark.parametrize('inner', [b'[' * 2000 + b']' * 2000, b'{"a":' * 2000 + b'1' + b'}' * 2000])
@pytest.mark.parametrize('path', ['/chat/model', '/quote'])
def test_a_cursor_hiding_deep_json_is_a_400(api, token, path, inner):
    cursor = base64.urlsafe_b64encode(inner).decode().rstrip('=')
    r = api.get(path + '?cursor=' + cursor, token=token)
    assert r.status == 400, r
    assert r.json['Code'] == 'BadRequestError'


# -- multipart --------------------------------------------------------------------------------
@pytest.mark.parametrize('part', [
    'Content-Disposition: form-data; name="input"\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n'
    '--inner\r\nContent-Type: text/plain\r\n\r\nhello\r\n--inner--',
    'Content-Disposition: form-data; name="input"\r\nContent-Type: message/rfc822\r\n\r\n'
    'Subject: hi\r\n\r\nhello',
])
def test_multipart_parts_that_are_not_text_are_a_400(api, demo, token, part):
    raw = (f'--XyZ\r\n{part}\r\n--XyZ--\r\n').encode()
    r = api.request('POST', '/chat/api', raw=raw, token=token,
                    headers={'Content-Type': 'multipart/form-data; boundary=XyZ'})
    assert r.status == 400, r
    assert r.json['Code'] == 'BadRequestError'
    assert api.get('/chat/model', token=token).json['count'] == 0


# -- links never come from client headers -----------------------------------------------------
FORGED = {'Host': 'evil.example', 'X-Forwarded-Proto': 'javascript', 'X-Forwarded-Host': 'evil.example'}


def test_links_ignore_host_and_forwarded_headers(api, server):
    r = api.post('/rest-auth/join', {'email': 'a@b.co', 'nickname': 'n', 'password': PASSWORD}, headers=FORGED)
    assert r.status == 201, r
    token = r.json['access']
    saved = api.post('/chat/model', {'content': 'c', 'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}},
                     token=token, headers=FORGED).json
    for _ in range(5):
        api.post('/chat/model', {'content': 'c', 'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}},
                 token=token)
    listed = api.get('/chat/model', token=token, headers=FORGED).json
    hrefs = [link['href'] for link in r.json['_links'] + saved['_links'] + listed['_links']] + [listed['next']]
    assert all(h.startswith(server + '/') for h in hrefs), hrefs


def test_links_use_the_configured_public_base_url(api, configure):
    configure(PUBLIC_BASE_URL='https://api.stove.example/v1/')
    r = api.post('/rest-auth/join', {'email': 'a@b.co', 'nickname': 'n', 'password': PASSWORD}, headers=FORGED)
    assert {link['href'] for link in r.json['_links']} >= {'https://api.stove.example/v1/rest-auth/profile'}
