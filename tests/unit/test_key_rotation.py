"""The rotation command (`make rotate-jwt-secret`), locally and deployed (Secrets Manager faked);
what a rotation does to tokens, through the real server: tests/test_key_rotation.py."""
import os
import secrets

import pytest

from chalicelib.core.keys import key_id


def new_secret() -> str:
    return secrets.token_urlsafe(48)


# -- the rotation command -----------------------------------------------------------------------
@pytest.fixture
def local_data(tmp_path, monkeypatch):
    from tools import localenv
    monkeypatch.setattr(localenv, 'DATA_DIR', str(tmp_path))
    for name in ('JWT_SECRET', 'JWT_SECRET_PREVIOUS', 'JWT_SECRET_SECRET_ID'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('STAGE', 'local')
    return tmp_path


def test_the_local_rotation_command_keeps_the_old_secret_as_previous(local_data, capsys):
    from tools import cli, localenv
    first = localenv.environment()['JWT_SECRET']
    assert 'JWT_SECRET_PREVIOUS' not in localenv.environment()
    assert cli.main(['rotate-jwt-secret']) == 0
    env = localenv.environment()
    assert env['JWT_SECRET_PREVIOUS'] == first and env['JWT_SECRET'] != first and len(env['JWT_SECRET']) >= 32
    out = capsys.readouterr().out
    assert key_id(env['JWT_SECRET']) in out and key_id(first) in out and first not in out
    assert oct(os.stat(local_data / 'jwt-secret').st_mode & 0o777) == '0o600'
    assert oct(os.stat(local_data / 'jwt-secret-previous').st_mode & 0o777) == '0o600'

    second = env['JWT_SECRET']
    assert cli.main(['rotate-jwt-secret']) == 0
    env = localenv.environment()
    assert env['JWT_SECRET_PREVIOUS'] == second and first not in env.values()
    assert cli.main(['rotate-jwt-secret', '--drop-previous']) == 0
    assert 'JWT_SECRET_PREVIOUS' not in localenv.environment()
    assert not (local_data / 'jwt-secret-previous').exists()


def test_the_rotation_command_refuses_a_secret_it_does_not_own(local_data, monkeypatch, capsys):
    from tools import cli
    monkeypatch.setenv('JWT_SECRET', new_secret())
    assert cli.main(['rotate-jwt-secret']) == 2
    assert 'JWT_SECRET_PREVIOUS' in capsys.readouterr().err
    assert not (local_data / 'jwt-secret').exists()


@pytest.mark.parametrize('drop_previous', [False, True])
def test_the_rotation_command_deployed_puts_a_new_version(monkeypatch, capsys, drop_previous):
    import boto3

    from tools import cli
    puts = []

    class FakeStore:
        def get_random_password(self, PasswordLength, ExcludePunctuation):
            assert ExcludePunctuation
            return {'RandomPassword': secrets.token_hex(PasswordLength // 2)}

        def put_secret_value(self, SecretId, SecretString):
            puts.append((SecretId, SecretString))

    monkeypatch.setattr(boto3, 'client', lambda service, **_: {'secretsmanager': FakeStore()}[service])
    monkeypatch.setenv('STAGE', 'prod')
    monkeypatch.setenv('JWT_SECRET_SECRET_ID', 'stove-league/prod/jwt-secret')
    assert cli.main(['rotate-jwt-secret'] + (['--drop-previous'] if drop_previous else [])) == 0
    assert len(puts) == (2 if drop_previous else 1)  # twice: the old value keeps no label at all
    assert all(sid == 'stove-league/prod/jwt-secret' and len(value) == 64 for sid, value in puts)
    out = capsys.readouterr().out
    assert key_id(puts[-1][1]) in out and puts[-1][1] not in out
