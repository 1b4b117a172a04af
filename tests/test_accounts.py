"""Accounts through the real HTTP server: join, login, refresh, logout, profile, tokens."""
import base64
import json
import time

import jwt
import pytest

from chalicelib.accounts import purge
from chalicelib.storage import keys

PASSWORD = 'correct horse 1'


def claims(token):
    payload = token.split('.')[1]
    return json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))


def login(api, email='user@example.com', password=PASSWORD):
    return api.post('/rest-auth/login', {'email': email, 'password': password})


# -- join -------------------------------------------------------------------------------------
def test_join_returns_user_tokens_and_links(api):
    r = api.post('/rest-auth/join', {'email': 'Seung@Example.com', 'nickname': '백승수', 'password': PASSWORD})
    assert r.status == 201, r
    body = r.json
    assert body['user']['email'] == 'seung@example.com'
    assert body['user']['pk'] == body['user']['id']
    assert body['user']['nickname'] == '백승수'
    assert body['user']['is_admin'] is False
    assert 'password' not in json.dumps(body)
    access = claims(body['access'])
    assert access['exp'] > time.time() and access['sub'] == body['user']['id'] and access['jti']
    assert claims(body['refresh'])['type'] == 'refresh'
    assert {link['desc'] for link in body['_links']} >= {'profile', 'logout'}
    assert all(link['href'].startswith('http://127.0.0.1') for link in body['_links'])


def test_registration_alias_with_two_passwords(api):
    r = api.post('/rest-auth/registration/', {'email': 'old@client.kr', 'nickname': '드림즈',
                                              'password1': PASSWORD, 'password2': PASSWORD})
    assert r.status == 201, r
    assert login(api, 'old@client.kr').status == 200


def test_registration_passwords_that_differ_name_the_field(api):
    r = api.post('/rest-auth/registration/', {'email': 'old@client.kr', 'nickname': '드림즈',
                                              'password1': PASSWORD, 'password2': PASSWORD + 'x'})
    assert r.status == 400, r
    assert list(r.json) == ['password2'] and r.json['password2'][0]  # dj-rest-auth's shape (tests/test_legacy.py)
    assert login(api, 'old@client.kr').status == 401


@pytest.mark.parametrize('body, field', [
    ({'nickname': 'n', 'password': PASSWORD}, 'email'),
    ({'email': 'not-an-email', 'nickname': 'n', 'password': PASSWORD}, 'email'),
    ({'email': 'a@b.co', 'nickname': '', 'password': PASSWORD}, 'nickname'),
    ({'email': 'a@b.co', 'nickname': 'n' * 31, 'password': PASSWORD}, 'nickname'),
    ({'email': 'a@b.co', 'nickname': 123, 'password': PASSWORD}, 'nickname'),
    ({'email': 'a@b.co', 'nickname': 'n', 'password': 'short'}, 'password'),
    ({'email': 'a@b.co', 'nickname': 'n', 'password': '가' * 25}, 'password'),  # 75 bytes: over bcrypt's 72
    ({'email': 'a@b.co', 'nickname': 'n', 'password': ['x'] * 9}, 'password'),
    ({'email': ['a@b.co'], 'nickname': 'n', 'password': PASSWORD}, 'email'),
])
def test_join_rejects_bad_fields_and_saves_nothing(api, body, field):
    r = api.post('/rest-auth/join', body)
    assert r.status == 400, r
    assert field in r.json['Fields'], r.json
    assert r.json['Message'].startswith('입력값을 확인해 주세요') and field not in r.json['Message']
    assert login(api, 'a@b.co').status == 401


def test_password_of_exactly_72_bytes_is_accepted(api):
    password = '가' * 24  # 72 bytes in UTF-8
    api.join(email='k@b.co', password=password)
    assert login(api, 'k@b.co', password).status == 200


