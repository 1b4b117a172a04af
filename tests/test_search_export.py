"""Searching one's history and exporting it, through the real HTTP server; large histories are
written with store.chats.put_bulk."""
import csv
import io
import secrets
import time

import pytest

from chalicelib.core.ids import now_iso


@pytest.fixture
def user(api, demo):
    return api.join()


@pytest.fixture
def token(user):
    return user['access']


def save(api, token, content, quote='q', description='d'):
    r = api.post('/chat/model', {'content': content, 'chat_reply': {'scene': 3, 'quote': quote,
                                                                     'description': description}}, token=token)
    assert r.status == 201, r
    return r.json['id']


def seed(store, user_id, n, content=lambda k: f'chat {k}', quote='q', description='d'):
    """n chats, oldest first, with ids one microsecond apart (so their order is known)."""
    base, at = time.time_ns() // 1000 - n, now_iso()
    chats = [{'chat_id': f'{base + k:014x}{secrets.token_hex(4)}', 'content': content(k), 'created_at': at,
              'reply': {'id': f'{base + k:014x}{secrets.token_hex(4)}', 'quote': quote, 'description': description,
                        'scene': 1 + k % 16, 'speaker': '백승수', 'created_at': at, 'source': 'client'}}
             for k in range(n)]
    store.chats.put_bulk(user_id, chats)
    return [c['chat_id'] for c in chats]


def search(api, token, q, extra=''):
    r = api.get(f'/chat/model?q={q}{extra}', token=token)
    assert r.status == 200, r
    return r.json


# -- search -----------------------------------------------------------------------------------
def test_search_finds_words_in_the_input_or_the_line_korean_substrings_too(api, token):
    from urllib.parse import quote as enc
    a = save(api, token, '팀장님이 부당한 일을 시켜요', quote='부당한 일은 거절하세요')
    b = save(api, token, '시험에 떨어졌어요', quote='핑계는 무기가 되지 않습니다')
    c = save(api, token, '오늘은 그냥 지쳤어요', quote='부당하다고 느끼면 말하세요')
    d = save(api, token, 'Team lead is unfair', quote='q')
    assert [x['id'] for x in search(api, token, enc('부당'))['results']] == [c, a]  # newest first
    assert [x['id'] for x in search(api, token, enc('핑계'))['results']] == [b]      # in the line only
    assert [x['id'] for x in search(api, token, enc('부당 팀장'))['results']] == [a]  # every word
    assert [x['id'] for x in search(api, token, enc('  떨어졌  '))['results']] == [b]
    assert [x['id'] for x in search(api, token, 'unfair')['results']] == [d]
    assert search(api, token, enc('없는말'))['results'] == []
    assert search(api, token, enc('부당'))['count'] is None
    everything = api.get('/chat/model?q=', token=token).json  # an empty search is the history
    assert everything['count'] == 4 and len(everything['results']) == 4


def test_search_pages_keep_the_words(api, token):
    ids = [save(api, token, f'부당한 일 {i}') for i in range(7)] + [save(api, token, '다른 일')]
    first = search(api, token, '%EB%B6%80%EB%8B%B9')  # 부당
    assert [x['id'] for x in first['results']] == ids[:7][::-1][:5]
    assert 'q=%EB%B6%80%EB%8B%B9' in first['next'] and 'cursor=' in first['next']
    second = api.get(first['next'], token=token).json
    assert [x['id'] for x in second['results']] == ids[:7][::-1][5:] and second['next'] is None
    assert 'q=%EB%B6%80%EB%8B%B9' in second['previous']
    assert [x['id'] for x in api.get(second['previous'], token=token).json['results']] == ids[:7][::-1][:5]
    by_number = search(api, token, '%EB%B6%80%EB%8B%B9', '&page=2')
    assert [x['id'] for x in by_number['results']] == ids[:7][::-1][5:]


def test_search_never_shows_anyone_elses_chats(api, token):
    save(api, token, '비밀 이야기')
    other = api.join(email='other@example.com')['access']
    assert search(api, other, '%EB%B9%84%EB%B0%80')['results'] == []


@pytest.mark.parametrize('q', ['%EA%B0%80' * 101, 'a+b+c+d+e+f', '%00', '%EB%B6%80%0A%EB%B6%80'])
def test_bad_searches_are_400(api, token, q):
    r = api.get('/chat/model?q=' + q, token=token)
    assert r.status == 400, r
    assert 'q' in r.json['Fields']


def test_each_search_request_reads_a_bounded_part_of_a_long_history(api, store, user, token, monkeypatch):
    from chalicelib.chat import chats
    uid = user['user']['id']
    ids = seed(store, uid, 2500, content=lambda k: f'오래된 비밀 {k}' if k < 2 else f'chat {k}')
    read = []
    real = store.db.chats.query

    def counting(**kwargs):
        resp = real(**kwargs)
        read[-1] += resp['ScannedCount']
        return resp
    monkeypatch.setattr(store.db.chats, 'query', counting)

    found, url, requests = [], '/chat/model?q=%EB%B9%84%EB%B0%80', 0  # 비밀: only the two oldest
    while url:
        read.append(0)
        page = api.get(url, token=token).json
        found += [x['id'] for x in page['results']]
        url, requests = page['next'], requests + 1
        assert read[-1] <= chats.SEARCH_READ_BUDGET + 1
    assert found == [ids[1], ids[0]]
    assert requests == 3  # 1,000 + 1,000 + 500 chats read


