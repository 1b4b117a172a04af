"""Operator tools and failure handling: corpus import, admin CLI, a failing table."""
import json
import os
import subprocess
import sys

import pytest

from chalicelib import storage
from chalicelib.chat import corpus

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOOD = {'scene': 2, 'speaker': '권경민', 'quote': '시험 삼아 넣어 보는 대사', 'description': '테스트용 설명'}


def run_cli(*args):
    env = dict(os.environ)  # carries the test DynamoDB's endpoint, so make run's data is never touched
    return subprocess.run([sys.executable, '-m', 'tools.cli', *args],
                          capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)


def test_import_quotes_adds_lines_and_is_idempotent(store, tmp_path):
    path = tmp_path / 'lines.jsonl'
    path.write_text('\n'.join(json.dumps(dict(GOOD, quote=f'대사 {i}'), ensure_ascii=False) for i in range(3)) + '\n\n',
                    encoding='utf-8')
    result = run_cli('import-quotes', str(path))
    assert result.returncode == 0, result.stderr
    assert 'imported 3 lines' in result.stdout
    run_cli('import-quotes', str(path))
    corpus.forget_cache()
    assert sorted(ln['quote'] for ln in corpus.current().lines) == ['대사 0', '대사 1', '대사 2']


@pytest.mark.parametrize('bad, message', [
    ('{"scene": 2, "speaker": "a", "quote": "q"}', 'description'),
    ('{"scene": 17, "speaker": "a", "quote": "q", "description": "d"}', 'scene'),
    ('{"scene": 2, "speaker": "a", "quote": "q", "description": "d"', '3번째 줄'),
    ('[1]', 'JSON 객체'),
])
def test_a_malformed_record_is_named_and_nothing_is_imported(store, tmp_path, bad, message):
    path = tmp_path / 'lines.jsonl'
    lines = [json.dumps(GOOD, ensure_ascii=False), json.dumps(dict(GOOD, quote='둘째'), ensure_ascii=False), bad]
    path.write_text('\n'.join(lines), encoding='utf-8')
    result = run_cli('import-quotes', str(path))
    assert result.returncode == 2
    assert '3번째 줄' in result.stderr and message in result.stderr
    assert store.corpus.lines() == []


def test_demo_corpus_is_well_formed_and_cites_episodes(store):
    assert corpus.load_shipped() >= 8
    lines = corpus.current().lines
    assert all(1 <= ln['scene'] <= 16 and ln['speaker'] and ln['description'] for ln in lines)
    assert len({ln['quote'] for ln in lines}) == len(lines)


def test_admin_command(api):
    api.join(email='boss@example.com')
    result = run_cli('admin', 'Boss@Example.com')
    assert result.returncode == 0, result.stderr
    token = api.post('/rest-auth/login', {'email': 'boss@example.com', 'password': 'correct horse 1'}).json['access']
    assert api.get('/rest-auth/profile', token=token).json['is_admin'] is True
    assert run_cli('admin', 'boss@example.com', '--revoke').returncode == 0
    assert api.get('/rest-auth/profile', token=token).json['is_admin'] is False
    missing = run_cli('admin', 'nobody@example.com')
    assert missing.returncode == 2 and 'nobody@example.com' in missing.stderr


def test_a_throttled_table_is_a_clear_503_and_loses_nothing(api, monkeypatch):
    from botocore.exceptions import ClientError
    token = api.join()['access']
    reply = {'scene': 1, 'quote': 'q', 'description': 'd'}
    saved = api.post('/chat/model', {'content': '첫 대화', 'chat_reply': reply}, token=token)
    assert saved.status == 201
    client = storage.store().db.client

    def throttle(**kwargs):
        raise ClientError({'Error': {'Code': 'ProvisionedThroughputExceededException', 'Message': 'slow down'}},
                          'TransactWriteItems')
    client.meta.events.register('before-call.dynamodb.TransactWriteItems', throttle)
    try:
        r = api.post('/chat/model', {'content': '둘째', 'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}},
                     token=token)
    finally:
        client.meta.events.unregister('before-call.dynamodb.TransactWriteItems', throttle)
    assert r.status == 503, r
    assert r.json['Code'] == 'ServiceUnavailableError' and int(r.headers['retry-after']) >= 1
    listed = api.get('/chat/model', token=token).json
    assert listed['count'] == 1 and listed['results'][0]['content'] == '첫 대화'


def test_an_unreachable_table_is_a_clear_503(api, monkeypatch):
    from chalicelib.core import settings
    token = api.join()['access']
    with monkeypatch.context() as m:
        m.setenv('AWS_ENDPOINT_URL_DYNAMODB', 'http://127.0.0.1:9')  # nothing listens on the discard port
        dead = storage.Store(settings.get())
        m.setattr(storage, 'store', lambda: dead)
        r = api.post('/rest-auth/login', {'email': 'user@example.com', 'password': 'correct horse 1'})
        assert r.status == 503, r
        assert r.json['Code'] == 'ServiceUnavailableError'
        health = api.get('/health')
        assert health.status == 503 and health.json['store']['dynamodb'] == 'down'
        protected = api.get('/chat/model', token=token)  # the authorizer cannot check the session
        assert protected.status == 503, protected
        assert protected.json['Code'] == 'ServiceUnavailableError'
    assert api.get('/rest-auth/profile', token=token).status == 200