@pytest.mark.parametrize('raw, ctype', [
    (b'{"email": ', 'application/json'),
    (b'[1, 2]', 'application/json'),
    (b'\xff\xfe', 'application/json'),
    (b'', 'application/json'),
])
def test_malformed_bodies_are_400(api, raw, ctype):
    r = api.request('POST', '/rest-auth/join', raw=raw, headers={'Content-Type': ctype})
    assert r.status == 400, r
    assert r.json['Code'] == 'BadRequestError'


def test_duplicate_email_is_409_case_insensitively(api):
    api.join(email='dup@example.com')
    r = api.post('/rest-auth/join', {'email': 'DUP@example.com', 'nickname': 'x', 'password': PASSWORD})
    assert r.status == 409, r
    assert 'email' in r.json['Fields']


def test_concurrent_signups_with_one_email_exactly_one_wins(api):
    results = api.at_once([('POST', '/rest-auth/join', {'email': 'race@example.com', 'nickname': f'n{i}',
                                                        'password': PASSWORD}, None) for i in range(6)])
    assert sorted(r.status for r in results) == [201] + [409] * 5


# -- login ------------------------------------------------------------------------------------
def test_login_returns_tokens_and_records_login(api, store):
    user = api.join()['user']
    r = login(api, 'USER@example.com ')
    assert r.status == 200, r
    assert r.json['token_type'] == 'Bearer' and r.json['expires_in'] == 900
    assert r.json['user']['pk'] == user['id'] and r.json['user']['last_login']
    saved = store.users.get(user['id'])
    assert saved['ip_address'] == '127.0.0.1' and saved['last_login'] == r.json['user']['last_login']


def test_unknown_email_and_wrong_password_look_the_same_and_cost_the_same(api, monkeypatch):
    from chalicelib.accounts import auth
    api.join()
    checks = []
    real = auth.check_password
    monkeypatch.setattr(auth, 'check_password', lambda pw, hashed: checks.append(hashed) or real(pw, hashed))
    wrong = login(api, password='wrong password')
    unknown = login(api, email='nobody@example.com')
    assert wrong.status == unknown.status == 401
    same = lambda body: {k: v for k, v in body.items() if k != 'RequestId'}  # noqa: E731 (ids always differ)
    assert same(wrong.json) == same(unknown.json)
    # Both paths ran one bcrypt check, against hashes of the same cost.
    assert len(checks) == 2 and checks[0][:7] == checks[1][:7]


def test_failed_logins_are_throttled_per_account(api):
    api.join()
    for _ in range(5):
        assert login(api, password='wrong password').status == 401
    r = login(api)  # even the right password waits now
    assert r.status == 429, r
    assert int(r.headers['retry-after']) > 0
    assert r.json['Code'] == 'TooManyRequestsError'


def test_the_throttle_holds_under_parallel_guesses(api, monkeypatch):
    from chalicelib.accounts import auth
    api.join()
    checks = []
    real = auth.check_password
    monkeypatch.setattr(auth, 'check_password', lambda pw, hashed: checks.append(1) or real(pw, hashed))
    results = api.at_once([('POST', '/rest-auth/login', {'email': 'user@example.com',
                                                         'password': f'guess number {i}'}, None) for i in range(12)])
    assert sorted(r.status for r in results) == [401] * 5 + [429] * 7
    assert len(checks) == 5  # no more passwords were tried than the limit allows


def test_a_successful_login_gives_its_attempt_back(api):
    api.join()
    for _ in range(4):
        assert login(api, password='wrong password').status == 401
    for _ in range(3):
        assert login(api).status == 200  # and clears the account's failures
    assert login(api, password='wrong password').status == 401


def test_one_address_has_a_much_higher_bar_than_one_account(api):
    """Everyone behind one NAT shares an address: 5 failures there must not lock them all out."""
    api.join()
    for i in range(49):
        assert login(api, email=f'nobody{i}@example.com').status == 401
    assert login(api).status == 200  # someone else behind the same address logs in fine
    assert login(api, email='nobody-49@example.com').status == 401  # the 50th failure
    r = login(api, email='someone-else@example.com')
    assert r.status == 429, r
    assert int(r.headers['retry-after']) > 0


