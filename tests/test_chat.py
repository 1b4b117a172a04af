"""The chatbot through the real HTTP server: local retrieval, the OpenAI path against a fake
OpenAI-compatible server on loopback, saved chats, history pagination and isolation."""
import json
import os

import pytest

from tools.devkit.fake_openai import candidates_of, choose, completion

ORIGIN = {'Origin': 'http://localhost:8080'}


def ask(api, token, text, **kw):
    return api.post('/chat/api', {'input': text}, token=token, **kw)


def history(api, token, query=''):
    r = api.get('/chat/model' + query, token=token)
    assert r.status == 200, r
    return r.json


@pytest.fixture
def user(api):
    return api.join()


@pytest.fixture
def token(user):
    return user['access']


# -- local retrieval: its fit is measured on the labelled situations (tests/test_relevance.py) --
def test_chat_api_answers_locally_and_saves_the_exchange(api, demo, user, token):
    r = ask(api, token, '상사가 부당한 일을 자꾸 시켜요', headers=ORIGIN)
    assert r.status == 200, r
    body = r.json
    assert body['source'] == 'local' and body['scene'] == 10 and body['speaker'] == '백승수'
    assert body['quote'] in {ln['quote'] for ln in demo.lines}
    assert body['description']
    saved = body['chat']
    assert saved['content'] == '상사가 부당한 일을 자꾸 시켜요' and saved['user'] == user['user']['id']
    assert saved['chat_reply']['quote'] == body['quote'] and saved['chat_reply']['scene'] == 10
    assert r.headers['access-control-allow-origin'] == 'http://localhost:8080'
    listed = history(api, token)
    assert listed['count'] == 1 and listed['results'][0]['id'] == saved['id']
    assert api.get(f"/chat/model/{saved['id']}/", token=token).json['content'] == saved['content']


def test_chat_api_reads_form_posts_like_the_original_view(api, demo, token):
    r = api.request('POST', '/chat/api/', raw=b'input=%EB%B6%80%EB%8B%B9%ED%95%9C+%EC%83%81%EC%82%AC',
                    headers={'Content-Type': 'application/x-www-form-urlencoded'}, token=token)
    assert r.status == 200, r
    assert r.json['chat']['content'] == '부당한 상사'
    boundary = 'XyZ123'
    raw = (f'--{boundary}\r\nContent-Disposition: form-data; name="input"\r\n\r\n'
           f'시험에 떨어졌어요\r\n--{boundary}--\r\n').encode()
    r = api.request('POST', '/chat/api', raw=raw, token=token,
                    headers={'Content-Type': 'multipart/form-data; boundary=' + boundary})
    assert r.status == 200, r
    assert r.json['chat']['content'] == '시험에 떨어졌어요' and r.json['scene'] == 5


@pytest.mark.parametrize('body', [{}, {'input': ''}, {'input': '   '}, {'input': 'ㄱ' * 1001}, {'input': 42},
                                  {'input': None}, {'input': ['a']}, {'text': 'hello'}])
def test_chat_api_rejects_bad_input_and_saves_nothing(api, demo, token, body):
    r = api.post('/chat/api', body, token=token)
    assert r.status == 400, r
    assert 'input' in r.json['Fields']
    assert history(api, token)['count'] == 0


def test_input_of_1000_characters_is_fine(api, demo, token):
    assert ask(api, token, '가' * 1000).status == 200


def test_chat_needs_a_token(api, demo):
    assert api.post('/chat/api', {'input': '안녕'}).status == 401


def test_empty_corpus_without_a_model_is_a_clear_503(api, store, token):
    r = ask(api, token, '안녕하세요')
    assert r.status == 503, r
    assert r.json['Code'] == 'ServiceUnavailableError'
    assert history(api, token)['count'] == 0


