"""👍/👎 on answers through the real HTTP server, the per-line counters kept in the same
transactions as the chats and ratings, and the admin's per-line figures."""
import random

import pytest

from chalicelib.accounts import auth

BOSS = '상사가 부당한 일을 자꾸 시켜요'      # the local answerer gives the episode-10 line
EXAM = '시험에 떨어졌어요. 환경 탓만 하게 돼요'  # … and the episode-5 one


def ask(api, token, text):
    r = api.post('/chat/api', {'input': text}, token=token)
    assert r.status == 200, r
    return r.json['chat']


def rate(api, token, chat_id, value):
    return api.put(f'/chat/model/{chat_id}/rating', {'value': value}, token=token)


@pytest.fixture
def people(api, demo):
    owner = api.join(email='owner@example.com', nickname='주인')['access']
    other = api.join(email='other@example.com', nickname='남')['access']
    admin = api.join(email='admin@example.com', nickname='관리자')['access']
    auth.set_admin('admin@example.com')  # read from the account on each request: the token stays good
    return {'owner': owner, 'other': other, 'admin': admin}


def stats_of(api, token, line_id):
    r = api.get('/corpus/stats?per-page=50', token=token)
    assert r.status == 200, r
    row = next(row for row in r.json['results'] if row['line']['id'] == line_id)
    return {k: row[k] for k in ('given', 'up', 'down')}


def test_rate_change_and_clear_an_answer(api, people):
    token = people['owner']
    chat = ask(api, token, BOSS)
    assert chat['chat_reply']['rating'] == 0
    assert {link['desc']: link['method'] for link in chat['_links']}['rate'] == 'PUT'
    for value in (1, -1, -1, 0, 1):
        r = rate(api, token, chat['id'], value)
        assert r.status == 200, r
        assert r.json['id'] == chat['id'] and r.json['chat_reply']['rating'] == value
    listed = api.get('/chat/model', token=token).json['results'][0]
    assert listed['chat_reply']['rating'] == 1
    assert api.get('/chat/model/' + chat['id'], token=token).json['chat_reply']['rating'] == 1


@pytest.mark.parametrize('body', [{}, {'value': 2}, {'value': -2}, {'value': True}, {'value': None},
                                  {'value': 1.5}, {'value': 'up'}, {'value': [1]}])
def test_bad_ratings_are_400_and_change_nothing(api, people, body):
    token = people['owner']
    chat = ask(api, token, BOSS)
    assert rate(api, token, chat['id'], 1).status == 200
    r = api.put(f"/chat/model/{chat['id']}/rating", body, token=token)
    assert r.status == 400, r
    assert 'value' in r.json['Fields']
    assert api.get('/chat/model/' + chat['id'], token=token).json['chat_reply']['rating'] == 1
    assert stats_of(api, people['admin'], chat['chat_reply']['line_id'])['up'] == 1


def test_only_the_owner_can_rate(api, people):
    chat = ask(api, people['owner'], BOSS)
    for chat_id in (chat['id'], '0' * 22, 'not-an-id', '..%2Fx'):
        r = rate(api, people['other'], chat_id, 1)
        assert r.status == 404, r
    assert rate(api, None, chat['id'], 1).status == 401
    assert api.get('/chat/model/' + chat['id'], token=people['owner']).json['chat_reply']['rating'] == 0
    assert stats_of(api, people['admin'], chat['chat_reply']['line_id']) == {'given': 1, 'up': 0, 'down': 0}


