"""The DynamoDB calls of each route, measured over real HTTP: one scenario shared by the test
that pins them (test_call_counts.py) and `make bench`, which prints them.

Needs a loaded corpus (POST /chat/api answers from it); makes its own accounts, so it runs on
any data. Login is measured by its own test (its throttle is counted there).
"""
import secrets
from collections.abc import Callable

from tools.devkit.dynamo_calls import DynamoCalls
from tools.devkit.http import Api

PASSWORD = 'correct horse 1'
REPLY = {'scene': 1, 'quote': '대사', 'description': '설명'}
PROPOSAL = {'title': '제목', 'content': '대사', 'description': '설명', 'scene': 3, 'speaker': '백승수'}


def _link(body, desc: str) -> str:
    return next(link['href'] for link in body['_links'] if link['desc'] == desc)


def measure(api: Api) -> dict[str, list[str]]:
    """Route → the DynamoDB operations one request made, in order (authorizer's GetItem first)."""
    from chalicelib.accounts import auth
    from chalicelib.chat import corpus
    out: dict[str, list[str]] = {}
    tag = secrets.token_hex(4)

    def run(name: str, send: Callable, status: int):
        with DynamoCalls() as calls:
            r = send()
        assert r.status == status, (name, r)
        out[name] = calls.names
        return r

    corpus.current()  # an index already built, as in any warm container
    email = f'calls-{tag}@example.com'
    joined = run('POST /rest-auth/join', lambda: api.post('/rest-auth/join', {
        'email': email, 'nickname': '측정', 'password': PASSWORD}), 201).json
    other = api.join(email=f'calls-other-{tag}@example.com', password=PASSWORD)
    admin_email = f'calls-admin-{tag}@example.com'
    admin = api.join(email=admin_email, password=PASSWORD)
    auth.set_admin(admin_email)
    token, refresh = joined['access'], joined['refresh']

    run('GET /health', lambda: api.get('/health'), 200)
    token = run('POST /rest-auth/token/refresh', lambda: api.post('/rest-auth/token/refresh', {'refresh': refresh}),
                200).json['access']
    run('GET /rest-auth/profile', lambda: api.get('/rest-auth/profile', token=token), 200)
    run('PUT /rest-auth/profile (nickname)', lambda: api.put('/rest-auth/profile', {'nickname': '새이름'},
                                                             token=token), 200)
    run('PUT /rest-auth/profile (password)', lambda: api.put('/rest-auth/profile', {
        'password': PASSWORD + '!', 'current_password': PASSWORD}, token=token), 200)

    chat = run('POST /chat/api', lambda: api.post('/chat/api', {'input': '상사가 부당한 일을 시켜요'}, token=token),
               200).json['chat']
    for i in range(11):
        run('POST /chat/model', lambda i=i: api.post('/chat/model', {'content': f'대화 {i}', 'chat_reply': REPLY},
                                                     token=token), 201)
    first = run('GET /chat/model (first page)', lambda: api.get('/chat/model', token=token), 200).json
    second = run('GET /chat/model (next)', lambda: api.get(first['next'], token=token), 200).json
    last = run('GET /chat/model (last page)', lambda: api.get(_link(first, 'last'), token=token), 200).json
    run('GET /chat/model (previous)', lambda: api.get(last['previous'], token=token), 200)
    run('GET /chat/model (self of a page)', lambda: api.get(_link(second, 'self'), token=token), 200)
    run('GET /chat/model/{id}', lambda: api.get('/chat/model/' + chat['id'], token=token), 200)
    run('GET /chat/model?q= (search)', lambda: api.get('/chat/model?q=%EB%B6%80%EB%8B%B9', token=token), 200)
    run('PUT /chat/model/{id}/rating', lambda: api.put(f"/chat/model/{chat['id']}/rating", {'value': 1},
                                                       token=token), 200)
    line = chat['chat_reply']['line_id']
    run('PUT /chat/bookmarks/{line}', lambda: api.put('/chat/bookmarks/' + line, token=token), 200)
    run('PUT /chat/bookmarks/{line} (again)', lambda: api.put('/chat/bookmarks/' + line, token=token), 200)
    run('GET /chat/bookmarks', lambda: api.get('/chat/bookmarks', token=token), 200)
    share = run('POST /chat/model/{id}/share', lambda: api.post(f"/chat/model/{chat['id']}/share", token=token),
                201).json
    run('GET /share/{id}', lambda: api.get('/share/' + share['id']), 200)
    run('GET /chat/shares', lambda: api.get('/chat/shares', token=token), 200)
    run('GET /chat/export (first part)', lambda: api.get('/chat/export?format=csv', token=token), 200)
    run('DELETE /chat/shares/{id}', lambda: api.delete('/chat/shares/' + share['id'], token=token), 204)
    api.post(f"/chat/model/{chat['id']}/share", token=token)  # deleting the chat takes this one along
    run('DELETE /chat/bookmarks/{line}', lambda: api.delete('/chat/bookmarks/' + line, token=token), 204)
    run('GET /corpus/stats', lambda: api.get('/corpus/stats', token=admin['access']), 200)
    run('DELETE /chat/model/{id}', lambda: api.delete('/chat/model/' + chat['id'], token=token), 204)
    run('DELETE /chat/model', lambda: api.delete('/chat/model', token=token), 204)
    api.post('/chat/model', {'content': '하나 더', 'chat_reply': REPLY}, token=token)
    run('POST /chat/delete', lambda: api.post('/chat/delete', token=token), 204)

    theirs = api.post('/quote', dict(PROPOSAL, title='남의 제안'), token=other['access']).json
    for i in range(11):
        mine = run('POST /quote', lambda i=i: api.post('/quote', dict(PROPOSAL, title=f'제안 {i}'), token=token),
                   201).json
    first = run('GET /quote (first page)', lambda: api.get('/quote', token=token), 200).json
    run('GET /quote (next)', lambda: api.get(first['next'], token=token), 200)
    last = run('GET /quote (last page)', lambda: api.get(_link(first, 'last'), token=token), 200).json
    run('GET /quote (previous)', lambda: api.get(last['previous'], token=token), 200)
    run('GET /quote/{id} (another\'s)', lambda: api.get('/quote/' + theirs['id'], token=token), 200)
    run('PUT /quote/{id}', lambda: api.put('/quote/' + mine['id'], {'title': '고침'}, token=token), 200)
    run('POST /quote/{id}/apply', lambda: api.post(f"/quote/{theirs['id']}/apply", token=admin['access']), 200)
    run('DELETE /quote/{id}/apply', lambda: api.delete(f"/quote/{theirs['id']}/apply", token=admin['access']), 200)
    run('DELETE /quote/{id}', lambda: api.delete('/quote/' + mine['id'], token=token), 204)
    run('POST /rest-auth/logout', lambda: api.post('/rest-auth/logout', token=token), 200)
    for i in range(3):  # what the account owns does not add calls: the purge removes it later
        api.post('/chat/model', {'content': f'떠나기 전 {i}', 'chat_reply': REPLY}, token=other['access'])
    run('DELETE /rest-auth/profile', lambda: api.delete('/rest-auth/profile', {'password': PASSWORD},
                                                        token=other['access']), 204)
    return out
