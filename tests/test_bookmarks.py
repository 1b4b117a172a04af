"""My lines (내 명대사) through the real HTTP server: keep once, list newest first with how often
each line was given, remove, privacy."""
import pytest

BOSS = '상사가 부당한 일을 자꾸 시켜요'


@pytest.fixture
def token(api, demo):
    return api.join()['access']


def keep(api, token, line_id):
    return api.put('/chat/bookmarks/' + line_id, token=token)


def listing(api, token, query=''):
    r = api.get('/chat/bookmarks' + query, token=token)
    assert r.status == 200, r
    return r.json


def test_keep_a_line_once_however_often(api, demo, token):
    for _ in range(2):
        assert api.post('/chat/api', {'input': BOSS}, token=token).status == 200
    chat = api.get('/chat/model', token=token).json['results'][0]
    line_id = chat['chat_reply']['line_id']
    bookmark_link = next(link for link in chat['_links'] if link['desc'] == 'bookmark')
    assert bookmark_link['method'] == 'PUT' and bookmark_link['href'].endswith('/chat/bookmarks/' + line_id)
    first = keep(api, token, line_id)
    assert first.status == 200, first
    line = demo.get(line_id)
    assert first.json['line'] == {'id': line_id, 'scene': line['scene'], 'speaker': line['speaker'],
                                  'quote': line['quote'], 'description': line['description'],
                                  'sources': line.get('sources') or []}
    assert first.json['times_given'] == 2
    again = keep(api, token, line_id + '/')
    assert again.status == 200 and again.json['created_at'] == first.json['created_at']
    listed = listing(api, token)
    assert listed['count'] == 1 and [b['line']['id'] for b in listed['results']] == [line_id]
    assert listed['results'][0]['times_given'] == 2


def test_parallel_keeps_of_one_line_keep_it_once(api, demo, token):
    line_id = demo.lines[0]['id']
    results = api.at_once([('PUT', '/chat/bookmarks/' + line_id, None, token)] * 8)
    assert all(r.status == 200 for r in results), results
    assert len({r.json['created_at'] for r in results}) == 1
    listed = listing(api, token)
    assert listed['count'] == 1 and len(listed['results']) == 1


def test_list_is_newest_first_and_paginated(api, demo, token):
    ids = [line['id'] for line in demo.lines[:8]]
    for line_id in ids:
        assert keep(api, token, line_id).status == 200
    first = listing(api, token)
    assert first['count'] == 8 and len(first['results']) == 5
    assert [b['line']['id'] for b in first['results']] == ids[::-1][:5]
    assert 'cursor=' in first['next'] and all(b['times_given'] == 0 for b in first['results'])
    second = api.get(first['next'], token=token).json
    assert [b['line']['id'] for b in second['results']] == ids[::-1][5:] and second['next'] is None
    by_number = listing(api, token, '?page=2&per-page=5')
    assert [b['line']['id'] for b in by_number['results']] == ids[::-1][5:]


def test_remove_a_line(api, demo, token):
    a, b = demo.lines[0]['id'], demo.lines[1]['id']
    keep(api, token, a)
    keep(api, token, b)
    r = api.delete('/chat/bookmarks/' + a, token=token)
    assert r.status == 204, r
    assert api.delete('/chat/bookmarks/' + a, token=token).status == 404
    listed = listing(api, token)
    assert listed['count'] == 1 and [x['line']['id'] for x in listed['results']] == [b]
    assert keep(api, token, a).status == 200  # kept again: newest now
    assert [x['line']['id'] for x in listing(api, token)['results']] == [a, b]


@pytest.mark.parametrize('line_id', ['no-such-line', 'demo-0000000000000000', '..%2F..%2Fx', 'a' * 200, '%00'])
def test_unknown_lines_are_404_and_keep_nothing(api, demo, token, line_id):
    r = keep(api, token, line_id)
    assert r.status == 404, r
    assert api.delete('/chat/bookmarks/' + line_id, token=token).status == 404
    assert listing(api, token)['count'] == 0


def test_bookmarks_are_the_owners_alone(api, demo, token):
    line_id = demo.lines[0]['id']
    keep(api, token, line_id)
    other = api.join(email='other@example.com')['access']
    assert listing(api, other)['count'] == 0
    assert api.delete('/chat/bookmarks/' + line_id, token=other).status == 404
    assert listing(api, token)['count'] == 1
    assert api.get('/chat/bookmarks').status == 401
    assert api.put('/chat/bookmarks/' + line_id).status == 401


def test_a_line_that_left_the_corpus_stays_in_my_lines(api, store, demo, token):
    """A board line withdrawn by an admin is no longer in the corpus; the bookmark shows it as kept."""
    from chalicelib.accounts import auth
    admin = api.join(email='admin@example.com', nickname='관리자')['access']
    auth.set_admin('admin@example.com')
    q = api.post('/quote', {'title': '제안', 'content': '우리는 이기는 법을 잊었습니다',
                            'description': '패배에 익숙해졌을 때', 'scene': 2, 'speaker': '백승수'}, token=token).json
    assert api.post(f"/quote/{q['id']}/apply", token=admin).status == 200
    line_id = 'board-' + q['id']
    assert keep(api, token, line_id).status == 200
    assert api.delete(f"/quote/{q['id']}/apply", token=admin).status == 200
    kept = listing(api, token)['results']
    assert [b['line']['quote'] for b in kept] == ['우리는 이기는 법을 잊었습니다']
    assert api.delete('/chat/bookmarks/' + line_id, token=token).status == 204
