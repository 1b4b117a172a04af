"""The OpenAPI document as served: publicly, and the real server's answers match it (Schemathesis).
The document itself (every route, valid 3.1, current with its builder): tests/unit/test_openapi.py."""
import json
import os
import secrets

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCUMENT = os.path.join(ROOT, 'chalicelib', 'service', 'openapi.json')

SCHEMA = schemathesis.openapi.from_path(DOCUMENT)
SCHEMA.config.phases.update(phases=['examples', 'fuzzing'])  # kept short for `make test`
# Only what the server answers is judged here (schemas, statuses, content types, no 500s);
# checks about which inputs a route accepts belong to the route's own tests.
CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance,
          schemathesis.checks.content_type_conformance, schemathesis.checks.response_schema_conformance,
          schemathesis.checks.response_headers_conformance]


def document():
    with open(DOCUMENT, encoding='utf-8') as f:
        return json.load(f)


def test_served_publicly_with_cors_and_this_servers_address(api, server):
    r = api.get('/openapi.json/', headers={'Origin': 'http://localhost:8080'})
    assert r.status == 200, r
    assert r.headers['content-type'] == 'application/json; charset=utf-8'
    assert r.headers['access-control-allow-origin'] == 'http://localhost:8080'
    assert r.json['servers'] == [{'url': server, 'description': 'this API'}]
    assert r.json['paths'] == document()['paths']
    assert api.get('/openapi.json').json['servers'][0]['url'] == server  # a fresh copy each time


# -- Schemathesis against the real local server ------------------------------------------------
@pytest.fixture
def fresh_token(api, demo):
    """A new account per example: logout or account deletion in one example spoils no other."""
    def make():
        return api.join(email=f'st-{secrets.token_hex(6)}@example.com')['access']
    return make


@SCHEMA.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_answers_match_the_document(case, server, fresh_token):
    headers = {}
    if case.operation.definition.raw.get('security') != []:
        headers['Authorization'] = 'Bearer ' + fresh_token()
    case.call_and_validate(base_url=server, headers=headers, checks=CHECKS)


class Documented:
    """Calls through the document's own operations, each answer checked against it."""
    def __init__(self, server):
        self.server = server

    def __call__(self, method, path, expect, token=None, body=None, media_type=None, query=None, **path_parameters):
        operation = SCHEMA[path][method]
        kwargs = {'path_parameters': path_parameters, 'query': query, 'media_type': media_type}
        if body is not None:
            kwargs['body'] = body
        case = operation.Case(**kwargs)
        headers = {'Authorization': 'Bearer ' + token} if token else {}
        response = case.call_and_validate(base_url=self.server, headers=headers, checks=CHECKS)
        assert response.status_code == expect, (method, path, response.status_code, response.text[:300])
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:  # the export's CSV
            return response.text


