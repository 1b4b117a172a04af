"""What an operator sees: request ids, one JSON log line per request (and nothing secret in it),
CloudWatch metrics in embedded metric format, the traceback of a bug once.

The API server runs in this process (tests/conftest.py), so pytest's capsys sees exactly what
Lambda would send to CloudWatch Logs: the process's stdout.
"""
import json
import os
import re
import subprocess
import sys
from urllib.parse import quote

import pytest

from tests.unit.test_observe import check_emf
from tools import dynamodb_local
from tools.devkit.fake_openai import candidates_of, choose, completion

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
ORIGIN = {'Origin': 'http://localhost:8080'}

# What a user types or holds; none of it may reach a log line.
EMAIL = 'secret.person@example.com'
PASSWORD = 'hunter2-correct-horse'
NEW_PASSWORD = 'battery-staple-9'
NICKNAME = '비밀닉네임'
CHAT_TEXT = '아무에게도 말 못한 고민: 상사가 부당한 일을 자꾸 시켜요'
MODEL_TEXT = '시험에 떨어졌어요 비밀 이야기'
SEARCH = '부당한'

def log_lines(text):
    """The JSON lines of captured output (other output, e.g. pytest's own, is skipped)."""
    lines = []
    for raw in text.splitlines():
        if raw.startswith('{'):
            lines.append(json.loads(raw))
    return lines


def the_line(lines, request_id):
    [line] = [ln for ln in lines if ln.get('request_id') == request_id]
    return line


# -- request ids ----------------------------------------------------------------------------------
def test_every_answer_carries_a_request_id_and_error_bodies_repeat_it(api, capsys):
    token = api.join()['access']
    answers = {
        'ok': api.get('/health', headers=ORIGIN),
        'app error': api.post('/rest-auth/login', {'email': 'x'}, headers=ORIGIN),
        'authorized': api.get('/chat/model', token=token, headers=ORIGIN),
        'gateway 401': api.get('/chat/model', headers=ORIGIN),
        'gateway 404': api.get('/no/such/path', headers=ORIGIN),
        'preflight': api.request('OPTIONS', '/chat/api', headers=dict(ORIGIN, **{
            'Access-Control-Request-Method': 'POST'})),
    }
    ids = {name: r.headers.get('x-request-id') for name, r in answers.items()}
    assert all(rid and UUID.match(rid) for rid in ids.values()), ids
    assert len(set(ids.values())) == len(ids), f'request ids repeat: {ids}'
    for name in ('app error', 'gateway 401', 'gateway 404'):
        assert answers[name].json['RequestId'] == ids[name], name
        assert set(answers[name].json) >= {'Code', 'Message', 'RequestId'}
    assert 'RequestId' not in answers['ok'].json
    # A browser script may read the header (for an error without a JSON body).
    exposed = answers['app error'].headers['access-control-expose-headers'].lower()
    assert 'x-request-id' in exposed and 'retry-after' in exposed
    # An operator finds each of them: one line per request, under the id the user saw.
    lines = log_lines(capsys.readouterr().out)
    for name, rid in ids.items():
        assert len([ln for ln in lines if ln.get('request_id') == rid]) == 1, name
    assert the_line(lines, ids['gateway 404'])['status'] == 404
    preflight = the_line(lines, ids['preflight'])
    assert preflight['route'] == '/chat/api' and preflight['Route'] == 'OPTIONS (preflight)'  # one metric for all
    assert 'Latency' not in the_line(lines, ids['gateway 404'])  # deployed, API Gateway counts its own answers


def _gateway_event(method, path, resource, body=None, request_id='c0ffee00-1111-2222-3333-444455556666'):
    return {'requestContext': {'httpMethod': method, 'resourcePath': resource, 'path': path, 'stage': 'api',
                               'requestId': request_id, 'identity': {'sourceIp': '203.0.113.9'}},
            'headers': {'content-type': 'application/json', 'host': 'abc.execute-api.ap-northeast-2.amazonaws.com'},
            'multiValueQueryStringParameters': None, 'pathParameters': None, 'stageVariables': None,
            'body': body, 'isBase64Encoded': False}


