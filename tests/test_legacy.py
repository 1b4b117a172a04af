"""Legacy mode (LEGACY_ORIGINS) and dj-rest-auth's error shape, over real HTTP: the original web
client's own requests, replayed as it sends them, get what it needs; nobody else changes."""
import json
import os

import pytest

from tests.conftest import FRONTEND_ORIGIN

LEGACY = 'http://old.stove.example:8000'
PASSWORD = 'correct horse 1'


@pytest.fixture
def legacy(api):
    """LEGACY_ORIGINS names the old client's site (written as an operator might, with a slash)."""
    from chalicelib.core import settings
    before = os.environ.get('LEGACY_ORIGINS')
    os.environ['LEGACY_ORIGINS'] = f' {LEGACY}/ , http://another-old.example'
    settings.reload()
    yield OldClient(api)
    if before is None:
        os.environ.pop('LEGACY_ORIGINS', None)
    else:
        os.environ['LEGACY_ORIGINS'] = before
    settings.reload()


class OldClient:
    """The original web client's calls as it makes them: fetch() from its own origin with
    `credentials: 'include'` (so CORS must allow credentials), `Accept: */*`, trailing slashes,
    `bearer` in lower case, the chat input as a form field."""
    def __init__(self, api, origin=LEGACY):
        self.api, self.origin = api, origin
        self.access = self.refresh_token = self.user = None

    def send(self, method, path, body=None, form=None):
        headers = {'Accept': '*/*', 'Origin': self.origin}
        raw = None
        if self.access:
            headers['Authorization'] = 'bearer ' + self.access
        if body is not None:
            headers['Content-Type'] = 'application/json'
            raw = json.dumps(body).encode()
        if form is not None:
            headers['Content-Type'] = 'application/x-www-form-urlencoded;charset=UTF-8'
            from urllib.parse import urlencode
            raw = urlencode(form).encode()
        r = self.api.request(method, path, headers=headers, raw=raw)
        assert r.headers.get('access-control-allow-origin') == self.origin, (path, r.headers)
        assert r.headers.get('access-control-allow-credentials') == 'true'
        return r

    def signup(self, email, nickname='드림즈', password1=PASSWORD, password2=PASSWORD):
        return self.send('POST', '/rest-auth/registration/', {'email': email, 'nickname': nickname,
                                                           'password1': password1, 'password2': password2})

    def login(self, email, password=PASSWORD):
        r = self.send('POST', '/rest-auth/login/', {'email': email, 'password': password})
        assert r.status == 200, r
        self.access, self.refresh_token, self.user = r.json['access'], r.json['refresh'], r.json['user']
        return r

    def refresh(self):
        """It sends login's refresh token every time and keeps only the new access token."""
        r = self.send('POST', '/rest-auth/token/refresh/', {'refresh': self.refresh_token})
        if r.status == 200:
            self.access = r.json['access']
        return r

    def ask(self, text):
        r = self.send('POST', '/chat/api/', form={'input': text})
        assert r.status == 200, r
        assert isinstance(r.json, str), r.json  # the body is a JSON string ...
        return json.loads(r.json)  # ... which the client JSON.parses into the answer

    def save(self, text, answer):
        pk = self.user['pk']
        return self.send('POST', '/chat/model/', {'content': text, 'user': pk, 'chat_reply': {
            'scene': answer['scene'], 'quote': answer['quote'], 'description': answer['description'], 'user': pk}})

    def history(self, page=1):
        return self.send('GET', f'/chat/model/?per-page=5&page={page}')


def test_old_client_asks_parses_the_string_and_saves_once(legacy, demo):
    assert legacy.signup('old@client.kr').status == 201
    legacy.login('old@client.kr')
    answer = legacy.ask('팀 안에서 서로 편을 갈라 싸워요')
    assert set(answer) == {'scene', 'quote', 'description'}
    assert isinstance(answer['scene'], int) and answer['quote'] and answer['description']
    assert answer['quote'] in {line['quote'] for line in demo.lines}
    assert legacy.history().json['count'] == 0  # /chat/api saved nothing ...

    saved = legacy.save('팀 안에서 서로 편을 갈라 싸워요', answer)
    assert saved.status == 201, saved
    history = legacy.history().json  # ... so its own save shows the exchange once
    assert history['count'] == 1 and len(history['results']) == 1
    chat = history['results'][0]
    assert chat['content'] == '팀 안에서 서로 편을 갈라 싸워요'
    assert chat['chat_reply']['quote'] == answer['quote'] and chat['chat_reply']['scene'] == answer['scene']


