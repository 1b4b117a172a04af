"""A property-based sweep over every route and method, against the real server: whatever
arrives (any body, type, token, id, query), the answer is never a 5xx and its body is JSON
(or empty, for 204 and HEAD). `make test` runs a small sweep; `make fuzz` (FUZZ_EXAMPLES=6000)
a big one that prints how many requests got which status."""
import base64
import collections
import json
import os
import re
import time
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.devkit.http import Api

EXAMPLES = int(os.environ.get('FUZZ_EXAMPLES', '300'))
PASSWORD = 'correct horse 1'
FIELDS = ['email', 'nickname', 'password', 'password1', 'password2', 'current_password', 'refresh', 'input',
          'content', 'chat_reply', 'title', 'description', 'scene', 'speaker', 'quote', 'exclude', 'value']
ENDS_SESSIONS = {'/rest-auth/profile', '/rest-auth/logout', '/rest-auth/token/refresh'}  # reuse of a refresh token
METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']

# Text as hostile clients send it: any code point, lone surrogates included, and the values
# that make requests valid often enough to reach the deeper code.
HOSTILE = ['', ' ', PASSWORD, 'new password 2', 'fuzz1@example.com', 'x\ud800@example.com', '백승수', '가' * 1001,
           '\ud800', 'password \udfff', '²', '0' * 22, '<script>', '\x00', 'a' * 300, '\u2028', '😀']
text = st.one_of(st.sampled_from(HOSTILE), st.text(st.characters(codec=None), max_size=40))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70), st.floats(allow_nan=False), text)
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(text, inner, max_size=4)), max_leaves=12)
# mostly the fields routes read, holding text: what gets past the first checks
json_objects = st.one_of(st.dictionaries(st.sampled_from(FIELDS), st.one_of(text, text, json_values),
                                         min_size=1, max_size=6),
                         st.dictionaries(text, json_values, max_size=5))


def dumps(value) -> bytes:
    return json.dumps(value).encode('ascii')  # ensure_ascii: surrogates travel as \\udXXX escapes


deep = st.sampled_from([b'[' * 3000 + b']' * 3000, b'{"input":' * 1500 + b'1' + b'}' * 1500, b'[' * 17 + b']' * 17])
form = st.dictionaries(st.sampled_from(FIELDS), text, max_size=3).map(
    lambda d: '&'.join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in d.items()).encode())
part_types = st.sampled_from(['text/plain', 'multipart/mixed; boundary=in', 'message/rfc822',
                              'application/octet-stream', 'text/plain; charset=x-unknown', ''])
multipart = st.tuples(st.sampled_from(['input', 'other', '']), part_types, st.binary(max_size=60)).map(
    lambda p: b'--B\r\nContent-Disposition: form-data; name="%s"\r\n%s\r\n\r\n%s\r\n--B--\r\n'
              % (p[0].encode(), (b'Content-Type: ' + p[1].encode()) if p[1] else b'', p[2]))
bodies = st.one_of(st.none(), json_objects.map(dumps), json_values.map(dumps), st.binary(max_size=200), deep, form,
                   multipart)
content_types = st.sampled_from(['application/json', 'application/x-www-form-urlencoded',
                                 'multipart/form-data; boundary=B', 'multipart/form-data', 'text/plain',
                                 'application/json; charset=latin-1', None])
queries = st.dictionaries(st.sampled_from(['page', 'per-page', 'per_page', 'cursor', 'q', 'format', 'x']),
                          st.one_of(text, st.integers(-5, 10 ** 12).map(str),
                                    st.binary(max_size=300).map(lambda b: base64.urlsafe_b64encode(b).decode())),
                          max_size=3)