# -- export -----------------------------------------------------------------------------------
def parts(api, token, fmt):
    url, out = '/chat/export?format=' + fmt, []
    while url:
        r = api.get(url, token=token, headers={'Origin': 'http://localhost:8080'})
        assert r.status == 200, r
        assert {'Link', 'Content-Disposition'} <= set(r.headers['access-control-expose-headers'].split(', '))
        out.append(r)
        if fmt == 'json':
            url = r.json['next']
        else:
            link = r.headers.get('link')
            url = link[1:link.index('>')] if link else None
            assert not link or link.endswith('; rel="next"')
    return out


def csv_rows(r):
    text = r.raw.decode('utf-8')
    assert text.startswith('\ufeff')  # Excel reads UTF-8 (and Korean) only with the BOM
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_export_json_and_csv_with_bookmarks(api, demo, token):
    from urllib.parse import quote as enc
    r = api.post('/chat/api', {'input': '상사가 부당한 일을 시켜요'}, token=token)
    line_id = r.json['chat']['chat_reply']['line_id']
    api.put(f"/chat/model/{r.json['chat']['id']}/rating", {'value': 1}, token=token)
    save(api, token, '=HYPERLINK("http://x")', quote='따옴표 "그리고" 쉼표, 줄바꿈\n도')
    api.put('/chat/bookmarks/' + enc(line_id), token=token)

    [j] = parts(api, token, 'json')
    assert 'attachment' in j.headers['content-disposition'] and j.headers['content-type'].startswith('application/json')
    body = j.json
    assert body['next'] is None and len(body['chats']) == 2
    assert body['chats'][1]['chat_reply']['rating'] == 1 and body['chats'][1]['content'] == '상사가 부당한 일을 시켜요'
    assert body['chats'][0]['content'] == '=HYPERLINK("http://x")'  # JSON keeps the data as it is
    assert [b['line']['id'] for b in body['bookmarks']] == [line_id] and body['bookmarks'][0]['times_given'] == 1

    [c] = parts(api, token, 'csv')
    assert c.headers['content-type'] == 'text/csv; charset=utf-8' and '.csv' in c.headers['content-disposition']
    rows = csv_rows(c)
    assert [r['type'] for r in rows] == ['bookmark', 'chat', 'chat']
    assert rows[0]['line_id'] == line_id and rows[0]['times_given'] == '1'
    assert rows[2]['input'] == '상사가 부당한 일을 시켜요' and rows[2]['rating'] == '1'
    assert rows[1]['quote'] == '따옴표 "그리고" 쉼표, 줄바꿈\n도'
    assert rows[1]['input'] == '\'=HYPERLINK("http://x")'  # a spreadsheet must not run it as a formula


def test_export_of_thousands_of_chats_comes_in_parts_of_at_most_1000(api, store, user, token):
    ids = seed(store, user['user']['id'], 2500)
    json_parts = parts(api, token, 'json')
    assert [len(p.json['chats']) for p in json_parts] == [1000, 1000, 500]
    assert [c['id'] for p in json_parts for c in p.json['chats']] == ids[::-1]
    assert all(len(p.raw) < 6 * 1024 * 1024 for p in json_parts)
    assert json_parts[1].json['bookmarks'] == [] and 'export-2.json' in json_parts[1].headers['content-disposition']
    csv_parts = parts(api, token, 'csv')
    assert [len(csv_rows(p)) for p in csv_parts] == [1000, 1000, 500]
    assert [r['id'] for p in csv_parts for r in csv_rows(p)] == ids[::-1]


def test_an_export_part_stays_under_lambdas_size_limit_with_long_chats(api, store, user, token):
    from chalicelib.keep import export
    seed(store, user['user']['id'], 700, content=lambda k: (f'{k} 긴 고민 ' + '가' * 1000)[:1000],
               quote='나' * 500, description='다' * 1000)  # ~7.6 kB a chat: 700 would be 5.3 MB
    for fmt in ('json', 'csv'):
        got = parts(api, token, fmt)
        assert len(got) == 2 and all(len(p.raw) <= export.PART_BYTES for p in got)
        counts = [len(p.json['chats']) if fmt == 'json' else len(csv_rows(p)) for p in got]
        assert sum(counts) == 700 and counts[0] < 700


@pytest.mark.parametrize('query, field', [('?format=xml', 'format'), ('?format=csv&cursor=%FF', None),
                                          ('?format=json&cursor=' + 'A' * 40, None)])
def test_bad_export_requests_are_400(api, token, query, field):
    r = api.get('/chat/export' + query, token=token)
    assert r.status == 400, r
    if field:
        assert field in r.json['Fields']


def test_export_is_the_callers_own(api, token):
    save(api, token, '내 이야기')
    other = api.join(email='other@example.com')['access']
    body = api.get('/chat/export', token=other).json
    assert body == {'chats': [], 'bookmarks': [], 'next': None}
    assert api.get('/chat/export').status == 401