def test_the_address_bar_is_configurable(api, configure):
    configure(LOGIN_MAX_FAILURES_PER_ADDRESS=3)
    for i in range(3):
        assert login(api, email=f'nobody{i}@example.com').status == 401
    assert login(api, email='someone-else@example.com').status == 429


def test_a_login_costs_at_most_three_dynamodb_calls(api, store):
    from tools.devkit.dynamo_calls import DynamoCalls
    api.join()
    assert login(api, password='wrong password').status == 401  # a counter exists from now on
    with DynamoCalls() as ok_calls:
        ok = login(api)
    with DynamoCalls() as failed_calls:
        failed = login(api, password='wrong password')
    assert ok.status == 200 and failed.status == 401
    assert ok_calls.names == ['TransactWriteItems', 'GetItem', 'TransactWriteItems'], ok_calls.names
    assert failed_calls.names == ['TransactWriteItems', 'GetItem'], failed_calls.names
    assert api.get('/rest-auth/profile', token=ok.json['access']).json['last_login'] == ok.json['user']['last_login']


def test_login_answers_with_the_account_as_it_is_now(api):
    """The login reads a copy of the account kept with the email: changes must reach it."""
    token = api.join()['access']
    assert api.put('/rest-auth/profile', {'nickname': '강두기'}, token=token).status == 200
    from chalicelib.accounts import auth
    auth.set_admin('user@example.com')
    user = login(api).json['user']
    assert (user['nickname'], user['is_admin']) == ('강두기', True)
    assert api.put('/rest-auth/profile', {'password': 'new password 2', 'current_password': PASSWORD},
                   token=token).status == 200
    assert login(api).status == 401
    assert login(api, password='new password 2').json['user']['nickname'] == '강두기'


def test_an_account_from_before_the_login_copy_still_logs_in(api, store):
    """Email items written before they held the login copy: read the account, then fill the copy."""
    user = api.join()['user']
    store.db.users.put_item(Item=dict(keys.email('user@example.com'), user_id=user['id']))
    first = login(api)
    assert first.status == 200 and first.json['user']['nickname'] == '사용자'
    from tools.devkit.dynamo_calls import DynamoCalls
    with DynamoCalls() as calls:
        assert login(api).status == 200
    assert len(calls) <= 3, calls.names  # the copy was filled by the first login
    assert login(api, password='wrong password').status == 401


def test_a_password_changed_during_a_login_fails_that_login(api, store, monkeypatch):
    from chalicelib.accounts import auth
    token = api.join()['access']
    real = auth.check_password

    def change_meanwhile(password, hashed):
        ok = real(password, hashed)
        store.users.update(store.users.id_for_email('user@example.com'), 'user@example.com',
                             {'password_hash': auth.hash_password('another one 3')})
        return ok
    monkeypatch.setattr(auth, 'check_password', change_meanwhile)
    assert login(api).status == 401
    monkeypatch.setattr(auth, 'check_password', real)
    assert login(api, password='another one 3').status == 200
    assert token


def test_profile_password_checks_count_like_logins(api):
    """A stolen access token is no faster an oracle for the password than the login form."""
    token = api.join()['access']
    results = []
    for i in range(3):
        results.append(api.put('/rest-auth/profile', {'password': 'new password 2', 'current_password': f'guess {i}'},
                               token=token).status)
    for i in range(2):
        results.append(api.delete('/rest-auth/profile', {'password': f'guess {i}'}, token=token).status)
    assert results == [400] * 5
    r = api.put('/rest-auth/profile', {'password': 'new password 2', 'current_password': PASSWORD}, token=token)
    assert r.status == 429, r
    assert int(r.headers['retry-after']) > 0 and r.json['Code'] == 'TooManyRequestsError'
    assert api.delete('/rest-auth/profile', {'password': PASSWORD}, token=token).status == 429
    assert login(api).status == 429  # the same count as the login form's
    assert api.get('/rest-auth/profile', token=token).status == 200  # nothing changed