@pytest.mark.parametrize('text', ['zzzz qqqq', 'ㅁㄴㅇㄹ', '내일 서울 비 와?', '엑셀에서 셀 합치는 법'])
def test_input_that_is_no_situation_gets_no_line_says_what_to_write_and_saves_nothing(api, demo, token, text):
    r = ask(api, token, text)
    assert r.status == 200, r
    assert r.json['fits'] is False and r.json['source'] == 'local'
    assert '겪은 일이나 지금 드는 마음' in r.json['message']
    assert len(r.json['suggestions']) == 3 and all(isinstance(s, str) and s for s in r.json['suggestions'])
    assert not {'quote', 'line_id', 'chat'} & set(r.json)
    assert any(ln['desc'] == 'ask' and ln['method'] == 'POST' and ln['href'].endswith('/chat/api')
               for ln in r.json['_links'])
    assert history(api, token)['count'] == 0
    for suggestion in r.json['suggestions']:  # what it suggests is a situation that gets a line
        answer = ask(api, token, suggestion)
        assert answer.status == 200 and answer.json['fits'] is True and answer.json['line_id'], answer


# -- the OpenAI path, over real HTTP to a fake server -----------------------------------------
def test_openai_chooses_among_candidates_and_explains(api, demo, token, fake_openai):
    fake_openai.behaviour = choose(lambda cands: next(c for c in cands if c['scene'] == 5),
                                   description='시험에 떨어진 지금, 환경 탓보다 가진 무기로 '
                                               '다시 싸우자는 말이 힘이 됩니다.')
    r = ask(api, token, '시험에 떨어졌어요')
    assert r.status == 200, r
    assert r.json['source'] == 'openai' and r.json['grounded'] is True and r.json['scene'] == 5
    assert r.json['description'].startswith('시험에 떨어진 지금')
    assert r.json['quote'] in {ln['quote'] for ln in demo.lines}
    sent = fake_openai.requests[0]
    assert sent['path'] == '/v1/chat/completions'
    assert sent['headers']['authorization'] == 'Bearer sk-test'
    assert sent['json']['model'] == 'fake-model'
    assert sent['json']['response_format']['type'] == 'json_schema'
    assert '시험에 떨어졌어요' in sent['json']['messages'][-1]['content']
    ids = sent['json']['response_format']['json_schema']['schema']['properties']['candidate_id']['enum']
    assert {c['candidate_id'] for c in candidates_of(sent['json'])} <= set(ids)
    assert history(api, token)['results'][0]['chat_reply']['source'] == 'openai'
    assert api.get('/health').json['model']['answerer'] == 'openai'


def _fails_and_saves_nothing(api, token, status, code):
    r = ask(api, token, '시험에 떨어졌어요')
    assert r.status == status, r
    assert r.json['Code'] == code
    assert history(api, token)['count'] == 0
    return r


def test_openai_invented_quote_is_rejected(api, demo, token, fake_openai):
    def invent(request):
        c = candidates_of(request)[0]
        return 200, completion(json.dumps({'candidate_id': c['candidate_id'], 'quote': '포기하면 편해.',
                                           'description': '지어낸 대사'}, ensure_ascii=False)), 0
    fake_openai.behaviour = invent
    _fails_and_saves_nothing(api, token, 502, 'BadGatewayError')


def test_openai_unknown_candidate_is_rejected(api, demo, token, fake_openai):
    fake_openai.behaviour = lambda req: (200, completion(json.dumps(
        {'candidate_id': 'made-up', 'quote': '포기하면 편해.', 'description': 'x'})), 0)
    _fails_and_saves_nothing(api, token, 502, 'BadGatewayError')


def test_openai_timeout_is_504(api, demo, token, fake_openai):
    fake_openai.behaviour = lambda req: (200, completion('{}'), 2.5)
    _fails_and_saves_nothing(api, token, 504, 'GatewayTimeoutError')


def test_openai_429_is_503_with_retry_after(api, demo, token, fake_openai):
    fake_openai.behaviour = lambda req: (429, {'error': {'message': 'slow down', 'type': 'rate_limit'}}, 0)
    r = _fails_and_saves_nothing(api, token, 503, 'ServiceUnavailableError')
    assert int(r.headers['retry-after']) >= 7


def test_openai_500_is_502(api, demo, token, fake_openai):
    fake_openai.behaviour = lambda req: (500, {'error': {'message': 'boom', 'type': 'server_error'}}, 0)
    _fails_and_saves_nothing(api, token, 502, 'BadGatewayError')


