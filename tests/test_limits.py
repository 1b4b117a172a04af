"""Abuse and cost limits through the real server: each a 429 with Retry-After and a Korean
message, exact under parallel requests, and nothing done for a refused request."""
import time

import pytest

PASSWORD = 'correct horse 1'
EXCHANGE = {'content': '힘들어요', 'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}}


def assert_limited(r, at_least=1, at_most=None):
    assert r.status == 429, r
    assert r.json['Code'] == 'TooManyRequestsError'
    assert any('\uac00' <= c <= '\ud7a3' for c in r.json['Message']), r.json  # said in Korean
    wait = int(r.headers['retry-after'])
    assert wait >= at_least and (at_most is None or wait <= at_most), wait


def join(api, i):
    return api.post('/rest-auth/join', {'email': f'u{i}@example.com', 'nickname': 'n', 'password': PASSWORD})


def test_sign_ups_per_address(api, configure):
    configure(SIGNUP_LIMIT_PER_HOUR=3)
    assert [join(api, i).status for i in range(3)] == [201] * 3
    refused = join(api, 3)
    assert_limited(refused, at_most=3600)
    assert api.post('/rest-auth/login', {'email': 'u3@example.com', 'password': PASSWORD}).status == 401  # not created
    # A sign-up with bad fields is a 400 and costs nothing (no hash is computed for it).
    assert api.post('/rest-auth/join', {'email': 'bad', 'nickname': 'n', 'password': PASSWORD}).status == 400


def test_sign_up_limit_is_exact_under_parallel_requests(api, configure):
    configure(SIGNUP_LIMIT_PER_HOUR=4)
    results = api.at_once([('POST', '/rest-auth/join', {'email': f'p{i}@example.com', 'nickname': 'n',
                                                         'password': PASSWORD}, None) for i in range(10)])
    assert sorted(r.status for r in results) == [201] * 4 + [429] * 6


def test_chats_per_minute(api, demo, configure):
    configure(CHAT_LIMIT_PER_MINUTE=3)
    token = api.join()['access']
    results = api.at_once([('POST', '/chat/api', {'input': '상사가 부당한 일을 시켜요'}, token)] * 8)
    assert sorted(r.status for r in results) == [200] * 3 + [429] * 5
    assert_limited(next(r for r in results if r.status == 429), at_most=60)
    assert_limited(api.post('/chat/model', EXCHANGE, token=token), at_most=60)  # saving a chat counts too
    assert api.get('/chat/model', token=token).json['count'] == 3
    other = api.join(email='other@example.com')['access']  # per user
    assert api.post('/chat/api', {'input': '안녕'}, token=other).status == 200


def test_chats_per_day(api, demo, configure):
    configure(CHAT_LIMIT_PER_MINUTE=100, CHAT_LIMIT_PER_DAY=2)
    token = api.join()['access']
    assert api.post('/chat/model', EXCHANGE, token=token).status == 201
    assert api.post('/chat/api', {'input': '안녕'}, token=token).status == 200
    r = api.post('/chat/api', {'input': '안녕'}, token=token)
    assert_limited(r, at_most=86400)
    assert int(r.headers['retry-after']) > 60 or time.time() % 86400 > 86400 - 61  # the day's window, not the minute's


def test_input_that_is_no_situation_still_counts_toward_the_chat_limit(api, demo, configure):
    configure(CHAT_LIMIT_PER_MINUTE=2)
    token = api.join()['access']
    for _ in range(2):
        r = api.post('/chat/api', {'input': 'ㅁㄴㅇㄹ'}, token=token)
        assert r.status == 200 and r.json['fits'] is False, r
    assert_limited(api.post('/chat/api', {'input': '상사가 부당한 일을 시켜요'}, token=token), at_most=60)


def test_a_chat_with_bad_input_costs_nothing(api, demo, configure):
    configure(CHAT_LIMIT_PER_MINUTE=1)
    token = api.join()['access']
    assert api.post('/chat/api', {'input': ''}, token=token).status == 400
    assert api.post('/chat/api', {'input': '안녕'}, token=token).status == 200


def test_board_posts_per_hour(api, configure):
    configure(BOARD_POST_LIMIT_PER_HOUR=2)
    token = api.join()['access']
    body = {'title': 't', 'content': 'c', 'description': 'd'}
    assert [api.post('/quote', body, token=token).status for _ in range(2)] == [201, 201]
    assert_limited(api.post('/quote', body, token=token), at_most=3600)
    assert api.get('/quote', token=token).json['count'] == 2
    assert api.post('/quote', {'title': ''}, token=token).status == 400  # validation still answers first


def test_a_limit_of_zero_is_off(api, configure):
    configure(SIGNUP_LIMIT_PER_HOUR=0)
    assert [join(api, i).status for i in range(3)] == [201] * 3


def test_check_is_reusable_by_new_routes_and_counts_with_one_update(store):
    """The plain API other routes call: one conditional update, 429 when spent."""
    from chalicelib import limits
    from chalicelib.core.errors import TooManyRequests
    from tools.devkit.dynamo_calls import DynamoCalls
    with DynamoCalls() as calls:
        limits.check('board_post', 'someone')
    assert calls.names == ['UpdateItem']
    for _ in range(9):
        limits.check('board_post', 'someone')
    with pytest.raises(TooManyRequests) as refused:
        limits.check('board_post', 'someone')
    assert int(refused.value.headers['Retry-After']) <= 3600
    limits.check('board_post', 'someone-else')


def test_ratings_bookmarks_and_links_are_limited_on_a_count_apart_from_chats(api, demo, configure):
    configure(KEEP_LIMIT_PER_MINUTE=3, CHAT_LIMIT_PER_MINUTE=100)
    token = api.join()['access']
    chat = api.post('/chat/api', {'input': '상사가 부당한 일을 시켜요'}, token=token).json['chat']
    line = chat['chat_reply']['line_id']
    assert api.put(f"/chat/model/{chat['id']}/rating", {'value': 1}, token=token).status == 200
    assert api.put('/chat/bookmarks/' + line, token=token).status == 200
    share = api.post(f"/chat/model/{chat['id']}/share", token=token)
    assert share.status == 201
    for refused in (api.put(f"/chat/model/{chat['id']}/rating", {'value': -1}, token=token),
                    api.put('/chat/bookmarks/' + demo.lines[0]['id'], token=token),
                    api.post(f"/chat/model/{chat['id']}/share", token=token)):
        assert_limited(refused, at_most=60)
    # nothing was done for them
    assert api.get('/chat/model/' + chat['id'], token=token).json['chat_reply']['rating'] == 1
    assert api.get('/chat/bookmarks', token=token).json['count'] == 1
    assert api.get('/chat/shares', token=token).json['count'] == 1
    # chats are counted apart; taking back is not limited
    assert api.post('/chat/api', {'input': '시험에 떨어졌어요'}, token=token).status == 200
    assert api.delete('/chat/bookmarks/' + line, token=token).status == 204
    assert api.delete('/chat/shares/' + share.json['id'], token=token).status == 204


def test_the_keep_limit_is_exact_under_parallel_ratings(api, demo, configure):
    configure(KEEP_LIMIT_PER_MINUTE=4)
    token = api.join()['access']
    chat = api.post('/chat/api', {'input': '상사가 부당한 일을 시켜요'}, token=token).json['chat']
    results = api.at_once([('PUT', f"/chat/model/{chat['id']}/rating", {'value': 1 if i % 2 else -1}, token)
                           for i in range(10)])
    assert sorted(r.status for r in results) == [200] * 4 + [429] * 6
