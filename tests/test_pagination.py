"""Pages by cursor: next, previous, first, last and self reach the right items, a bare page
number reaches the same page from either end, and a collection that changes between two
requests still pages sensibly."""
import base64
import json

import pytest

from chalicelib.storage import keys
from tests.test_call_counts import link, seed_chats, seed_proposals


def ids(body):
    return [r['id'] for r in body['results']]


def cursor_of(url):
    return url.split('cursor=')[1] if 'cursor=' in url else None


def make_cursor(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip('=')


@pytest.fixture
def reader(api, store):
    """An account with 23 chats (pages of 5: 5, 5, 5, 5, 3), and their ids newest first."""
    joined = api.join()
    seed_chats(store, joined['user']['id'], 23)
    body = api.get('/chat/model?per-page=50', token=joined['access']).json
    return joined['access'], ids(body)


def get(api, token, url):
    r = api.get(url, token=token)
    assert r.status == 200, r
    return r.json


def test_next_then_previous_walk_every_page_both_ways(api, reader):
    token, all_ids = reader
    body = get(api, token, '/chat/model?per-page=5')
    assert body['previous'] is None and body['count'] == 23
    pages = [body]
    while body['next']:
        assert cursor_of(body['next'])
        body = get(api, token, body['next'])
        pages.append(body)
    assert [ids(p) for p in pages] == [all_ids[i:i + 5] for i in range(0, 23, 5)]
    back = [body]
    while body['previous']:
        body = get(api, token, body['previous'])
        back.append(body)
    assert [ids(p) for p in back] == [ids(p) for p in reversed(pages)]
    assert 'page=4&cursor=' in pages[4]['previous'] and 'page=1&cursor=' in pages[1]['previous']
    assert link(back[-1], 'self').endswith('per-page=5&page=1')  # page 1 is named plainly


def test_last_page_is_reached_by_cursor_and_pages_back_from_there(api, reader):
    token, all_ids = reader
    first = get(api, token, '/chat/model?per-page=5')
    assert 'page=5&cursor=' in link(first, 'last')
    last = get(api, token, link(first, 'last'))
    assert ids(last) == all_ids[20:] and last['next'] is None
    assert ids(get(api, token, last['previous'])) == all_ids[15:20]
    assert ids(get(api, token, link(last, 'self'))) == all_ids[20:]
    assert ids(get(api, token, link(last, 'first'))) == all_ids[:5]


@pytest.mark.parametrize('number', [1, 2, 3, 4, 5])
def test_a_bare_page_number_reaches_that_page_and_names_it_by_cursor(api, reader, number):
    token, all_ids = reader
    body = get(api, token, f'/chat/model?per-page=5&page={number}')
    want = all_ids[(number - 1) * 5:number * 5]
    assert ids(body) == want
    this = link(body, 'self')
    assert (cursor_of(this) is None) == (number == 1)
    again = get(api, token, this)
    assert ids(again) == want and again['next'] == body['next'] and again['previous'] == body['previous']
    if number > 1:
        assert ids(get(api, token, body['previous'])) == all_ids[(number - 2) * 5:(number - 1) * 5]
    if number < 5:
        assert ids(get(api, token, body['next'])) == all_ids[number * 5:(number + 1) * 5]


def test_a_page_past_the_end_is_empty_and_points_back_to_the_last(api, reader):
    token, all_ids = reader
    body = get(api, token, '/chat/model?per-page=5&page=9')
    assert body['results'] == [] and body['next'] is None and body['count'] == 23
    assert ids(get(api, token, body['previous'])) == all_ids[20:]


def test_previous_after_the_newer_chats_were_deleted_is_the_first_page(api, reader):
    token, all_ids = reader
    third = get(api, token, '/chat/model?per-page=5&page=3')
    previous = third['previous']
    for chat_id in all_ids[:8]:  # fewer than a page is left before page 3
        assert api.delete('/chat/model/' + chat_id, token=token).status == 204
    body = get(api, token, previous)
    assert ids(body) == all_ids[8:13] and body['previous'] is None
    assert link(body, 'self').endswith('page=1')


def test_previous_after_new_chats_arrived_is_still_the_page_before(api, reader):
    token, all_ids = reader
    third = get(api, token, '/chat/model?per-page=5&page=3')
    for i in range(3):
        reply = {'scene': 1, 'quote': 'q', 'description': 'd'}
        api.post('/chat/model', {'content': f'새 대화 {i}', 'chat_reply': reply}, token=token)
    body = get(api, token, third['previous'])
    assert ids(body) == all_ids[5:10]  # the page the reader came from, not shifted by the new ones
    body = get(api, token, body['previous'])
    assert ids(body) == all_ids[:5]  # nothing skipped on the way back…
    newest = get(api, token, body['previous'])  # …and the new ones come before it
    assert [r['content'] for r in newest['results'][:3]] == ['새 대화 2', '새 대화 1', '새 대화 0']
    assert newest['previous'] is None


def test_a_cursor_of_the_first_release_still_opens_its_page(api, reader):
    token, all_ids = reader
    old = make_cursor({'a': all_ids[4], 'p': 2})
    assert ids(get(api, token, '/chat/model?per-page=5&cursor=' + old)) == all_ids[5:10]


@pytest.mark.parametrize('data', [
    {'d': 'x', 'p': 2, 'k': '0' * 22},   # unknown kind
    {'d': 'a', 'p': 1, 'k': '0' * 22},   # after an item is never page 1
    {'d': 'b', 'p': 0, 'k': '0' * 22},
    {'d': 'b', 'p': 2, 'k': keys.account_pk('x')},  # a key, not an id
    {'d': 'a', 'p': True, 'k': '0' * 22},
    {'d': 'l', 'p': 0},
    {'d': 'l'},
    [1, 2],
])
def test_a_malformed_cursor_is_a_400(api, reader, data):
    token, _ = reader
    r = api.get('/chat/model?per-page=5&cursor=' + make_cursor(data), token=token)
    assert r.status == 400 and r.json['Code'] == 'BadRequestError', r


def test_board_pages_by_cursor_with_authors_on_every_page(api, store):
    author, reader = api.join(email='author@example.com', nickname='작성자'), api.join(email='reader@example.com')
    seed_proposals(store, author['user']['id'], 12)
    everything = get(api, reader['access'], '/quote?per-page=50')
    all_ids = ids(everything)
    first = get(api, reader['access'], '/quote?per-page=5')
    last = get(api, reader['access'], link(first, 'last'))
    assert ids(last) == all_ids[10:]
    middle = get(api, reader['access'], last['previous'])
    assert ids(middle) == all_ids[5:10] and 'cursor=' in middle['next']
    for body in (first, middle, last):
        assert {r['user']['nickname'] for r in body['results']} == {'작성자'}
        assert {r['user']['email'] for r in body['results']} == {'au***@example.com'}
    assert ids(get(api, author['access'], '/quote?per-page=5&page=2')) == all_ids[5:10]
