"""The corpus in the store and through the API: loading the shipped file, "another line"
(`exclude`), where a line comes from (`line_id`, `sources`), and what the model is shown. The
shipped file itself (data checked like code) and local retrieval: tests/unit/test_corpus.py."""
import json

import pytest

from chalicelib.chat import corpus
from tools.devkit.fake_openai import candidates_of, choose


@pytest.fixture(scope='module')
def shipped():
    return corpus.shipped_lines()


# -- loading the corpus file ----------------------------------------------------------------


def test_loading_is_idempotent_and_drops_lines_no_longer_shipped(store, shipped):
    store.corpus.put([dict(id='demo-0123456789abcdef', scene=1, speaker='백승수', quote='예전 대사',
                                 description='예전 설명', tags=[], sources=[], origin='demo'),
                            dict(id='import-0123456789abcdef', scene=2, speaker='이세영', quote='들여온 대사',
                                 description='운영자가 들여온 대사', tags=[], sources=[], origin='import')])
    assert corpus.load_shipped() == len(shipped)
    assert corpus.load_shipped() == len(shipped)
    ids = {ln['id'] for ln in store.corpus.lines()}
    assert ids == {ln['id'] for ln in shipped} | {'import-0123456789abcdef'}


# -- line_id, sources, "another line" --------------------------------------------------------
def ask(api, token, text, exclude=None):
    body = {'input': text} if exclude is None else {'input': text, 'exclude': exclude}
    return api.post('/chat/api', body, token=token)


def test_answer_and_saved_chat_say_which_line_and_where_it_is_confirmed(api, demo):
    token = api.join()['access']
    r = ask(api, token, '시험에 떨어졌는데 돈이 없어서 학원도 못 다녔어요')
    assert r.status == 200, r
    line = demo.get(r.json['line_id'])
    assert line is not None and line['quote'] == r.json['quote']
    assert r.json['sources'] == line['sources'] and r.json['sources']
    reply = r.json['chat']['chat_reply']
    assert (reply['line_id'], reply['sources']) == (line['id'], line['sources'])
    listed = api.get('/chat/model', token=token).json['results'][0]['chat_reply']
    assert (listed['line_id'], listed['sources']) == (line['id'], line['sources'])


def test_another_line_never_repeats_and_ends_plainly(api, demo):
    token = api.join()['access']
    text = '회사에서 파벌 싸움 때문에 지쳐요'
    shown = []
    for _ in range(corpus.EPISODES * 10):
        r = ask(api, token, text, shown)
        if r.status == 404:
            break
        assert r.status == 200, r
        assert r.json['line_id'] not in shown
        shown.append(r.json['line_id'])
    assert r.status == 404 and r.json['Code'] == 'NotFoundError'
    assert '모두 보여 드렸어요' in r.json['Message']
    assert 2 <= len(shown) <= 10
    assert api.get('/chat/model', token=token).json['count'] == len(shown)  # the 404 saved nothing


@pytest.mark.parametrize('exclude', ['e01-factions', [1, 2], [''], ['x' * 101], ['a'] * 51, {'id': 'x'}])
def test_a_malformed_exclude_is_a_400_naming_it(api, demo, exclude):
    token = api.join()['access']
    r = ask(api, token, '지쳐요', exclude)
    assert r.status == 400, r
    assert 'exclude' in r.json['Fields']
    assert api.get('/chat/model', token=token).json['count'] == 0


def test_unknown_ids_in_exclude_are_harmless(api, demo):
    token = api.join()['access']
    assert ask(api, token, '지쳐요', ['no-such-line']).status == 200


# -- what the model is shown -----------------------------------------------------------------
def test_the_model_sees_every_line_of_a_small_corpus_but_the_excluded(api, demo, fake_openai):
    token = api.join()['access']
    fake_openai.behaviour = choose(lambda cands: cands[-1])
    first = ask(api, token, '연애하다가 차였어요')
    assert first.status == 200, first
    sent = candidates_of(fake_openai.requests[-1]['json'])
    assert {c['candidate_id'] for c in sent} == {ln['id'] for ln in demo.lines}
    assert all(len(c['when']) <= 80 for c in sent)
    again = ask(api, token, '연애하다가 차였어요', [first.json['line_id']])
    assert again.status == 200 and again.json['line_id'] != first.json['line_id']
    sent = candidates_of(fake_openai.requests[-1]['json'])
    assert first.json['line_id'] not in {c['candidate_id'] for c in sent}
    assert len(sent) == len(demo.lines) - 1


def test_a_large_corpus_sends_the_model_retrieved_candidates_only(api, store, fake_openai):
    from chalicelib.chat import model
    lines = [json.dumps({'scene': 1 + i % 16, 'speaker': '백승수', 'quote': f"대사 {i}번 {'야구' * (i % 3)}",
                         'description': f'설명 {i}'}, ensure_ascii=False) for i in range(model.ALL_LINES_UP_TO + 1)]
    corpus.import_text('\n'.join(lines))
    token = api.join()['access']
    assert ask(api, token, '야구가 좋아요').status == 200
    assert len(candidates_of(fake_openai.requests[-1]['json'])) == model.CANDIDATES
