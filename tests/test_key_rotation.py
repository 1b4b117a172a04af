"""Rotating the JWT secret logs nobody out: tokens name their key (`kid`), the current secret
signs, the current and the previous verify; anything else is a 401, never a 500. Through the
real HTTP server, plus the secret store (Secrets Manager's AWSCURRENT/AWSPREVIOUS, faked) and
the rotation command."""
import base64
import hashlib
import hmac
import json
import os
import secrets
import time

import pytest

from chalicelib.core.keys import key_id

ORIGIN = 'http://localhost:8080'


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip('=')


def part(token: str, i: int) -> dict:
    seg = token.split('.')[i]
    return json.loads(base64.urlsafe_b64decode(seg + '=' * (-len(seg) % 4)))


def sign(header: dict, claims: dict, secret: str) -> str:
    """An HS256 JWT built by hand, so any header (a kid of any type, or none) can be tried."""
    head = b64(json.dumps(header).encode()) + '.' + b64(json.dumps(claims).encode())
    return head + '.' + b64(hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest())


def resign(token: str, secret: str, kid='same', **changes) -> str:
    """The token's claims (changed as asked), signed with `secret` under another kid (None: no kid)."""
    header = {'alg': 'HS256', 'typ': 'JWT'}
    if kid == 'same':
        kid = key_id(secret)
    if kid is not None:
        header['kid'] = kid
    return sign(header, dict(part(token, 1), **changes), secret)


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def assert_401(r):
    assert r.status == 401, r
    assert r.json['Code'] == 'UnauthorizedError', r
    assert r.headers.get('access-control-allow-origin') == ORIGIN, r


def profile(api, token):
    return api.get('/rest-auth/profile', token=token, headers={'Origin': ORIGIN})


def refresh(api, token):
    return api.post('/rest-auth/token/refresh', {'refresh': token}, headers={'Origin': ORIGIN})


@pytest.fixture
def rotate(configure):
    """rotate(): what a rotation does, as the app sees it: a new current secret, the old one previous."""
    state = {'current': configure(JWT_SECRET=new_secret(), JWT_SECRET_PREVIOUS='none').jwt_secret}

    def apply(drop_previous: bool = False) -> str:
        old, state['current'] = state['current'], new_secret()
        cfg = configure(JWT_SECRET=state['current'], JWT_SECRET_PREVIOUS='none' if drop_previous else old)
        assert cfg.jwt_previous_secret == (None if drop_previous else old)
        return state['current']
    apply.current = lambda: state['current']
    return apply


# -- key ids ------------------------------------------------------------------------------------
def test_tokens_name_their_key_by_a_hash_that_does_not_reveal_it(api, rotate):
    first = rotate.current()
    joined = api.join()
    for token in (joined['access'], joined['refresh']):
        header = part(token, 0)
        assert header == {'alg': 'HS256', 'typ': 'JWT', 'kid': key_id(first)}
    kid = key_id(first)
    assert len(kid) == 16 and int(kid, 16) >= 0 and kid not in first and first not in json.dumps(header)
    assert kid != hashlib.sha256(first.encode()).hexdigest()[:16]  # a labelled hash, not the bare one
    assert key_id(first) == kid and key_id(new_secret()) != kid  # stable across restarts, one per secret


# -- a rotation ---------------------------------------------------------------------------------
def test_a_session_opened_before_a_rotation_keeps_working_until_its_tokens_expire(api, rotate):
    first = rotate.current()
    before = api.join()
    second = rotate()
    # the access token signed with the old (now previous) secret still opens the door...
    assert profile(api, before['access']).status == 200
    # ...and its refresh token still refreshes: the new pair is signed with the new secret only
    r = refresh(api, before['refresh'])
    assert r.status == 200, r
    assert {part(t, 0)['kid'] for t in r.json.values()} == {key_id(second)}
    assert profile(api, r.json['access']).status == 200
    assert part(api.join(email='new@example.com')['access'], 0)['kid'] == key_id(second)
    # "until they expire": the old secret's tokens are held to their exp as ever
    expired = resign(before['access'], first, exp=int(time.time()) - 5)
    assert_401(profile(api, expired))

    third = rotate()  # the next rotation: the first secret verifies nothing any more
    assert_401(profile(api, before['access']))
    assert_401(profile(api, resign(before['access'], first)))
    assert profile(api, r.json['access']).status == 200  # signed with the second: now the previous
    again = refresh(api, r.json['refresh'])
    assert again.status == 200 and part(again.json['access'], 0)['kid'] == key_id(third)