def test_a_right_profile_password_gives_its_count_back(api):
    token = api.join()['access']
    for _ in range(4):
        assert login(api, password='wrong password').status == 401
    r = api.put('/rest-auth/profile', {'password': 'new password 2', 'current_password': PASSWORD}, token=token)
    assert r.status == 200, r
    for _ in range(4):
        assert login(api, password='wrong password').status == 401
    assert login(api, password='new password 2').status == 200


# -- tokens -----------------------------------------------------------------------------------
def test_bearer_scheme_is_case_insensitive(api):
    token = api.join()['access']
    r = api.get('/rest-auth/profile', headers={'Authorization': 'bearer ' + token})
    assert r.status == 200, r


def _forge(payload, secret, alg='HS256'):
    return jwt.encode(payload, secret, algorithm=alg)


def test_bad_tokens_get_401_with_json_and_cors(api):
    import os
    joined = api.join()
    good = claims(joined['access'])
    secret = os.environ['JWT_SECRET']
    expired = _forge(dict(good, exp=int(time.time()) - 10), secret)
    head, body, sig = joined['access'].split('.')
    tampered_body = base64.urlsafe_b64encode(json.dumps(dict(good, sub='someone-else')).encode()).decode().rstrip('=')
    tampered = '.'.join([head, tampered_body, sig])
    other_alg = _forge(good, secret, 'HS512')
    unsigned = jwt.encode(good, None, algorithm='none')
    wrong_secret = _forge(good, 'another-secret-that-is-long-enough-32b')
    cases = {
        'missing': {},
        'no scheme': {'Authorization': joined['access']},
        'basic scheme': {'Authorization': 'Basic ' + joined['access']},
        'garbage': {'Authorization': 'Bearer not.a.jwt'},
        'expired': {'Authorization': 'Bearer ' + expired},
        'tampered': {'Authorization': 'Bearer ' + tampered},
        'HS512': {'Authorization': 'Bearer ' + other_alg},
        'alg none': {'Authorization': 'Bearer ' + unsigned},
        'wrong secret': {'Authorization': 'Bearer ' + wrong_secret},
        'refresh as access': {'Authorization': 'Bearer ' + joined['refresh']},
    }
    for name, headers in cases.items():
        r = api.get('/chat/model', headers=dict(headers, Origin='http://localhost:8080'))
        assert r.status == 401, (name, r)
        assert r.json['Code'] == 'UnauthorizedError', (name, r)
        assert r.headers.get('access-control-allow-origin') == 'http://localhost:8080', name


def test_refresh_rotates_and_the_old_refresh_token_dies(api, configure):
    configure(REFRESH_REUSE_GRACE_SECONDS=1)
    joined = api.join()
    r = api.post('/rest-auth/token/refresh/', {'refresh': joined['refresh']})
    assert r.status == 200, r
    assert set(r.json) == {'access', 'refresh'} and r.json['refresh'] != joined['refresh']
    assert api.get('/rest-auth/profile', token=r.json['access']).status == 200
    time.sleep(2.1)  # past the grace window (whole seconds)
    again = api.post('/rest-auth/token/refresh', {'refresh': joined['refresh']})
    assert again.status == 401, again
    # Reuse of a rotated refresh token ends that whole session.
    assert api.get('/rest-auth/profile', token=r.json['access']).status == 401
    assert api.post('/rest-auth/token/refresh', {'refresh': r.json['refresh']}).status == 401