def test_deployed_the_request_id_is_api_gateways(store, capsys, monkeypatch):
    """An API Gateway proxy event, handed to the Lambda handler as Lambda would."""
    import app as handler
    monkeypatch.setenv('_X_AMZN_TRACE_ID', 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1')
    ok = handler.app(_gateway_event('GET', '/health', '/health'), None)
    assert ok['statusCode'] == 200 and ok['headers']['X-Request-Id'] == 'c0ffee00-1111-2222-3333-444455556666'
    bad = handler.app(_gateway_event('POST', '/rest-auth/login', '/rest-auth/login', '{"email": 1}',
                                     request_id='feedbeef-0000-0000-0000-000000000001'), None)
    assert bad['statusCode'] == 400
    request_id = 'feedbeef-0000-0000-0000-000000000001'
    assert json.loads(bad['body'])['RequestId'] == bad['headers']['X-Request-Id'] == request_id
    lines = log_lines(capsys.readouterr().out)
    line = the_line(lines, 'feedbeef-0000-0000-0000-000000000001')
    assert line['status'] == 400 and line['route'] == '/rest-auth/login'
    assert line['xray_trace_id'] == '1-5759e988-bd862e3fe1be46a994272793'  # from the log line to the trace


# -- the log line ---------------------------------------------------------------------------------
def test_account_and_chat_flows_log_one_line_each_with_the_fields_and_no_secrets(api, demo, fake_openai, capsys):
    capsys.readouterr()
    sent = []

    def call(method, path, body=None, token=None):
        r = api.request(method, path, body, token=token, headers=ORIGIN)
        sent.append((method, path, r))
        return r

    joined = call('POST', '/rest-auth/join', {'email': EMAIL, 'nickname': NICKNAME, 'password': PASSWORD})
    assert joined.status == 201
    user_id = joined.json['user']['id']
    assert call('POST', '/rest-auth/login', {'email': EMAIL, 'password': 'wrong-' + PASSWORD}).status == 401
    login = call('POST', '/rest-auth/login', {'email': EMAIL, 'password': PASSWORD})
    assert login.status == 200
    refreshed = call('POST', '/rest-auth/token/refresh', {'refresh': login.json['refresh']})
    assert refreshed.status == 200
    access = refreshed.json['access']
    assert call('PUT', '/rest-auth/profile', {'password': NEW_PASSWORD, 'current_password': PASSWORD},
                token=access).status == 200

    fake_openai.behaviour = choose(lambda cands: next(c for c in cands if c['scene'] == 5))
    usage = {'prompt_tokens': 1234, 'completion_tokens': 56, 'total_tokens': 1290}
    inner = fake_openai.behaviour

    def with_usage(req):
        status, body, delay = inner(req)
        return status, dict(body, usage=usage), delay
    fake_openai.behaviour = with_usage
    by_model = call('POST', '/chat/api', {'input': MODEL_TEXT}, token=access)
    assert by_model.status == 200 and by_model.json['source'] == 'openai'

    # the same server without a key: the local answerer
    from chalicelib.core import settings
    os.environ.pop('OPENAI_API_KEY')
    settings.reload()
    locally = call('POST', '/chat/api', {'input': CHAT_TEXT}, token=access)
    assert locally.status == 200 and locally.json['source'] == 'local'
    assert call('GET', '/chat/model?q=' + quote(SEARCH), token=access).status == 200
    assert call('GET', '/rest-auth/profile', token=access).status == 200
    assert call('POST', '/rest-auth/logout', token=access).status in (200, 204)

    out = capsys.readouterr()
    captured = out.out + out.err
    secrets = {'password': PASSWORD, 'new password': NEW_PASSWORD, 'email': EMAIL, 'email name': 'secret.person',
               'nickname': NICKNAME, 'chat text': CHAT_TEXT, 'model text': MODEL_TEXT, 'search words': SEARCH,
               'search, as sent': quote(SEARCH),
               'access token': login.json['access'], 'refresh token': login.json['refresh'],
               'refreshed access': access, 'refreshed refresh': refreshed.json['refresh'],
               'the answer': by_model.json['quote'], 'bearer': 'Bearer '}
    leaked = [name for name, value in secrets.items() if value in captured]
    assert not leaked, f'in the logs: {leaked}'
    # (no JSON escaping hid them either: Korean is written as is)
    assert '\\u' not in captured

    lines = log_lines(out.out)
    assert len(lines) == len(sent), 'one line per request'
    for method, path, r in sent:
        line = the_line(lines, r.headers['x-request-id'])
        assert line['method'] == method and line['status'] == r.status
        assert line['route'] == path.split('?')[0]
        assert isinstance(line['latency_ms'], float) and line['latency_ms'] >= 0
        assert line['level'] == 'INFO'
        check_emf(line)
        if path.startswith(('/chat', '/rest-auth/profile', '/rest-auth/logout')):
            assert line['user_id'] == user_id, path
        else:
            assert 'user_id' not in line, path
    model_line = the_line(lines, by_model.headers['x-request-id'])
    assert model_line['answerer'] == 'openai' and model_line['model'] == 'fake-model'
    assert (model_line['model_tokens_in'], model_line['model_tokens_out']) == (1234, 56)
    assert 0 < model_line['model_latency_ms'] <= model_line['latency_ms']
    local_line = the_line(lines, locally.headers['x-request-id'])
    assert local_line['answerer'] == 'local'
    assert not any(k.startswith('model') for k in local_line)
    assert the_line(lines, sent[1][2].headers['x-request-id'])['error_code'] == 'UnauthorizedError'


def test_an_unexpected_error_is_a_plain_500_and_its_traceback_is_logged_once(api, monkeypatch, capsys):
    from chalicelib.chat import chats as chat
    token = api.join()['access']

    def broken(*args, **kwargs):
        raise KeyError('a bug in the history code')
    monkeypatch.setattr(chat, 'history', broken)
    capsys.readouterr()
    r = api.get('/chat/model', token=token, headers=ORIGIN)
    assert r.status == 500
    assert r.json['Code'] == 'InternalServerError' and r.json['RequestId'] == r.headers['x-request-id']
    assert 'a bug' not in r.json['Message'] and 'Traceback' not in r.raw.decode()
    assert r.headers['access-control-allow-origin'] == ORIGIN['Origin']
    out = capsys.readouterr()
    captured = out.out + out.err
    assert captured.count('Traceback (most recent call last)') == 1
    assert len([ln for ln in captured.splitlines() if 'a bug in the history code' in ln]) == 1
    line = the_line(log_lines(out.out), r.headers['x-request-id'])
    assert line['level'] == 'ERROR' and line['status'] == 500
    assert line['error'].startswith('KeyError') and 'in broken' in line['traceback']


def test_a_failing_table_is_noted_on_the_line(api, monkeypatch, capsys):
    from botocore.exceptions import ClientError

    from chalicelib.chat import chats as chat
    token = api.join()['access']

    def throttled(*args, **kwargs):
        raise ClientError({'Error': {'Code': 'ProvisionedThroughputExceededException', 'Message': 'slow'}}, 'Query')
    monkeypatch.setattr(chat, 'history', throttled)
    capsys.readouterr()
    r = api.get('/chat/model', token=token)
    assert r.status == 503
    line = the_line(log_lines(capsys.readouterr().out), r.headers['x-request-id'])
    assert line['dependency_error'] == 'ProvisionedThroughputExceededException' and 'traceback' not in line
    assert line['level'] == 'ERROR'


# -- metrics --------------------------------------------------------------------------------------
def test_metrics_chats_by_source_tokens_and_latency_per_route(api, demo, fake_openai, capsys):
    token = api.join()['access']
    capsys.readouterr()
    by_model = api.post('/chat/api', {'input': '시험에 떨어졌어요'}, token=token)
    assert by_model.status == 200
    lines = log_lines(capsys.readouterr().out)
    line = the_line(lines, by_model.headers['x-request-id'])
    metrics = check_emf(line)
    assert metrics['ChatsAnswered'] == (1, 'Count', [['Service'], ['Service', 'Source']]) and line['Source'] == 'openai'
    assert metrics['ModelTokensIn'][:2] == (10, 'Count') and metrics['ModelTokensOut'][:2] == (10, 'Count')
    assert metrics['ModelTokens'][:2] == (20, 'Count') and metrics['ModelCalls'][:2] == (1, 'Count')
    assert metrics['ModelLatency'][1] == 'Milliseconds' and metrics['ModelLatency'][0] == line['model_latency_ms']
    assert metrics['Latency'] == (line['latency_ms'], 'Milliseconds', [['Service'], ['Service', 'Route']])
    assert line['Route'] == 'POST /chat/api'
    assert 'ModelErrors' not in metrics and 'RateLimited' not in metrics and 'ServerErrors' not in metrics


@pytest.mark.parametrize('behaviour, status, kind, detail', [
    (lambda req: (500, {'error': {'message': 'boom', 'type': 'server_error'}}, 0), 502, 'http_error', 'HTTP 500'),
    (lambda req: (401, {'error': {'message': 'bad key', 'type': 'invalid_api_key'}}, 0), 502, 'http_error', 'HTTP 401'),
    (lambda req: (429, {'error': {'message': 'slow down', 'type': 'rate_limit'}}, 0), 503, 'rate_limited', 'HTTP 429'),
    (lambda req: (200, completion('{}'), 2.5), 504, 'timeout', 'APITimeoutError'),
    (lambda req: (200, completion('this is not json'), 0), 502, 'bad_answer', 'JSONDecodeError'),
    (lambda req: (200, completion(json.dumps({'candidate_id': candidates_of(req)[0]['candidate_id'],
                                              'quote': '지어낸 대사', 'description': 'x'})), 0), 502, 'bad_answer',
     'BadGateway'),
])
def test_model_errors_are_counted_by_kind(api, demo, fake_openai, capsys, behaviour, status, kind, detail):
    token = api.join()['access']
    fake_openai.behaviour = behaviour
    capsys.readouterr()
    r = api.post('/chat/api', {'input': '시험에 떨어졌어요'}, token=token)
    assert r.status == status, r
    line = the_line(log_lines(capsys.readouterr().out), r.headers['x-request-id'])
    metrics = check_emf(line)
    assert metrics['ModelErrors'] == (1, 'Count', [['Service'], ['Service', 'Kind']]) and line['Kind'] == kind
    assert line['model_error'] == kind and line['model_error_detail'] == detail and metrics['ModelCalls'][0] == 1
    assert metrics['ServerErrors'][0] == 1 and 'ChatsAnswered' not in metrics


def test_model_unreachable_is_its_own_kind(api, demo, fake_openai, capsys):
    token = api.join()['access']
    fake_openai.close()
    capsys.readouterr()
    r = api.post('/chat/api', {'input': '시험에 떨어졌어요'}, token=token)
    assert r.status == 503
    line = the_line(log_lines(capsys.readouterr().out), r.headers['x-request-id'])
    assert check_emf(line)['ModelErrors'][0] == 1 and line['Kind'] == 'unreachable'


def test_login_failures_and_any_429_are_counted(api, monkeypatch, capsys):
    from chalicelib.chat import chats as chat
    from chalicelib.core.errors import TooManyRequests
    token = api.join(email='m@example.com')['access']
    capsys.readouterr()
    failed = api.post('/rest-auth/login', {'email': 'm@example.com', 'password': 'not the password'})
    assert failed.status == 401

    # Whatever refuses with 429 (the login throttle, issue 10's limits) is counted by its status.
    def limited(*args, **kwargs):
        raise TooManyRequests('천천히 해 주세요.', retry_after=3)
    monkeypatch.setattr(chat, 'history', limited)
    refused = api.get('/chat/model', token=token)
    assert refused.status == 429
    lines = log_lines(capsys.readouterr().out)
    login_metrics = check_emf(the_line(lines, failed.headers['x-request-id']))
    assert login_metrics['LoginFailures'] == (1, 'Count', [['Service']])
    assert 'RateLimited' not in login_metrics
    line = the_line(lines, refused.headers['x-request-id'])
    metrics = check_emf(line)
    assert metrics['RateLimited'] == (1, 'Count', [['Service'], ['Service', 'Route']])
    assert line['Route'] == 'GET /chat/model' and 'LoginFailures' not in metrics


# -- locally: `make run` prints the same lines ---------------------------------------------------
def test_local_api_prints_one_json_line_per_request(store):
    """tools/local_api.py (what `make run` starts) writes the lines to its stdout."""
    from tools.devkit.http import Api
    port = dynamodb_local.free_port()
    env = dict(os.environ, LOG_FORMAT='', PYTHONUNBUFFERED='1')
    proc = subprocess.Popen([sys.executable, '-m', 'tools.local_api', '--port', str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        dynamodb_local.wait_for_port(port, proc=proc)
        local = Api(f'http://127.0.0.1:{port}')
        ok, denied = local.get('/health'), local.get('/chat/model')
        assert (ok.status, denied.status) == (200, 401)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    lines = log_lines(out)
    assert the_line(lines, ok.headers['x-request-id'])['route'] == '/health'
    assert the_line(lines, denied.headers['x-request-id'])['status'] == 401
    assert '"GET /health HTTP/1.1"' not in err  # no access log besides
