"""Round trips per request: the DynamoDB calls of every route are pinned, and each page kind
costs the same calls and read capacity near the start of a collection and deep into it."""
import pytest

from chalicelib.core.ids import new_id, now_iso
from tools.devkit import route_calls
from tools.devkit.dynamo_calls import DynamoCalls

AUTH = ['GetItem']  # the authorizer's session check, before every logged-in route
EXPECTED = {
    # sign-up limit, account (with its empty session index), session (listed in the index)
    'POST /rest-auth/join': ['UpdateItem', 'TransactWriteItems', 'TransactWriteItems'],
    'GET /health': ['GetItem'],
    'POST /rest-auth/token/refresh': ['UpdateItem'],
    'GET /rest-auth/profile': AUTH + ['GetItem'],
    'PUT /rest-auth/profile (nickname)': AUTH + ['BatchGetItem', 'TransactWriteItems'],  # the email item's copy too
    # the account with its session index; the throttled check counted up front; one transaction
    # (the new password, the other sessions ended, the count given back)
    'PUT /rest-auth/profile (password)': AUTH + ['BatchGetItem', 'TransactWriteItems', 'TransactWriteItems'],
    # the same, ending every session and leaving a purge job for what the account owned
    'DELETE /rest-auth/profile': AUTH + ['BatchGetItem', 'TransactWriteItems', 'TransactWriteItems'],
    'POST /chat/api': AUTH + ['UpdateItem', 'GetItem', 'TransactWriteItems'],  # chat limit first
    'POST /chat/model': AUTH + ['UpdateItem', 'TransactWriteItems'],
    'GET /chat/model (first page)': AUTH + ['Query', 'GetItem'],
    'GET /chat/model (next)': AUTH + ['Query', 'GetItem'],
    'GET /chat/model (last page)': AUTH + ['GetItem', 'Query'],
    'GET /chat/model (previous)': AUTH + ['Query', 'GetItem'],
    'GET /chat/model (self of a page)': AUTH + ['Query', 'GetItem'],
    'GET /chat/model/{id}': AUTH + ['GetItem'],
    # read first: its rating and share links leave with it, in its own transaction
    'DELETE /chat/model/{id}': AUTH + ['GetItem', 'TransactWriteItems'],
    'GET /chat/model?q= (search)': AUTH + ['Query'],
    'PUT /chat/model/{id}/rating': AUTH + ['UpdateItem', 'GetItem', 'TransactWriteItems'],  # the limit first
    # the limit, the corpus line and the user's per-line item (the guard) in one read, the write
    'PUT /chat/bookmarks/{line}': AUTH + ['UpdateItem', 'BatchGetItem', 'TransactWriteItems'],
    'PUT /chat/bookmarks/{line} (again)': AUTH + ['UpdateItem', 'BatchGetItem'],
    'GET /chat/bookmarks': AUTH + ['Query', 'BatchGetItem', 'GetItem'],
    'DELETE /chat/bookmarks/{line}': AUTH + ['GetItem', 'TransactWriteItems'],
    'POST /chat/model/{id}/share': AUTH + ['UpdateItem', 'GetItem', 'TransactWriteItems'],
    'GET /share/{id}': ['GetItem', 'GetItem'],  # the card, and that its owner still exists
    'GET /chat/shares': AUTH + ['Query', 'BatchGetItem', 'GetItem'],
    'DELETE /chat/shares/{id}': AUTH + ['GetItem', 'TransactWriteItems'],
    # chats, bookmarks, how often each kept line was given
    'GET /chat/export (first part)': AUTH + ['Query', 'Query', 'BatchGetItem'],
    'GET /corpus/stats': AUTH + ['GetItem', 'Query', 'GetItem'],
    'DELETE /chat/model': AUTH + ['Query', 'TransactWriteItems'],
    'POST /chat/delete': AUTH + ['Query', 'TransactWriteItems'],
    'POST /quote': AUTH + ['GetItem', 'UpdateItem', 'TransactWriteItems'],
    'GET /quote (first page)': AUTH + ['Query', 'BatchGetItem'],
    'GET /quote (next)': AUTH + ['Query', 'BatchGetItem'],
    # the count first (with the caller), then the page, then the authors not yet read
    'GET /quote (last page)': AUTH + ['BatchGetItem', 'Query', 'BatchGetItem'],
    'GET /quote (previous)': AUTH + ['Query', 'BatchGetItem'],
    "GET /quote/{id} (another's)": AUTH + ['BatchGetItem', 'BatchGetItem'],
    'PUT /quote/{id}': AUTH + ['BatchGetItem', 'UpdateItem'],
    'POST /quote/{id}/apply': AUTH + ['BatchGetItem', 'TransactWriteItems', 'BatchGetItem'],
    'DELETE /quote/{id}/apply': AUTH + ['BatchGetItem', 'TransactWriteItems', 'BatchGetItem'],
    'DELETE /quote/{id}': AUTH + ['BatchGetItem', 'TransactWriteItems'],
    'POST /rest-auth/logout': AUTH + ['DeleteItem'],
}