def test_openai_retries_are_bounded(api, demo, token, fake_openai):
    os.environ['OPENAI_MAX_RETRIES'] = '1'
    from chalicelib.core import settings
    settings.reload()
    fake_openai.behaviour = lambda req: (500, {'error': {'message': 'boom', 'type': 'server_error'}}, 0)
    _fails_and_saves_nothing(api, token, 502, 'BadGatewayError')
    assert len(fake_openai.requests) == 2
    calls = []

    def flaky(req):
        calls.append(1)
        if len(calls) == 1:
            return 500, {'error': {'message': 'once', 'type': 'server_error'}}, 0
        return choose(lambda cands: cands[0])(req)
    fake_openai.behaviour = flaky
    assert ask(api, token, '시험에 떨어졌어요').status == 200


@pytest.mark.parametrize('content', ['this is not json', '{"candidate_id": 3', '[1, 2, 3]', '{"quote": "x"}'])
def test_openai_off_format_answer_is_502(api, demo, token, fake_openai, content):
    fake_openai.behaviour = lambda req: (200, completion(content), 0)
    _fails_and_saves_nothing(api, token, 502, 'BadGatewayError')


def test_openai_body_that_is_not_json_is_502(api, demo, token, fake_openai):
    fake_openai.behaviour = lambda req: (200, b'<html>oops</html>', 0)
    _fails_and_saves_nothing(api, token, 502, 'BadGatewayError')


def test_openai_unreachable_is_503(api, demo, token, fake_openai):
    fake_openai.close()
    _fails_and_saves_nothing(api, token, 503, 'ServiceUnavailableError')


def test_openai_saying_none_fits_is_no_line_and_saves_nothing(api, demo, token, fake_openai):
    fake_openai.behaviour = lambda req: (200, completion(json.dumps(
        {'candidate_id': 'none', 'quote': '', 'description': ''})), 0)
    r = ask(api, token, '점심 뭐 먹지')
    assert r.status == 200, r
    assert r.json['fits'] is False and r.json['source'] == 'openai' and len(r.json['suggestions']) == 3
    assert history(api, token)['count'] == 0


def test_openai_candidates_come_in_the_fused_rankings_order(api, demo, token, fake_openai):
    from chalicelib.chat import model
    text = '팀장이 내가 밤새 만든 기획안을 자기 이름으로 올렸어'
    r = ask(api, token, text)
    assert r.status == 200 and r.json['fits'] is True, r
    sent = [c['candidate_id'] for c in candidates_of(fake_openai.requests[0]['json'])]
    assert sent == [ln['id'] for ln in model.candidates(text, demo)]
    assert sent[:3] == [ln['id'] for ln in model.fitting(text, demo)[:3]]
    assert len(sent) == len(demo)  # a small corpus: every line, the best first


def test_openai_with_empty_corpus_answers_marked_not_grounded(api, store, token, fake_openai):
    fake_openai.behaviour = lambda req: (200, completion(json.dumps(
        {'scene': 2, 'speaker': '백승수', 'quote': '기억나는 대사', 'description': '설명'}, ensure_ascii=False)), 0)
    r = ask(api, token, '안녕하세요')
    assert r.status == 200, r
    assert r.json['source'] == 'openai' and r.json['grounded'] is False
    assert history(api, token)['results'][0]['chat_reply']['grounded'] is False


# -- saving exchanges the client already has --------------------------------------------------
def test_record_saves_a_client_exchange(api, token):
    reply = {'scene': 3, 'quote': '대사', 'description': '이유'}
    r = api.post('/chat/model/', {'content': '힘들어요', 'chat_reply': reply}, token=token)
    assert r.status == 201, r
    assert r.json['chat_reply']['scene'] == 3 and r.json['content'] == '힘들어요'
    assert {link['method'] for link in r.json['_links']} >= {'GET', 'DELETE'}