def test_the_old_client_gets_a_line_even_for_input_that_is_no_situation(legacy, demo, api):
    """Its page shows whatever line comes: "no line fits" is for clients that know it."""
    assert legacy.signup('old2@client.kr').status == 201
    legacy.login('old2@client.kr')
    answer = legacy.ask('ㅁㄴㅇㄹ')
    assert answer['quote'] in {line['quote'] for line in demo.lines}
    r = api.post('/chat/api', {'input': 'ㅁㄴㅇㄹ'}, token=api.join()['access'])
    assert r.json['fits'] is False  # the same input, elsewhere


def test_multipart_form_and_json_bodies_get_the_old_shape_too(legacy, demo):
    legacy.signup('old@client.kr')
    legacy.login('old@client.kr')
    boundary = 'oldclientboundary'
    raw = (f'--{boundary}\r\nContent-Disposition: form-data; name="input"\r\n\r\n'
           f'상사가 부당한 일을 시켜요\r\n--{boundary}--\r\n').encode()
    r = legacy.api.request('POST', '/chat/api/', raw=raw, headers={
        'Origin': LEGACY, 'Accept': '*/*', 'Authorization': 'bearer ' + legacy.access,
        'Content-Type': 'multipart/form-data; boundary=' + boundary})
    assert r.status == 200 and isinstance(r.json, str), r
    assert r.headers['content-type'] == 'application/json; charset=utf-8'
    assert set(json.loads(r.json)) == {'scene', 'quote', 'description'}
    assert isinstance(json.loads(legacy.send('POST', '/chat/api/', {'input': '지쳤어요'}).json), dict)
    assert legacy.history().json['count'] == 0


def test_other_origins_keep_the_object_answer_and_the_save(legacy, demo, api):
    account = api.join()
    for headers in ({'Origin': FRONTEND_ORIGIN}, {'Origin': 'https://evil.example'}, {}):
        r = api.post('/chat/api', {'input': '지쳤어요'}, token=account['access'], headers=headers)
        assert r.status == 200 and isinstance(r.json, dict) and r.json['chat']['id'], r
    assert api.get('/chat/model', token=account['access']).json['count'] == 3
    assert 'access-control-allow-origin' not in api.get('/health', headers={'Origin': 'https://evil.example'}).headers


def test_old_client_refreshes_with_logins_token_until_logout(legacy):
    legacy.signup('old@client.kr')
    legacy.login('old@client.kr')
    login_refresh = legacy.refresh_token
    accesses = []
    for _ in range(3):  # every ~15 minutes, the same refresh token
        r = legacy.refresh()
        assert r.status == 200, r
        assert r.json['refresh'] == login_refresh
        accesses.append(r.json['access'])
        assert legacy.send('GET', '/rest-auth/profile/').status == 200  # the new access token works
    assert len(set(accesses)) == 3
    assert legacy.send('POST', '/rest-auth/logout/').status == 200
    r = legacy.send('POST', '/rest-auth/token/refresh/', {'refresh': login_refresh})
    assert r.status == 401, r  # logout still revokes it


def test_sessions_begun_elsewhere_keep_rotation_even_with_a_legacy_origin(legacy, api, configure):
    """Origin is only what a browser says: sending a legacy Origin cannot switch off reuse
    detection for a session the new frontend (or any other client) began."""
    configure(REFRESH_REUSE_GRACE_SECONDS=0)  # reuse at once, not two tabs refreshing together
    api.join(email='new@client.kr', password=PASSWORD)
    login = api.post('/rest-auth/login', {'email': 'new@client.kr', 'password': PASSWORD},
                     headers={'Origin': FRONTEND_ORIGIN}).json
    spoofed = OldClient(api)
    spoofed.refresh_token = login['refresh']
    first = spoofed.refresh()
    assert first.status == 200 and first.json['refresh'] != login['refresh']  # rotated
    assert spoofed.refresh().status == 401  # the old token again: the session ends
    r = api.post('/rest-auth/token/refresh', {'refresh': first.json['refresh']})
    assert r.status == 401, r