def valid_bodies(world) -> dict:
    """A well-formed body for each route that reads one, so one hostile field reaches deep code."""
    proposal = {'title': '제목', 'content': '대사', 'description': '설명', 'scene': 3, 'speaker': '백승수'}
    return {
        '/rest-auth/join': {'email': 'new@example.com', 'nickname': '닉', 'password': PASSWORD},
        '/rest-auth/registration': {'email': 'old@example.com', 'nickname': '닉', 'password1': PASSWORD,
                                    'password2': PASSWORD},
        '/rest-auth/login': {'email': f'fuzz{world.n}@example.com', 'password': PASSWORD},
        '/rest-auth/token/refresh': {'refresh': world.refresh},
        '/rest-auth/profile': {'nickname': '닉', 'password': 'new password 2', 'current_password': PASSWORD},
        '/chat/api': {'input': '상사가 부당한 일을 시켜요'},
        '/chat/model': {'content': '힘들어요', 'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}},
        '/quote': proposal, '/quote/{quote_id}': proposal,
    }


def mutated(world, template):
    """The route's valid body with some fields dropped or made hostile."""
    base = valid_bodies(world).get(template, {'input': 'x'})
    return st.fixed_dictionaries({k: st.one_of(st.just(v), text, json_values, st.just(None)) for k, v in base.items()})


class World:
    """The accounts and data the sweep acts on; remade when a request ends them."""

    def __init__(self, api: Api):
        self.api, self.n = api, 0
        from chalicelib.accounts import auth
        admin = api.join(email='admin@example.com', nickname='관리자', password=PASSWORD)
        auth.set_admin('admin@example.com')
        self.admin = admin['access']
        self.remake()

    def remake(self):
        self.n += 1
        joined = self.api.join(email=f'fuzz{self.n}@example.com', nickname='퍼즈', password=PASSWORD)
        self.access, self.refresh = joined['access'], joined['refresh']
        reply = {'scene': 1, 'quote': 'q', 'description': 'd'}
        self.chat = self.api.post('/chat/model', {'content': 'c', 'chat_reply': reply}, token=self.access).json['id']
        self.quote = self.api.post('/quote', {'title': 't', 'content': 'c', 'description': 'd'},
                                   token=self.access).json['id']

    def ids(self):
        return st.sampled_from([self.chat, self.quote, '0' * 22, 'ffffffffffffffffffffff'])

    def tokens(self):
        return st.sampled_from([self.access] * 4 + [self.admin] * 2
                               + [self.refresh, None, 'garbage', self.access + 'x'])


def test_no_request_gets_a_5xx_or_a_non_json_body(api, demo, configure, capsys):
    configure(SIGNUP_LIMIT_PER_HOUR=0, CHAT_LIMIT_PER_MINUTE=0, CHAT_LIMIT_PER_DAY=0, BOARD_POST_LIMIT_PER_HOUR=0,
              KEEP_LIMIT_PER_MINUTE=0, KEEP_LIMIT_PER_DAY=0)
    from app import app
    world = World(api)
    templates = sorted(app.routes)
    statuses = collections.Counter()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize='FUZZ_SEED' not in os.environ,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def sweep(data):
        template = data.draw(st.sampled_from(templates + ['/no/such/route']), 'route')
        path = re.sub(r'\{[^}]+\}', lambda _: data.draw(st.one_of(
            world.ids(), text.filter(bool).map(lambda t: quote(t.encode('utf-8', 'surrogatepass'), safe=''))),
            'id'), template)
        path += data.draw(st.sampled_from(['', '/']), 'slash')
        query = data.draw(queries, 'query')
        if query:
            path += '?' + '&'.join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}"
                                   for k, v in query.items())
        # mostly what the route takes, so the sweep gets past routing into our own code
        allowed = sorted(set(app.routes.get(template, {})) - {'OPTIONS'}) or METHODS
        method = data.draw(st.sampled_from(allowed * 6 + METHODS), 'method')
        headers = {}
        ctype = data.draw(st.one_of(st.just('application/json'), content_types), 'content-type')
        if ctype:
            headers['Content-Type'] = ctype
        body = data.draw(st.one_of(mutated(world, template).map(dumps), mutated(world, template).map(dumps),
                                   json_objects.map(dumps), bodies)
                         if ctype == 'application/json' else bodies, 'body')
        token = data.draw(world.tokens(), 'token')
        if data.draw(st.booleans(), 'origin'):
            headers['Origin'] = data.draw(st.sampled_from(['http://localhost:8080', 'https://evil.example', 'null']))
        r = api.request(method, path, token=token, headers=headers, raw=body)
        statuses[r.status] += 1
        assert r.status < 500, (method, path, r)
        if method != 'HEAD' and r.status != 204:
            json.loads(r.raw.decode('utf-8'))  # raises on a body that is not JSON
        if template in ENDS_SESSIONS and api.get('/rest-auth/profile', token=world.access).status != 200:
            world.remake()  # the sweep logged out or deleted its account: carry on with a new one

    started = time.monotonic()
    try:
        sweep()
    finally:
        with capsys.disabled():
            by_status = ', '.join(f'{n}×{s}' for s, n in sorted(statuses.items()))
            print(f'\nfuzz: {sum(statuses.values())} requests in {time.monotonic() - started:.0f} s, '
                  f'by status: {by_status}')
    assert sum(statuses.values()) >= EXAMPLES