def test_admin_sees_given_and_ratings_per_line(api, demo, people):
    owner, other, admin = people['owner'], people['other'], people['admin']
    boss = [ask(api, owner, BOSS) for _ in range(3)] + [ask(api, other, BOSS)]
    exam = ask(api, owner, EXAM)
    rate(api, owner, boss[0]['id'], -1)
    rate(api, owner, boss[1]['id'], -1)
    rate(api, other, boss[3]['id'], 1)
    rate(api, owner, exam['id'], 1)
    boss_line, exam_line = boss[0]['chat_reply']['line_id'], exam['chat_reply']['line_id']
    assert stats_of(api, admin, boss_line) == {'given': 4, 'up': 1, 'down': 2}
    assert stats_of(api, admin, exam_line) == {'given': 1, 'up': 1, 'down': 0}

    first = api.get('/corpus/stats', token=admin).json  # worst first by default: most 👎
    assert first['count'] == len(demo) and len(first['results']) == 5 and first['previous'] is None
    assert first['results'][0]['line']['id'] == boss_line
    assert set(first['results'][0]['line']) >= {'id', 'scene', 'speaker', 'quote', 'description', 'sources'}
    assert first['results'][0]['line']['sources'] == demo.get(boss_line)['sources']
    second = api.get(first['next'], token=admin).json
    assert len(second['results']) == 5 and second['previous']
    seen = [r['line']['id'] for r in first['results'] + second['results']]
    assert len(set(seen)) == 10
    last = api.get(f'/corpus/stats?per-page=50&page={-(-len(demo) // 50)}', token=admin).json
    assert last['next'] is None and len(last['results']) == (len(demo) % 50 or 50)
    by_given = api.get('/corpus/stats?sort=given', token=admin).json['results']
    assert [r['given'] for r in by_given[:2]] == [4, 1]
    assert api.get('/corpus/stats?sort=up', token=admin).json['results'][0]['up'] == 1
    assert api.get('/corpus/stats?sort=nonsense', token=admin).status == 400


def test_stats_are_for_admins_only(api, people):
    for token in (people['owner'], people['other']):
        r = api.get('/corpus/stats', token=token)
        assert r.status == 403, r
    assert api.get('/corpus/stats').status == 401


def test_parallel_ratings_of_one_answer_keep_the_counts_exact(api, people):
    token = people['owner']
    chat = ask(api, token, BOSS)
    rng = random.Random(13)
    values = [rng.choice((1, -1, 0)) for _ in range(10)]
    results = api.at_once([('PUT', f"/chat/model/{chat['id']}/rating", {'value': v}, token) for v in values])
    assert all(r.status == 200 for r in results), results
    final = api.get('/chat/model/' + chat['id'], token=token).json['chat_reply']['rating']
    assert final in values
    assert stats_of(api, people['admin'], chat['chat_reply']['line_id']) == {
        'given': 1, 'up': int(final == 1), 'down': int(final == -1)}


def test_parallel_chats_and_ratings_of_one_line_keep_the_counts_exact(api, people):
    token = people['owner']
    results = api.at_once([('POST', '/chat/api', {'input': BOSS}, token)] * 8)
    assert all(r.status == 200 for r in results), results
    chats = [r.json['chat'] for r in results]
    line_id = chats[0]['chat_reply']['line_id']
    values = [1, 1, 1, -1, -1, 0, 1, -1]
    rated = api.at_once([('PUT', f"/chat/model/{c['id']}/rating", {'value': v}, token)
                         for c, v in zip(chats, values, strict=False)])
    assert all(r.status == 200 for r in rated), rated
    assert stats_of(api, people['admin'], line_id) == {'given': 8, 'up': 4, 'down': 3}


def test_deleting_rated_chats_takes_their_ratings_off_the_counts(api, people):
    token, admin = people['owner'], people['admin']
    chats = [ask(api, token, BOSS) for _ in range(4)]
    line_id = chats[0]['chat_reply']['line_id']
    for c, v in zip(chats, (1, 1, -1, 0), strict=False):
        rate(api, token, c['id'], v)
    assert api.delete('/chat/model/' + chats[0]['id'], token=token).status == 204
    assert stats_of(api, admin, line_id) == {'given': 4, 'up': 1, 'down': 1}  # given counts answers given
    # deleting everything while ratings change: the counts still end at zero
    results = api.at_once([('DELETE', '/chat/model', None, token), ('PUT', f"/chat/model/{chats[3]['id']}/rating",
                                                                   {'value': -1}, token)])
    assert results[0].status == 204 and results[1].status in (200, 404), results
    assert api.get('/chat/model', token=token).json['count'] == 0
    assert stats_of(api, admin, line_id) == {'given': 4, 'up': 0, 'down': 0}