def test_a_legacy_session_refreshed_by_another_client_rotates_there(legacy, api):
    legacy.signup('old@client.kr')
    legacy.login('old@client.kr')
    r = api.post('/rest-auth/token/refresh', {'refresh': legacy.refresh_token}, headers={'Origin': FRONTEND_ORIGIN})
    assert r.status == 200 and r.json['refresh'] != legacy.refresh_token
    assert legacy.refresh().status == 401  # reuse after rotation: the whole session ends
    assert api.post('/rest-auth/token/refresh', {'refresh': r.json['refresh']}).status == 401


def test_preflight_from_a_legacy_origin_allows_credentials(legacy, api):
    r = api.request('OPTIONS', '/chat/api/', headers={'Origin': LEGACY, 'Access-Control-Request-Method': 'POST',
                                                      'Access-Control-Request-Headers': 'authorization'})
    assert r.status in (200, 204)
    assert r.headers['access-control-allow-origin'] == LEGACY
    assert r.headers['access-control-allow-credentials'] == 'true'
    assert 'authorization' in r.headers['access-control-allow-headers'].lower()


def test_without_legacy_origins_nothing_is_legacy(api, demo):
    """The default (empty) LEGACY_ORIGINS: the old site's origin is just another origin."""
    account = api.join()
    r = api.post('/chat/api/', {'input': '지쳤어요'}, token=account['access'], headers={'Origin': LEGACY})
    assert r.status == 200 and isinstance(r.json, dict)
    assert 'access-control-allow-origin' not in r.headers
    assert api.get('/chat/model', token=account['access']).json['count'] == 1


def test_legacy_chat_failure_is_an_error_and_saves_nothing(legacy, store):
    legacy.signup('old@client.kr')  # no corpus and no model: 503
    legacy.login('old@client.kr')
    r = legacy.send('POST', '/chat/api/', form={'input': '지쳤어요'})
    assert r.status == 503 and r.json['Code'] == 'ServiceUnavailableError', r
    r = legacy.send('POST', '/chat/api/', form={'input': ''})
    assert r.status == 400 and 'input' in r.json['Fields'], r
    assert legacy.history().json['count'] == 0


# -- POST /rest-auth/registration answers errors as dj-rest-auth did, for every client ------------
@pytest.mark.parametrize('body, expected', [
    ({'email': 'a@b.co', 'nickname': 'n', 'password1': PASSWORD, 'password2': PASSWORD + 'x'}, {'password2'}),
    ({'email': 'not-an-email', 'nickname': 'n', 'password1': 'short', 'password2': 'short'}, {'email', 'password1'}),
    ({'email': 'a@b.co', 'nickname': '', 'password1': PASSWORD}, {'nickname', 'password2'}),
    ({'email': 'a@b.co', 'nickname': 'n', 'password': 'short'}, {'password'}),
    ({'nickname': 'n' * 31, 'password': PASSWORD}, {'email', 'nickname'}),
])
def test_registration_errors_are_field_lists(api, body, expected):
    for headers in ({}, {'Origin': FRONTEND_ORIGIN}):
        r = api.post('/rest-auth/registration/', body, headers=headers)
        assert r.status == 400, r
        assert set(r.json) == expected, r.json
        assert all(isinstance(v, list) and v and all(isinstance(m, str) and m for m in v) for v in r.json.values())
    assert api.post('/rest-auth/login', {'email': 'a@b.co', 'password': PASSWORD}).status == 401


def test_registration_duplicate_email_and_unparsable_body(api):
    api.join(email='taken@example.com')
    r = api.post('/rest-auth/registration/', {'email': 'TAKEN@example.com', 'nickname': 'n',
                                              'password1': PASSWORD, 'password2': PASSWORD})
    assert r.status == 409 and r.json == {'email': ['이미 가입된 이메일입니다.']}, r
    r = api.request('POST', '/rest-auth/registration/', raw=b'{"email": ', headers={'Content-Type': 'application/json'})
    assert r.status == 400 and set(r.json) == {'detail'}, r


def test_join_keeps_the_apps_own_error_shape(api):
    r = api.post('/rest-auth/join/', {'email': 'a@b.co', 'nickname': 'n', 'password1': PASSWORD,
                                      'password2': PASSWORD + 'x'})
    assert r.status == 400 and r.json['Code'] == 'BadRequestError' and set(r.json['Fields']) == {'password2'}
    api.join(email='taken@example.com')
    r = api.post('/rest-auth/join', {'email': 'taken@example.com', 'nickname': 'n', 'password': PASSWORD})
    assert r.status == 409 and r.json['Code'] == 'ConflictError' and 'email' in r.json['Fields']