def test_a_refresh_token_from_before_refreshes_across_a_rotation(api, rotate):
    """A session idle over the rotation (only its refresh token still valid) goes on."""
    before = api.join()
    rotate()
    r = refresh(api, before['refresh'])
    assert r.status == 200, r
    assert profile(api, r.json['access']).status == 200
    assert refresh(api, r.json['refresh']).status == 200


def test_two_tabs_refreshing_one_token_across_a_rotation_still_get_one_successor(api, rotate):
    """The successor's ids are derived with the key that verified the refresh token, so a second
    tab's refresh (within the grace window) that lands after a rotation names the same successor."""
    before = api.join()
    first_tab = refresh(api, before['refresh'])
    rotate()
    second_tab = refresh(api, before['refresh'])
    assert second_tab.status == 200, second_tab
    assert part(second_tab.json['refresh'], 1)['jti'] == part(first_tab.json['refresh'], 1)['jti']
    assert refresh(api, second_tab.json['refresh']).status == 200  # the session's own successor


def test_dropping_the_previous_secret_logs_everyone_out(api, rotate):
    before = api.join()
    rotate(drop_previous=True)  # after a leak
    assert_401(profile(api, before['access']))
    assert_401(refresh(api, before['refresh']))


# -- what never verifies ------------------------------------------------------------------------
def test_a_token_signed_with_neither_current_nor_previous_is_401(api, rotate):
    joined = api.join()
    rotate()
    stranger = new_secret()
    for kid in ('same', key_id(rotate.current()), None):  # its own kid, the current one's, none
        assert_401(profile(api, resign(joined['access'], stranger, kid=kid)))
        assert_401(refresh(api, resign(joined['refresh'], stranger, kid=kid)))
    # a key's id with another key's signature: the id picks the secret, the signature must match it
    previous_kid = part(joined['access'], 0)['kid']
    assert_401(profile(api, resign(joined['access'], rotate.current(), kid=previous_kid)))
    assert profile(api, joined['access']).status == 200


@pytest.mark.parametrize('kid', ['0123456789abcdef', '', 'x' * 1500, '../../etc/passwd', '한글', 123, 1.5, True,
                                 ['k'], {'k': 'v'}], ids=lambda kid: repr(kid)[:20])
def test_an_unknown_or_malformed_kid_is_401_never_500(api, rotate, kid):
    joined = api.join()
    secret = rotate.current()
    assert_401(profile(api, resign(joined['access'], secret, kid=kid)))
    assert_401(refresh(api, resign(joined['refresh'], secret, kid=kid)))
    assert profile(api, joined['access']).status == 200  # the session itself is untouched


def test_a_token_without_kid_from_before_key_ids_verifies_against_current_and_previous(api, rotate):
    """Issued before this change: no kid. Tried against both secrets, so the deploy logged
    nobody out; after the next rotation its secret is gone and so is the token."""
    first = rotate.current()
    joined = api.join()
    old_access, old_refresh = (resign(joined[k], first, kid=None) for k in ('access', 'refresh'))
    assert 'kid' not in part(old_access, 0)
    assert profile(api, old_access).status == 200
    rotate()
    assert profile(api, old_access).status == 200
    r = refresh(api, old_refresh)
    assert r.status == 200 and part(r.json['access'], 0)['kid'] == key_id(rotate.current())
    rotate()
    assert_401(profile(api, old_access))


# -- deployed: Secrets Manager's staging labels ---------------------------------------------------
class FakeSecretsManager:
    """get_secret_value of one secret by staging label; `fail` makes every call raise."""

    def __init__(self, secret_id):
        self.secret_id, self.versions, self.calls, self.fail = secret_id, {}, [], None

    def get_secret_value(self, SecretId, VersionStage='AWSCURRENT'):
        from botocore.exceptions import ClientError
        assert SecretId == self.secret_id
        self.calls.append(VersionStage)
        if self.fail:
            raise self.fail
        if VersionStage not in self.versions:
            raise ClientError({'Error': {'Code': 'ResourceNotFoundException', 'Message': 'no such label'}},
                              'GetSecretValue')
        return {'SecretString': self.versions[VersionStage]}

    def put(self, value):
        """What `aws secretsmanager put-secret-value` does to the labels."""
        if 'AWSCURRENT' in self.versions:
            self.versions['AWSPREVIOUS'] = self.versions['AWSCURRENT']
        self.versions['AWSCURRENT'] = value