def test_parallel_refreshes_of_one_token_all_get_the_same_successor(api):
    """Two tabs (here five) refreshing at once: nobody is logged out, everyone holds one pair."""
    joined = api.join()
    results = api.at_once([('POST', '/rest-auth/token/refresh', {'refresh': joined['refresh']}, None)] * 5)
    assert [r.status for r in results] == [200] * 5, results
    assert len({r.json['refresh'] for r in results}) == 1 and len({r.json['access'] for r in results}) == 1
    pair = results[0].json
    assert pair['refresh'] != joined['refresh']
    assert api.get('/rest-auth/profile', token=pair['access']).status == 200
    # and the successor rotates on as usual
    nxt = api.post('/rest-auth/token/refresh', {'refresh': pair['refresh']})
    assert nxt.status == 200 and api.get('/rest-auth/profile', token=nxt.json['access']).status == 200


def test_a_token_reused_after_its_successor_rotated_ends_the_session(api):
    """The grace is for one rotation ago only: an older token is theft even within the window."""
    joined = api.join()
    first = api.post('/rest-auth/token/refresh', {'refresh': joined['refresh']}).json
    second = api.post('/rest-auth/token/refresh', {'refresh': first['refresh']}).json
    assert api.post('/rest-auth/token/refresh', {'refresh': joined['refresh']}).status == 401
    assert api.get('/rest-auth/profile', token=second['access']).status == 401


def test_reuse_after_the_grace_window_ends_the_session(api, configure):
    configure(REFRESH_REUSE_GRACE_SECONDS=1)
    joined = api.join()
    pair = api.post('/rest-auth/token/refresh', {'refresh': joined['refresh']}).json
    assert api.post('/rest-auth/token/refresh', {'refresh': joined['refresh']}).json == pair  # within it
    time.sleep(2.1)
    assert api.post('/rest-auth/token/refresh', {'refresh': joined['refresh']}).status == 401
    assert api.get('/rest-auth/profile', token=pair['access']).status == 401
    assert api.post('/rest-auth/token/refresh', {'refresh': pair['refresh']}).status == 401


def test_token_answers_are_never_cached_and_no_answer_is_sniffed(api):
    joined = api.post('/rest-auth/join', {'email': 'user@example.com', 'nickname': 'n', 'password': PASSWORD})
    logged = login(api)
    refreshed = api.post('/rest-auth/token/refresh', {'refresh': logged.json['refresh']})
    for r in (joined, logged, refreshed):
        assert r.status in (200, 201) and r.headers['cache-control'] == 'no-store', r
    others = [api.get('/health'), api.get('/rest-auth/profile', token=logged.json['access']),
              api.get('/no/such/route'), api.get('/chat/model'), login(api, password='wrong password'),
              api.request('OPTIONS', '/chat/api', headers={'Origin': 'http://localhost:8080',
                                                           'Access-Control-Request-Method': 'POST'})]
    for r in [joined, logged, refreshed] + others:
        assert r.headers.get('x-content-type-options') == 'nosniff', r


@pytest.mark.parametrize('body, status', [({}, 400), ({'refresh': 42}, 400), ({'refresh': 'garbage'}, 401)])
def test_refresh_rejects_bad_input(api, body, status):
    r = api.post('/rest-auth/token/refresh', body)
    assert r.status == status, r
    assert r.json['Code'] == {400: 'BadRequestError', 401: 'UnauthorizedError'}[status]


def test_access_token_cannot_refresh(api):
    joined = api.join()
    assert api.post('/rest-auth/token/refresh', {'refresh': joined['access']}).status == 401


@pytest.mark.parametrize('method', ['POST', 'GET'])
def test_logout_revokes_access_and_refresh_at_once(api, method):
    joined = api.join()
    other = login(api).json  # a second session of the same user stays alive
    r = api.request(method, '/rest-auth/logout/', token=joined['access'])
    assert r.status in (200, 204), r
    assert api.get('/rest-auth/profile', token=joined['access']).status == 401
    assert api.post('/rest-auth/token/refresh', {'refresh': joined['refresh']}).status == 401
    assert api.get('/rest-auth/profile', token=other['access']).status == 200