@pytest.mark.parametrize('body, field', [
    ({'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}}, 'content'),
    ({'content': 'c'}, 'chat_reply'),
    ({'content': 'c', 'chat_reply': 'text'}, 'chat_reply'),
    ({'content': 'c', 'chat_reply': {'scene': 99, 'quote': 'q', 'description': 'd'}}, 'chat_reply.scene'),
    ({'content': 'c', 'chat_reply': {'scene': 1, 'description': 'd'}}, 'chat_reply.quote'),
    ({'content': 'c' * 1001, 'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}}, 'content'),
])
def test_record_rejects_bad_input(api, token, body, field):
    r = api.post('/chat/model', body, token=token)
    assert r.status == 400, r
    assert field in r.json['Fields'], r.json
    assert history(api, token)['count'] == 0


# -- history ----------------------------------------------------------------------------------
def _save(api, token, n):
    ids = []
    for i in range(n):
        r = api.post('/chat/model', {'content': f'chat {i:02}',
                                     'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}}, token=token)
        assert r.status == 201
        ids.append(r.json['id'])
    return ids


def test_history_pages_newest_first_with_cursor_links(api, token):
    ids = _save(api, token, 12)
    newest_first = list(reversed(ids))
    page1 = history(api, token, '?per-page=5')
    assert page1['count'] == 12 and page1['previous'] is None
    assert [c['id'] for c in page1['results']] == newest_first[:5]
    assert 'cursor=' in page1['next'] and 'page=2' in page1['next']
    page2 = api.get(page1['next'], token=token).json
    assert [c['id'] for c in page2['results']] == newest_first[5:10]
    assert 'page=1' in page2['previous']
    page3 = api.get(page2['next'], token=token).json
    assert [c['id'] for c in page3['results']] == newest_first[10:]
    assert page3['next'] is None
    # A bare page number reaches the same page as the cursor did.
    assert [c['id'] for c in history(api, token, '?per_page=5&page=2')['results']] == newest_first[5:10]
    assert history(api, token, '?per-page=5&page=9')['results'] == []
    default = history(api, token)
    assert len(default['results']) == 5 and {link['desc'] for link in default['_links']} >= {'delete all'}


@pytest.mark.parametrize('query', ['?per-page=4', '?per-page=51', '?per-page=x', '?page=0', '?page=-1',
                                   '?per-page=%C2%B2', '?cursor=notacursor', '?cursor=eyJhIjoxfQ'])
def test_history_rejects_bad_paging(api, token, query):
    r = api.get('/chat/model' + query, token=token)
    assert r.status == 400, r


def test_history_is_private_to_its_owner(api, token):
    mine = _save(api, token, 2)
    other = api.join(email='other@example.com')['access']
    assert history(api, other)['count'] == 0
    for method in ('GET', 'DELETE'):
        r = api.request(method, '/chat/model/' + mine[0], token=other)
        assert r.status == 404, r
    assert api.get('/chat/model/not-an-id', token=other).status == 404
    assert history(api, token)['count'] == 2


def test_concurrent_deletes_keep_the_count_exact(api, token):
    ids = _save(api, token, 6)
    paths = ['/chat/model', '/chat/model', '/chat/model', '/chat/model/' + ids[0]]
    statuses = [r.status for r in api.at_once([('DELETE', p, None, token) for p in paths])]
    assert statuses.count(204) >= 3
    assert history(api, token)['count'] == 0
    _save(api, token, 3)
    listed = history(api, token)
    assert listed['count'] == 3 and len(listed['results']) == 3


def test_delete_one_and_delete_all(api, token):
    ids = _save(api, token, 3)
    assert api.delete('/chat/model/' + ids[0], token=token).status == 204
    assert api.delete('/chat/model/' + ids[0], token=token).status == 404
    assert history(api, token)['count'] == 2
    assert api.delete('/chat/model', token=token).status == 204
    assert history(api, token) ['count'] == 0
    _save(api, token, 2)
    assert api.post('/chat/delete/', token=token).status == 204
    assert history(api, token)['results'] == []


def test_health_says_which_matcher_ranks_the_lines(api, demo, token):
    assert ask(api, token, '시험에 떨어졌어요').status == 200
    model = api.get('/health').json['model']
    assert model['answerer'] == 'local'
    assert model['matcher'].startswith('meaning: multilingual-e5-small')
