"""Every request answers within its budget, with the right status, whatever the dependencies do:
a hung or slow DynamoDB, a model that rate-limits, is unavailable, or dribbles its answer.
Budgets and timeouts are made small here, so each fault costs seconds."""
import json
import time

import pytest

from chalicelib import storage
from tests.faults import HungServer, SlowProxy
from tools.devkit.fake_openai import candidates_of, completion

EXCHANGE = {'content': '첫 대화', 'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}}


def timed(fn, *args, **kwargs):
    started = time.monotonic()
    result = fn(*args, **kwargs)
    return result, time.monotonic() - started


def assert_unavailable(r, code='ServiceUnavailableError'):
    assert r.status == 503, r
    assert int(r.headers['retry-after']) >= 1, r.headers
    if code:
        assert r.json['Code'] == code, r


@pytest.fixture
def table_at(monkeypatch, configure):
    """table_at(url, **settings): every request's storage talks to `url` from now on."""
    def switch(url, **settings):
        cfg = configure(**settings)
        with monkeypatch.context() as m:
            m.setenv('AWS_ENDPOINT_URL_DYNAMODB', url)
            other = storage.Store(cfg)
        monkeypatch.setattr(storage, 'store', lambda: other)
        return other
    return switch


@pytest.fixture
def hung():
    server = HungServer()
    yield server
    server.close()


def test_a_hung_table_is_a_503_with_retry_after_within_seconds(api, demo, table_at, hung, monkeypatch):
    joined = api.join()
    token = joined['access']
    assert api.post('/chat/model', EXCHANGE, token=token).status == 201
    table_at(hung.url, DYNAMODB_CONNECT_TIMEOUT=0.3, DYNAMODB_READ_TIMEOUT=0.3, DYNAMODB_MAX_ATTEMPTS=2)
    requests = [
        ('POST', '/rest-auth/login', {'email': 'user@example.com', 'password': 'correct horse 1'}, None),
        ('POST', '/rest-auth/join', {'email': 'new@example.com', 'nickname': 'n', 'password': 'correct horse 1'}, None),
        ('POST', '/rest-auth/token/refresh', {'refresh': joined['refresh']}, None),
        ('GET', '/chat/model', None, token),  # the authorizer cannot check the session
        ('POST', '/chat/api', {'input': '안녕'}, token),
        ('GET', '/quote', None, token),
        ('DELETE', '/chat/model', None, token),
    ]
    for method, path, body, tok in requests:
        r, took = timed(api.request, method, path, body, token=tok)
        assert_unavailable(r)
        assert took < 3, (path, took)
    health, took = timed(api.get, '/health')
    assert_unavailable(health, code=None)
    assert health.json['store']['dynamodb'] == 'down' and took < 3
    monkeypatch.undo()  # the table answers again: nothing was lost or half-done
    listed = api.get('/chat/model', token=token).json
    assert listed['count'] == 1 and listed['results'][0]['content'] == '첫 대화'
    assert api.post('/rest-auth/login', {'email': 'user@example.com', 'password': 'correct horse 1'}).status == 200


def test_the_request_budget_bounds_a_slow_table(api, dynamodb, table_at):
    """Each call answers (0.6 s late), but the third would start past the 1 s budget: 503, in time."""
    token = api.join()['access']
    for i in range(2):
        assert api.post('/quote', {'title': f't{i}', 'content': 'c', 'description': 'd'}, token=token).status == 201
    proxy = SlowProxy(dynamodb, delay=0.6)
    try:
        table_at(proxy.url, REQUEST_BUDGET_SECONDS=1, DYNAMODB_READ_TIMEOUT=3)
        r, took = timed(api.get, '/quote', token=token)  # the authorizer's GetItem, a Query, a BatchGetItem
    finally:
        proxy.close()
    assert_unavailable(r)
    assert took < 1 + 1.2, took  # the budget, plus at most the one call under way when it ran out


def test_the_authorizer_never_raises(api, monkeypatch):
    token = api.join()['access']

    def broken(*args, **kwargs):
        raise RuntimeError('something nobody expected')
    monkeypatch.setattr(type(storage.store().sessions), 'get', broken)
    r = api.get('/chat/model', token=token)
    assert_unavailable(r)


def test_an_unexpected_dynamodb_error_code_is_a_503(api, monkeypatch):
    from botocore.exceptions import ClientError
    token = api.join()['access']
    client = storage.store().db.client

    def failing(**kwargs):
        raise ClientError({'Error': {'Code': 'InternalServerError', 'Message': 'oops'}}, 'Query')
    client.meta.events.register('before-call.dynamodb.Query', failing)
    try:
        r = api.get('/chat/model', token=token)
    finally:
        client.meta.events.unregister('before-call.dynamodb.Query', failing)
    assert_unavailable(r)


# -- the model ---------------------------------------------------------------------------------
@pytest.fixture
def token(api):
    return api.join()['access']


def saved_nothing(api, token):
    return api.get('/chat/model', token=token).json['count'] == 0


def test_a_rate_limit_asking_for_60_s_is_answered_at_once(api, demo, token, fake_openai, configure):
    configure(OPENAI_MAX_RETRIES=1)
    fake_openai.behaviour = lambda req: (429, {'error': {'message': 'slow down', 'type': 'rate_limit'}}, 0,
                                         {'headers': {'Retry-After': '60'}})
    r, took = timed(api.post, '/chat/api', {'input': '시험에 떨어졌어요'}, token=token)
    assert_unavailable(r)
    assert int(r.headers['retry-after']) >= 60 and took < 3, took
    assert len(fake_openai.requests) == 1  # no retry: its wait would overrun the budget
    assert saved_nothing(api, token)


def test_a_model_unavailable_for_45_s_is_a_503_at_once(api, demo, token, fake_openai, configure):
    configure(OPENAI_MAX_RETRIES=2)
    fake_openai.behaviour = lambda req: (503, {'error': {'message': 'overloaded', 'type': 'server_error'}}, 0,
                                         {'headers': {'Retry-After': '45'}})
    r, took = timed(api.post, '/chat/api', {'input': '시험에 떨어졌어요'}, token=token)
    assert_unavailable(r)
    assert int(r.headers['retry-after']) == 45 and took < 3, took
    assert saved_nothing(api, token)


def test_a_short_retry_after_is_waited_out_within_the_budget(api, demo, token, fake_openai, configure):
    configure(OPENAI_MAX_RETRIES=1, REQUEST_BUDGET_SECONDS=10)
    calls = []

    def once_busy(req):
        calls.append(time.monotonic())
        if len(calls) == 1:
            return 429, {'error': {'message': 'slow down', 'type': 'rate_limit'}}, 0, {'headers': {'Retry-After': '1'}}
        c = candidates_of(req)[0]
        return 200, completion(json.dumps({'candidate_id': c['candidate_id'], 'quote': c['quote'],
                                           'description': '설명'}, ensure_ascii=False)), 0
    fake_openai.behaviour = once_busy
    r = api.post('/chat/api', {'input': '시험에 떨어졌어요'}, token=token)
    assert r.status == 200, r
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.9


def dribbled_answer(req):
    c = candidates_of(req)[0]
    body = completion(json.dumps({'candidate_id': c['candidate_id'], 'quote': c['quote'], 'description': '설명'},
                                 ensure_ascii=False))
    return 200, body, 0, {'dribble': 0.1}


def test_a_model_dribbling_bytes_is_cut_at_the_budget(api, demo, token, fake_openai, configure):
    """A byte every 0.1 s never trips a read timeout; the request's budget still holds."""
    configure(REQUEST_BUDGET_SECONDS=3, OPENAI_TIMEOUT=20)
    fake_openai.behaviour = dribbled_answer
    r, took = timed(api.post, '/chat/api', {'input': '시험에 떨어졌어요'}, token=token)
    assert r.status == 504, r
    assert r.json['Code'] == 'GatewayTimeoutError' and int(r.headers['retry-after']) >= 1
    assert took < 3.5, took
    time.sleep(0.5)
    assert saved_nothing(api, token)


def test_a_silent_model_is_cut_at_the_budget_not_its_timeout(api, demo, token, fake_openai, configure):
    configure(REQUEST_BUDGET_SECONDS=3, OPENAI_TIMEOUT=20, OPENAI_MAX_RETRIES=3)
    fake_openai.behaviour = lambda req: (200, completion('{}'), 8)
    r, took = timed(api.post, '/chat/api', {'input': '시험에 떨어졌어요'}, token=token)
    assert r.status == 504, r
    assert took < 3.5, took
    assert saved_nothing(api, token)