@pytest.fixture
def secrets_manager(dynamodb):
    """The app reading its JWT secrets from (fake) Secrets Manager, as deployed; put back after."""
    import boto3

    from chalicelib.core import settings
    fake = FakeSecretsManager('stove-league/test/jwt-secret')
    fake.put(new_secret())
    saved = {k: os.environ.get(k) for k in ('JWT_SECRET', 'JWT_SECRET_PREVIOUS', 'JWT_SECRET_SECRET_ID')}
    real_client = boto3.client
    boto3.client = lambda service, *a, **kw: fake if service == 'secretsmanager' else real_client(service, *a, **kw)
    os.environ.pop('JWT_SECRET', None)
    os.environ.pop('JWT_SECRET_PREVIOUS', None)
    os.environ['JWT_SECRET_SECRET_ID'] = fake.secret_id
    settings._last_reread[0] = float('-inf')
    try:
        settings.reload()
        yield fake
    finally:
        boto3.client = real_client
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        settings._last_reread[0] = float('-inf')
        settings.reload()


def test_deployed_the_current_signs_and_awsprevious_verifies(secrets_manager):
    from chalicelib.core import settings
    first = secrets_manager.versions['AWSCURRENT']
    cfg = settings.reload()
    assert (cfg.jwt_secret, cfg.jwt_previous_secret) == (first, None)  # never rotated: no AWSPREVIOUS
    secrets_manager.put(second := new_secret())
    cfg = settings.reload()  # a new container
    assert (cfg.jwt_secret, cfg.jwt_previous_secret) == (second, first)
    assert secrets_manager.calls[-2:] == ['AWSCURRENT', 'AWSPREVIOUS']


def test_deployed_a_container_meeting_a_newer_key_reads_the_secret_again_once_a_minute(api, secrets_manager):
    """A warm container read the secret before the rotation; a fresh one signs with the new one.
    Meeting its kid, the warm one reads the store again (not more than once a minute)."""
    from chalicelib.core import settings
    first = settings.get().jwt_secret
    joined = api.join()
    secrets_manager.put(second := new_secret())  # the rotation; this container has not noticed
    from_fresh_container = resign(joined['access'], second)
    calls = len(secrets_manager.calls)
    assert profile(api, from_fresh_container).status == 200
    assert secrets_manager.calls[calls:] == ['AWSCURRENT', 'AWSPREVIOUS']
    cfg = settings.get()
    assert (cfg.jwt_secret, cfg.jwt_previous_secret) == (second, first)  # signs with the new one from now on
    assert profile(api, joined['access']).status == 200  # and the old one still verifies

    calls = len(secrets_manager.calls)
    for _ in range(5):  # made-up key ids: refused without asking the store again within the minute
        assert_401(profile(api, resign(joined['access'], new_secret())))
    assert secrets_manager.calls[calls:] == []


def test_deployed_a_failing_store_on_reread_is_401_not_500_and_says_so(api, secrets_manager, capsys):
    joined = api.join()
    secrets_manager.fail = ConnectionError('store unreachable')
    capsys.readouterr()
    assert_401(profile(api, resign(joined['access'], new_secret())))
    assert secrets_manager.calls[-1] == 'AWSCURRENT'
    # the authorizer runs outside the request's line: a WARN line of its own
    warned = [json.loads(line) for line in capsys.readouterr().out.splitlines() if 'jwt_keys_reread' in line]
    assert warned == [{'level': 'WARN', 'message': 'could not read the JWT secret again',
                       'jwt_keys_reread_error': 'ConnectionError'}]
    assert profile(api, joined['access']).status == 200


# -- the rotation command -----------------------------------------------------------------------


def test_the_local_rotation_end_to_end(api, tmp_path, monkeypatch, configure):
    """The files the command writes are what `make run` gives the API: a session survives."""
    from tools import localenv
    monkeypatch.setattr(localenv, 'DATA_DIR', str(tmp_path))
    configure(JWT_SECRET=localenv.jwt_secret(), JWT_SECRET_PREVIOUS='none')
    joined = api.join()
    new, previous = localenv.rotate_jwt_secret()
    assert (new, previous) == (localenv.jwt_secret(), localenv.previous_jwt_secret())
    configure(JWT_SECRET=new, JWT_SECRET_PREVIOUS=previous)  # `make run` restarted
    assert profile(api, joined['access']).status == 200
    assert refresh(api, joined['refresh']).status == 200