# -- profile ----------------------------------------------------------------------------------
def test_profile_never_shows_the_hash(api):
    token = api.join()['access']
    r = api.get('/rest-auth/profile/', token=token)
    assert r.status == 200
    assert set(r.json) >= {'id', 'email', 'nickname', 'created_at', 'last_login', 'is_admin'}
    assert 'password_hash' not in r.json and '$2b$' not in r.raw.decode()


def test_profile_update_nickname_and_password(api):
    token = api.join()['access']
    elsewhere = login(api).json  # another device
    r = api.put('/rest-auth/profile', {'nickname': '이세영'}, token=token)
    assert r.status == 200 and r.json['nickname'] == '이세영'
    r = api.put('/rest-auth/profile', {'password': 'new password 2'}, token=token)
    assert r.status == 400 and 'current_password' in r.json['Fields']
    r = api.put('/rest-auth/profile', {'password': 'new password 2', 'current_password': 'wrong one!'}, token=token)
    assert r.status == 400 and 'current_password' in r.json['Fields']
    assert login(api, password='new password 2').status == 401
    assert api.get('/rest-auth/profile', token=elsewhere['access']).status == 200
    r = api.put('/rest-auth/profile', {'password': 'new password 2', 'current_password': PASSWORD}, token=token)
    assert r.status == 200, r
    assert login(api, password='new password 2').status == 200
    # A password change ends the other sessions, and keeps the one that made it.
    assert api.get('/rest-auth/profile', token=elsewhere['access']).status == 401
    assert api.post('/rest-auth/token/refresh', {'refresh': elsewhere['refresh']}).status == 401
    assert api.get('/rest-auth/profile', token=token).status == 200


@pytest.mark.parametrize('body', [{}, {'nickname': ''}, {'nickname': 'x' * 31}, {'nickname': 5},
                                  {'password': 'short', 'current_password': PASSWORD}])
def test_profile_update_rejects_bad_input(api, body):
    token = api.join()['access']
    r = api.put('/rest-auth/profile', body, token=token)
    assert r.status == 400, r
    assert api.get('/rest-auth/profile', token=token).json['nickname'] == '사용자'


def test_delete_account_needs_password_then_removes_everything(api, store):
    joined = api.join()
    token = joined['access']
    api.post('/chat/model', {'content': '안녕', 'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}},
             token=token)
    r = api.delete('/rest-auth/profile', {'password': 'wrong password'}, token=token)
    assert r.status == 400, r
    assert api.get('/rest-auth/profile', token=token).status == 200
    r = api.delete('/rest-auth/profile/', {'password': PASSWORD}, token=token)
    assert r.status == 204, r
    assert api.get('/rest-auth/profile', token=token).status == 401
    assert api.post('/rest-auth/token/refresh', {'refresh': joined['refresh']}).status == 401
    assert login(api).status == 401
    assert len(store.chats.of(joined['user']['id']).page(50)) == 1  # the purge removes it, not the request
    assert purge.sweep(settle=0) == 1
    assert store.chats.of(joined['user']['id']).page(50) == []
    again = {'email': 'user@example.com', 'nickname': 'again', 'password': PASSWORD}
    assert api.post('/rest-auth/join', again).status == 201


def test_unknown_route_is_a_json_404(api):
    r = api.get('/no/such/route', headers={'Origin': 'http://localhost:8080'})
    assert r.status == 404, r
    assert r.json['Code'] == 'NotFoundError'
    assert r.headers.get('access-control-allow-origin') == 'http://localhost:8080'


def test_health_names_store_and_model(api):
    r = api.get('/health/')
    assert r.status == 200
    assert r.json['status'] == 'ok' and r.json['store']['dynamodb'] == 'ok'
    assert r.json['model']['answerer'] == 'local'