def test_every_documented_answer_of_a_real_session_matches(server, api, demo, store, configure):
    configure(REFRESH_REUSE_GRACE_SECONDS=0)  # so a reused refresh token shows its 401 at once
    """The fuzzing above rarely reaches the answers that need real ids or an admin: walk them."""
    from chalicelib.accounts import auth
    call = Documented(server)
    password = 'correct horse 1'
    call('POST', '/rest-auth/registration', 400, body={'email': 'x', 'nickname': 'n', 'password1': password,
                                                      'password2': password + '!'})
    me = call('POST', '/rest-auth/registration', 201, body={'email': 'me@example.com', 'nickname': '백승수',
                                                           'password1': password, 'password2': password})
    call('POST', '/rest-auth/registration', 409, body={'email': 'ME@example.com', 'nickname': 'n',
                                                      'password': password})
    call('POST', '/rest-auth/join', 409, body={'email': 'me@example.com', 'nickname': 'n', 'password': password})
    other = call('POST', '/rest-auth/join', 201, body={'email': 'other@example.com', 'nickname': '이세영',
                                                       'password': password})['access']
    auth.set_admin('other@example.com')
    login = call('POST', '/rest-auth/login', 200, body={'email': 'me@example.com', 'password': password})
    call('POST', '/rest-auth/login', 401, body={'email': 'me@example.com', 'password': 'wrong password'})
    call('POST', '/rest-auth/token/refresh', 200, body={'refresh': login['refresh']})
    call('POST', '/rest-auth/token/refresh', 401, body={'refresh': login['refresh']})  # rotated: reuse ends it
    token = me['access']
    call('GET', '/rest-auth/profile', 200, token=token)
    call('PUT', '/rest-auth/profile', 200, token=token, body={'nickname': '단장'})
    call('PUT', '/rest-auth/profile', 400, token=token, body={'password': 'new password 1', 'current_password': 'no'})

    for media_type in ('application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'):
        answer = call('POST', '/chat/api', 200, token=token, body={'input': '팀이 편을 갈라 싸워요'},
                      media_type=media_type)
    chat_id = answer['chat']['id']
    for scene in (1, None, 16):
        call('POST', '/chat/model', 201, token=token, body={'content': '질문', 'chat_reply': {
            'scene': scene, 'quote': '대사', 'description': '설명'}})
    first = call('GET', '/chat/model', 200, token=token)
    assert first['count'] == 6 and first['next']
    cursor = dict(p.split('=', 1) for p in first['next'].split('?', 1)[1].split('&'))['cursor']
    call('GET', '/chat/model', 200, token=token, query={'per-page': 5, 'page': 2, 'cursor': cursor})
    call('GET', '/chat/model', 400, token=token, query={'per-page': 500})
    call('GET', '/chat/model/{chat_id}', 200, token=token, chat_id=chat_id)
    call('GET', '/chat/model/{chat_id}', 404, token=other, chat_id=chat_id)
    # keeping, sharing, exporting, rating
    call('PUT', '/chat/model/{chat_id}/rating', 200, token=token, chat_id=chat_id, body={'value': -1})
    call('PUT', '/chat/model/{chat_id}/rating', 404, token=other, chat_id=chat_id, body={'value': 1})
    call('PUT', '/chat/model/{chat_id}/rating', 400, token=token, chat_id=chat_id, body={'value': 2})
    line_id = answer['line_id']
    call('PUT', '/chat/bookmarks/{line_id}', 200, token=token, line_id=line_id)
    call('PUT', '/chat/bookmarks/{line_id}', 404, token=token, line_id='no-such-line')
    assert call('GET', '/chat/bookmarks', 200, token=token)['count'] == 1
    searched = call('GET', '/chat/model', 200, token=token, query={'q': '편'})
    assert searched['count'] is None and searched['results']
    share = call('POST', '/chat/model/{chat_id}/share', 201, token=token, chat_id=chat_id, body={'include_input': True})
    call('POST', '/chat/model/{chat_id}/share', 404, token=other, chat_id=chat_id, body={})
    assert call('GET', '/share/{share_id}', 200, share_id=share['id'])['input'] == '팀이 편을 갈라 싸워요'
    call('GET', '/chat/shares', 200, token=token)
    call('GET', '/chat/export', 200, token=token, query={'format': 'json'})
    call('GET', '/chat/export', 200, token=token, query={'format': 'csv'})
    call('GET', '/chat/export', 400, token=token, query={'format': 'xml'})
    assert call('GET', '/corpus/stats', 200, token=other, query={'sort': 'given'})['results'][0]['given'] >= 1
    call('GET', '/corpus/stats', 403, token=token)
    call('DELETE', '/chat/shares/{share_id}', 204, token=token, share_id=share['id'])
    call('GET', '/share/{share_id}', 404, share_id=share['id'])
    call('DELETE', '/chat/bookmarks/{line_id}', 204, token=token, line_id=line_id)
    call('DELETE', '/chat/bookmarks/{line_id}', 404, token=token, line_id=line_id)
    call('DELETE', '/chat/model/{chat_id}', 204, token=token, chat_id=chat_id)

    proposal = call('POST', '/quote', 201, token=token,
                    body={'title': '제목', 'content': '우리는 어제보다 강해져야 합니다.',
                          'description': '다시 일어설 때', 'scene': 3})
    quote_id = proposal['id']
    assert call('GET', '/quote', 200, token=other)['results'][0]['user']['email'] == 'm***@example.com'
    call('GET', '/quote/{quote_id}', 200, token=token, quote_id=quote_id)
    call('PUT', '/quote/{quote_id}', 200, token=token, quote_id=quote_id, body={'speaker': None})
    call('PUT', '/quote/{quote_id}', 403, token=other, quote_id=quote_id, body={'title': '남의 것'})
    call('POST', '/quote/{quote_id}/apply', 403, token=token, quote_id=quote_id)
    call('POST', '/quote/{quote_id}/apply', 200, token=other, quote_id=quote_id)
    call('PUT', '/quote/{quote_id}', 409, token=token, quote_id=quote_id, body={'title': '반영 뒤'})
    call('DELETE', '/quote/{quote_id}/apply', 200, token=other, quote_id=quote_id)
    call('DELETE', '/quote/{quote_id}', 204, token=token, quote_id=quote_id)
    call('GET', '/quote/{quote_id}', 404, token=token, quote_id=quote_id)

    call('DELETE', '/chat/model', 204, token=token)
    call('POST', '/chat/delete', 204, token=token)
    again = call('POST', '/rest-auth/login', 200, body={'email': 'me@example.com', 'password': password})
    call('GET', '/rest-auth/logout', 200, token=again['access'])
    call('POST', '/rest-auth/logout', 200, token=token)
    call('GET', '/rest-auth/profile', 401, token=token)
    call('DELETE', '/rest-auth/profile', 400, token=other, body={'password': 'wrong password'})
    call('DELETE', '/rest-auth/profile', 204, token=other, body={'password': password})
    call('GET', '/health', 200)
    call('GET', '/openapi.json', 200)