def test_every_route_makes_at_most_three_calls_besides_the_authorizer(api, demo, configure):
    configure(BOARD_POST_LIMIT_PER_HOUR=100)  # the scenario proposes 11 at once; the limit's call still counts
    measured = route_calls.measure(api)
    assert measured == EXPECTED
    for name, calls in measured.items():
        own = calls[1:] if calls[:1] == AUTH and name not in (
            'POST /rest-auth/join', 'GET /health', 'POST /rest-auth/token/refresh', 'GET /share/{id}') else calls
        assert len(own) <= 3, (name, calls)


# -- each page kind: the same calls and capacity at any depth ------------------------------------
def seed_chats(store, user_id, n):
    at = now_iso()
    store.chats.put_bulk(user_id, [{'chat_id': new_id(), 'content': f'대화 {k:05}', 'created_at': at,
                                    'reply': {'id': new_id(), 'quote': 'q', 'description': 'd', 'scene': 1,
                                              'speaker': 's', 'created_at': at}} for k in range(n)])


def seed_proposals(store, user_id, n):
    at = now_iso()
    store.board.put_bulk([{'id': new_id(), 'user_id': user_id, 'title': f'제안 {k:05}', 'content': '대사',
                               'description': '설명', 'scene': 1, 'speaker': '백승수', 'is_apply': False,
                               'created_at': at, 'updated_at': at, 'applied_at': None} for k in range(n)])


def link(body, desc):
    return next(link['href'] for link in body['_links'] if link['desc'] == desc)


def cost(api, token, url):
    with DynamoCalls(capacity=True) as calls:
        r = api.get(url, token=token)
    assert r.status == 200, r
    return r.json, (calls.shape, calls.total_capacity)


def page_kinds(api, token, path):
    """Cost of each page kind near the start and deep into `path` (per-page 5)."""
    first, first_cost = cost(api, token, path + '?per-page=5')
    second, next_near = cost(api, token, first['next'])
    last, last_cost = cost(api, token, link(first, 'last'))
    before_last, prev_deep = cost(api, token, last['previous'])
    _, prev_near = cost(api, token, second['previous'])
    third, _ = cost(api, token, second['next'])
    _, prev_mid = cost(api, token, third['previous'])  # a `previous` that carries a cursor
    deep_prev = before_last['previous']
    _, next_deep = cost(api, token, api.get(deep_prev, token=token).json['next'])
    return {'first': first_cost, 'next': (next_near, next_deep), 'previous': (prev_mid, prev_deep),
            'previous to page 1': prev_near, 'last': last_cost}


def test_history_pages_cost_the_same_at_page_2_and_page_40(api, store):
    small, large = api.join(email='small@example.com'), api.join(email='large@example.com')
    seed_chats(store, small['user']['id'], 15)
    seed_chats(store, large['user']['id'], 200)
    near = page_kinds(api, small['access'], '/chat/model')
    deep = page_kinds(api, large['access'], '/chat/model')
    assert deep['first'] == near['first']
    assert deep['last'] == near['last']
    assert deep['next'][0] == deep['next'][1] == near['next'][0]
    assert deep['previous'][0] == deep['previous'][1] == near['previous'][0]
    assert deep['next'][0][0] == ['GetItem', 'Query(Limit=6)', 'GetItem']  # one Query of a page and one more
    assert deep['previous'][1][1] > 0  # capacity really was reported
    assert deep['last'][0] == ['GetItem', 'GetItem', 'Query(Limit=6)']  # the count, then one Query from the old end


def test_board_pages_cost_the_same_at_page_2_and_page_40(api, store):
    author = api.join(email='author@example.com')
    seed_proposals(store, author['user']['id'], 15)
    near = page_kinds(api, author['access'], '/quote')
    seed_proposals(store, author['user']['id'], 185)
    deep = page_kinds(api, author['access'], '/quote')
    assert deep['first'] == near['first']
    assert deep['next'][0] == deep['next'][1] == near['next'][0] == (
        ['GetItem', 'Query(Limit=6)', 'BatchGetItem'], deep['next'][0][1])
    assert deep['previous'][0] == deep['previous'][1] == near['previous'][0]
    assert deep['last'] == near['last']
    assert deep['last'][0] == ['GetItem', 'BatchGetItem', 'Query(Limit=6)']  # count and caller, then the page


@pytest.mark.parametrize('page, reads', [
    (2, ['Query(Limit=5)', 'Query(Limit=6)']),    # skips the 5 newest
    (39, ['Query(Limit=5)', 'Query(Limit=6)']),   # skips the 5 oldest: the nearer end
    (40, ['Query(Limit=6)']),                     # the last page: nothing to skip
    (20, ['Query(Limit=95)', 'Query(Limit=6)']),  # the middle: 95 from the new end…
    (21, ['Query(Limit=95)', 'Query(Limit=6)']),  # …or 95 from the old one
    (41, []),                                     # past the end: the count says so
])
def test_a_bare_page_number_skips_from_the_nearer_end(api, store, page, reads):
    user = api.join()
    seed_chats(store, user['user']['id'], 200)
    body, (shape, _) = cost(api, user['access'], f'/chat/model?per-page=5&page={page}')
    assert shape == ['GetItem', 'GetItem'] + reads
