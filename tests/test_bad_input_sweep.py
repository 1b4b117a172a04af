"""Every route, fed every kind of wrong body: a 4xx with the error shape, never a 500."""
import pytest

WEIRD_VALUES = [None, True, 1.5, -1, 10 ** 30, '', ' ', 'ㄱ' * 5000, [], ['a'], {}, {'a': 'b'}, '²', '\x00']
FIELDS = ['email', 'nickname', 'password', 'password1', 'password2', 'current_password', 'refresh', 'input',
          'content', 'chat_reply', 'title', 'description', 'scene', 'speaker', 'value', 'include_input']


def bodies():
    yield from ([], 'text', 3, None)
    for field in FIELDS:
        for value in WEIRD_VALUES:
            yield {field: value}
    for value in WEIRD_VALUES:
        yield {'content': 'c', 'chat_reply': {'scene': value, 'quote': value, 'description': value, 'speaker': value}}


@pytest.fixture
def ids(api):
    token = api.join()['access']
    chat = api.post('/chat/model', {'content': 'c', 'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}},
                    token=token).json['id']
    quote = api.post('/quote', {'title': 't', 'content': 'c', 'description': 'd'}, token=token).json['id']
    return token, chat, quote


def test_no_route_answers_bad_input_with_a_500(api, demo, ids):
    token, chat, quote = ids
    routes = [('POST', '/rest-auth/join', None), ('POST', '/rest-auth/registration', None),
              ('POST', '/rest-auth/login', None), ('POST', '/rest-auth/token/refresh', None),
              ('PUT', '/rest-auth/profile', token), ('POST', '/chat/api', token), ('POST', '/chat/model', token),
              ('POST', '/quote', token), ('PUT', '/quote/' + quote, token),
              ('PUT', f'/chat/model/{chat}/rating', token), ('POST', f'/chat/model/{chat}/share', token),
              ('PUT', '/chat/bookmarks/' + demo.lines[0]['id'], token)]
    seen = 0
    for method, path, tok in routes:
        for body in bodies():
            r = api.request(method, path, body if body is not None else None, token=tok,
                            raw=b'null' if body is None else None,
                            headers={'Content-Type': 'application/json'})
            assert r.status < 500, (method, path, body, r)
            if r.status >= 400 and path == '/rest-auth/registration':  # dj-rest-auth's shape
                assert r.json and all(isinstance(v, list) for k, v in r.json.items() if k != 'detail'), r
            elif r.status >= 400:
                assert set(r.json) >= {'Code', 'Message'}, (method, path, body, r)
            seen += 1
    for query in ('?page=%00', '?per-page=1e3', '?cursor=%FF%FE', '?cursor=' + 'A' * 5000, '?page=99999999999'):
        for path in ('/chat/model', '/quote', '/chat/bookmarks', '/chat/shares', '/chat/export', '/corpus/stats',
                     '/chat/model?q=x&', '/chat/export?format=csv&'):
            r = api.get(path + (query[1:] if '?' in path else query), token=token)
            assert r.status < 500, (path, query, r)
    for path in ('/chat/model/%00', '/quote/' + 'a' * 3000, '/chat/model/..%2F..%2Fx'):
        assert api.get(path, token=token).status in (400, 403, 404)
    assert seen > 1000
    # Nothing malformed reached the account or its data.
    assert api.get('/rest-auth/profile', token=token).json['nickname'].isprintable()
    saved = api.get('/chat/model?per-page=50', token=token).json
    # Only well-formed exchanges were saved: the first one. '²' sent as an input is valid but no
    # situation: it was answered with "no line fits", which saves nothing.
    assert [c['content'] for c in saved['results']] == ['c'] and saved['count'] == 1
