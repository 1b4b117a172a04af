"""Shared fixtures: one real DynamoDB Local (in memory) and one real API server per session;
every test gets clean tables. tests/unit/ may use none of those (its conftest.py refuses them)."""
import json
import os
import secrets
import threading

import pytest

from tools import dynamodb_local
from tools.devkit.fake_openai import FakeOpenAI
from tools.devkit.http import Api

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FRONTEND_ORIGIN = 'http://localhost:8080'


@pytest.fixture(scope='session')
def test_env():
    """The settings every test runs with, DynamoDB or not (tests/unit runs with these alone): no real
    secret store, cheap bcrypt, and AWS calls aimed at a closed port on loopback until `dynamodb` starts one."""
    os.environ.update(dynamodb_local.local_aws_env(dynamodb_local.free_port()))
    os.environ.update({'JWT_SECRET': secrets.token_urlsafe(48), 'BCRYPT_ROUNDS': '4', 'STAGE': 'local',
                       'LOGIN_WINDOW_SECONDS': str(30 * 24 * 3600),  # no test straddles a window's end
                       # DynamoDB Local on a busy machine can pause for seconds; fault tests set their own
                       'DYNAMODB_READ_TIMEOUT': '10',
                       'CORS_ORIGINS': FRONTEND_ORIGIN + ',http://127.0.0.1:8080'})
    for name in ('OPENAI_API_KEY', 'OPENAI_BASE_URL', 'JWT_SECRET_PARAM', 'OPENAI_API_KEY_PARAM', 'JWT_SECRET_PREVIOUS',
                 'JWT_SECRET_SECRET_ID', 'OPENAI_API_KEY_SECRET_ID'):  # never reach a real secret store
        os.environ.pop(name, None)
    from chalicelib.core import settings
    settings.reload()


@pytest.fixture(scope='session')
def dynamodb(test_env):
    port = dynamodb_local.free_port()
    proc = dynamodb_local.start(port)
    os.environ.update(dynamodb_local.local_aws_env(port))
    from chalicelib.core import settings
    settings.reload()
    yield port
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def store(dynamodb):
    from chalicelib import storage
    from chalicelib.chat import corpus
    from chalicelib.core import settings
    settings.reload()
    st = storage.store()
    st.tables.drop()
    st.tables.create()
    corpus.forget_cache()
    return st


@pytest.fixture(scope='session')
def server(dynamodb):
    from tools.local_api import make_server
    port = dynamodb_local.free_port()
    srv = make_server('127.0.0.1', port, quiet=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{port}'
    srv.shutdown()


@pytest.fixture
def configure(test_env):
    """configure(NAME=value, …): settings for this test only (the in-process server reads them at once)."""
    from chalicelib.core import settings
    saved = {}

    def apply(**env):
        for name, value in env.items():
            saved.setdefault(name, os.environ.get(name))
            os.environ[name] = str(value)
        return settings.reload()
    yield apply
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    settings.reload()


@pytest.fixture
def api(server, store):
    return Api(server)


@pytest.fixture
def demo(store):
    from chalicelib.chat import corpus
    corpus.load_shipped()
    return corpus.current()


@pytest.fixture
def fake_openai(store, configure):
    """A fake OpenAI-compatible server on loopback, and the app configured to use it (until
    `configure` puts the settings back)."""
    from chalicelib.chat import model
    fake = FakeOpenAI()
    configure(OPENAI_API_KEY='sk-test', OPENAI_BASE_URL=fake.url, OPENAI_MODEL='fake-model', OPENAI_TIMEOUT='1',
              OPENAI_MAX_RETRIES='0')
    model._client.cache_clear()
    yield fake
    fake.close()
    model._client.cache_clear()


def pytest_collection_modifyitems(items):
    """`packaging`: the tests that build the Lambda zip and template (slow), whichever file they are in."""
    for item in items:
        if 'package_dir' in getattr(item, 'fixturenames', ()):
            item.add_marker(pytest.mark.packaging)


# -- the prod stage's configuration and IAM policy, for the deploy checks (unit and packaging) -----
@pytest.fixture(scope='session')
def prod_env():
    with open(os.path.join(ROOT, '.chalice', 'config.json'), encoding='utf-8') as f:
        return json.load(f)['stages']['prod']['environment_variables']


@pytest.fixture(scope='session')
def policy():
    with open(os.path.join(ROOT, '.chalice', 'policy-prod.json'), encoding='utf-8') as f:
        return json.load(f)
