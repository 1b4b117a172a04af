"""Write chalicelib/service/openapi.json: the OpenAPI 3.1 document of every route in app.py.

    python -m tools.build_openapi          # `make openapi`: rewrite the document
    python -m tools.build_openapi --check  # exit 1 if chalicelib/service/openapi.json is not what this writes

To document a new route: add one `op(...)` to OPERATIONS (its path as app.py spells it, without
the trailing slash), add any new schema to SCHEMAS, run `make openapi`. tests/unit/test_openapi.py
names every route that app.py and the document disagree on, and checks the document is current.
"""
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from chalicelib.accounts import contract as accounts
from chalicelib.board import contract as board
from chalicelib.chat import contract as chat
from chalicelib.core.contract import ID, TIMESTAMP, Schema, integer, nullable, obj, ref, string
from chalicelib.keep import contract as keep

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'chalicelib', 'service', 'openapi.json')



# -- schema helpers (core/contract.py: the features declare their fields and shapes with them) -------
def page_of(item: str) -> Schema:
    return obj(['*'],
               count=integer(0, description='items in the whole collection'),
               next=nullable(string(format='uri', description='the next page (carries a `cursor`), null on the last')),
               previous=nullable(string(format='uri', description='the previous page, null on the first')),
               results={'type': 'array', 'items': ref(item)},
               _links=ref('Links'))


RATING = chat.RATING
SHARE_ID = keep.SHARE_ID
SCENE = chat.SCENE.schema()
EMAIL = accounts.EMAIL_SCHEMA
SOURCES = chat.SOURCES
NICKNAME = accounts.NICKNAME.schema()
PASSWORD = accounts.PASSWORD_SCHEMA
SECRET = accounts.SECRET.schema()

SCHEMAS: dict[str, Schema] = {
    # errors
    'Error': obj(['Code', 'Message'], 'Every error but those of POST /rest-auth/registration.',
                 Code=string(1, description='Chalice\'s error code, e.g. BadRequestError'),
                 Message=string(1, description='what went wrong, in Korean, for people'),
                 Fields={'type': 'object', 'additionalProperties': {'type': 'string'},
                         'description': 'validation errors: JSON field name → message'},
                 RequestId=string(description='the X-Request-Id of this answer, to quote to an operator')),
    'FieldErrors': {
        'type': 'object', 'minProperties': 1,
        'description': 'dj-rest-auth\'s error shape (POST /rest-auth/registration only): each field as '
                       'the request named it (`password1`, `password2` when sent) → its messages; an '
                       'error about no field is {"detail": "…"}.',
        'properties': {'detail': string(1)},
        'additionalProperties': {'type': 'array', 'items': {'type': 'string'}, 'minItems': 1},
    },
    'Link': obj(['*'], desc=string(1), href=string(format='uri'),
                method={'type': 'string', 'enum': ['GET', 'POST', 'PUT', 'DELETE']}),
    'Links': {'type': 'array', 'items': ref('Link'),
              'description': 'HATEOAS: what the caller may do next (only what it is allowed to)'},
    # accounts
    'User': accounts.USER.schema(),
    'Profile': accounts.PROFILE.schema(),
    'Session': obj(['*'], user=ref('User'), access=string(1, description='JWT access token (has `exp`)'),
                   refresh=string(1, description='refresh token'), _links=ref('Links')),
    'Login': obj(['*'], access=string(1), refresh=string(1), token_type={'type': 'string', 'const': 'Bearer'},
                 expires_in=integer(1, description='seconds the access token lives'), user=ref('User'),
                 _links=ref('Links')),
    'TokenPair': obj(['*'], access=string(1), refresh=string(1, description=(
        'a new refresh token (the one sent stops working); in legacy mode the same one'))),
    'Detail': obj(['detail'], detail=string(1)),
    'JoinRequest': obj(['*'], email=EMAIL, nickname=NICKNAME, password=PASSWORD),
    'RegistrationRequest': dict(
        obj(['email', 'nickname'], 'The join fields, or the original sign-up form\'s two passwords.',
            email=EMAIL, nickname=NICKNAME, password=PASSWORD, password1=PASSWORD,
            password2=string(description='must equal password1')),
        anyOf=[{'required': ['password']}, {'required': ['password1', 'password2']}]),
    'LoginRequest': obj(['*'], email=EMAIL, password=SECRET),
    'RefreshRequest': obj(['*'], refresh=accounts.REFRESH.schema()),
    'ProfileUpdate': obj([], 'At least one of nickname and password; a new password needs current_password.',
                         nickname=NICKNAME, password=PASSWORD, current_password=SECRET),
    'PasswordConfirm': obj(['*'], password=SECRET),
    # chatbot
    'ChatRequest': obj(['input'], input=chat.INPUT.schema(),
                       exclude={'type': 'array', 'maxItems': chat.EXCLUDE_MAX, 'items': string(1, chat.LINE_ID_MAX),
                                'description': 'line_ids already shown for this input: ask for another line'}),
    'ChatForm': obj(['*'], 'The original chatbot view\'s form: `input` only.',
                    input=chat.INPUT.schema()),
    'ChatReply': chat.CHAT_REPLY.schema(),
    'Chat': chat.CHAT.schema(),
    'ChatAnswer': obj(['*'], fits={'type': 'boolean', 'const': True}, scene=nullable(SCENE), quote=string(1),
                      description=string(1),
                      speaker=nullable(string(1)), line_id=nullable(string(1, description='the corpus line')),
                      sources=SOURCES,
                      source={'type': 'string', 'enum': ['openai', 'local']},
                      grounded={'type': 'boolean', 'description': 'false only if the corpus is empty and the model '
                                                                  'answered from its own recollection'},
                      chat=ref('Chat'), _links=ref('Links')),
    'NoLineFits': obj(['*'], 'The input is no situation or feeling (a question, a greeting, keyboard mash): '
                             'no line, what to write instead and example prompts; nothing is saved, the chat '
                             'limits still count.',
                      fits={'type': 'boolean', 'const': False}, message=string(1),
                      suggestions={'type': 'array', 'items': string(1), 'minItems': 1},
                      source={'type': 'string', 'enum': ['openai', 'local'],
                              'description': 'who judged: the local matcher, or the model answering "none"'},
                      _links=ref('Links')),
    'LegacyChatAnswer': {
        'type': 'string', 'contentMediaType': 'application/json',
        'contentSchema': obj(['*'], scene=nullable(SCENE), quote=string(1), description=string(1)),
        'description': 'Legacy mode only (a request from a LEGACY_ORIGINS origin): the answer JSON-encoded '
                       'as a JSON string, as the original Django view sent it; nothing is saved.',
    },
    'ChatSave': obj(['*'], content=string(1, chat.INPUT.max_len),
                    chat_reply=obj(['quote', 'description'], quote=chat.QUOTE.schema(),
                                   description=chat.DESCRIPTION.schema(), scene=nullable(SCENE),
                                   speaker=nullable(chat.SPEAKER.schema()))),
    'ChatPage': dict(page_of('Chat'), properties=dict(page_of('Chat')['properties'], count=nullable(integer(
        0, description='items in the whole collection; null for a search (`q`), whose size only reading '
                       'the whole history would tell')))),
    # keeping, sharing, exporting, rating
    'RatingRequest': obj(['*'], value=RATING),
    'Line': chat.LINE.schema(),
    'Bookmark': keep.BOOKMARK.schema(),
    'BookmarkPage': page_of('Bookmark'),
    'ShareRequest': obj([], include_input={'type': 'boolean', 'description': 'show my question on the card '
                                                                             '(default false)'}),
    'Share': keep.SHARE.schema(),
    'SharePage': page_of('Share'),
    'SharedCard': obj(['scene', 'speaker', 'quote', 'description', 'sources', 'created_at'],
                      'Never who shared it.', scene=nullable(SCENE), speaker=nullable(string(1)), quote=string(1),
                      description=string(1, description='why it fits; the line\'s own description unless the '
                                                        'question is shared too'),
                      sources=SOURCES, created_at=TIMESTAMP,
                      input=string(1, description='the owner\'s question, only if they chose to include it')),
    'Export': obj(['*'], 'One part of everything of mine: at most 1,000 chats (and under 4.5 MB).',
                  chats={'type': 'array', 'maxItems': 1000,
                         'items': obj(['id', 'user', 'content', 'created_at', 'chat_reply'], id=ID, user=ID,
                                      content=string(1), created_at=TIMESTAMP, chat_reply=ref('ChatReply'))},
                  bookmarks={'type': 'array', 'description': 'all of them in the first part, none in the others',
                             'items': obj(['line', 'times_given', 'created_at'], line=ref('Line'),
                                          times_given=integer(0), created_at=TIMESTAMP)},
                  next=nullable(string(format='uri', description='the next part, null on the last'))),
    'LineStats': obj(['*'], line=ref('Line'), given=integer(0, description='times the bot gave this line'),
                     up=integer(0, description='👍 on those answers'),
                     down=integer(0, description='👎 on those answers')),
    'LineStatsPage': page_of('LineStats'),
    # quote request board
    'QuoteAuthor': board.AUTHOR.schema(),
    'Quote': board.PROPOSAL.schema(),
    'QuoteCreate': board.CREATE,
    'QuoteUpdate': board.UPDATE,
    'QuotePage': page_of('Quote'),
    # service
    'Health': obj(['*'], status={'type': 'string', 'enum': ['ok', 'degraded']},
                  store=obj(['*'], dynamodb={'type': 'string', 'enum': ['ok', 'down']}),
                  model=obj(['*'], answerer={'type': 'string', 'enum': ['openai', 'local']}, model=string(1),
                            matcher=string(1, description='what ranks the lines: by meaning (the embedding '
                                                          'model) and spelling, or spelling only when the '
                                                          'model could not load'))),
    'OpenApiDocument': obj(['openapi', 'info', 'paths'], openapi=string(1), info={'type': 'object'},
                           paths={'type': 'object'}),
}

RETRY_AFTER = {'Retry-After': {'description': 'seconds to wait before trying again',
                               'schema': {'type': 'string', 'pattern': '^[0-9]+$'}}}

ERRORS = {  # status → (component name, description, headers)
    400: ('BadRequest', 'Malformed JSON, a wrong type, a missing field or an over-long value; '
                        '`Fields` names each bad field. Nothing was changed.', None),
    401: ('Unauthorized', 'Missing, malformed, expired, tampered or revoked token (or wrong credentials).', None),
    403: ('Forbidden', 'Allowed to see it, not to do this (e.g. not the author, not an admin).', None),
    404: ('NotFound', 'No such resource, or someone else\'s: both look the same.', None),
    409: ('Conflict', 'The request conflicts with the current state (e.g. email taken, proposal applied).', None),
    415: ('UnsupportedMediaType', 'A Content-Type this route does not read.', None),
    429: ('TooManyRequests', 'A limit was reached; `Retry-After` says how long to wait.', RETRY_AFTER),
    502: ('BadGateway', 'The model failed or answered off-format; nothing was saved.', None),
    503: ('ServiceUnavailable', 'The store or the model is unavailable or busy; nothing was lost.', RETRY_AFTER),
    504: ('GatewayTimeout', 'The model took too long; nothing was saved.', RETRY_AFTER),
}


def _error_response(status: int, schema: str = 'Error') -> dict[str, Any]:
    name, description, headers = ERRORS[status]
    out: dict[str, Any] = {'description': description,
                           'content': {'application/json': {'schema': ref(schema)}}}
    if headers:
        out['headers'] = headers
    return out


def _json(schema: Schema) -> dict[str, Any]:
    return {'application/json': {'schema': schema}}


def param(name: str, where: str, schema: Schema, description: str, required: bool = False) -> dict[str, Any]:
    return {'name': name, 'in': where, 'required': required or where == 'path', 'description': description,
            'schema': schema}


PAGE_PARAMS = [
    param('page', 'query', integer(1, 1_000_000), 'page number (default 1); past the end is an empty page'),
    param('per-page', 'query', integer(5, 50), 'items per page (default 5)'),
    param('per_page', 'query', integer(5, 50), 'the same as per-page'),
    param('cursor', 'query', string(1), 'opaque position from a `next` link: following `next` costs the '
                                        'same at any depth'),
]
CHAT_ID = param('chat_id', 'path', ID, 'id of one of the caller\'s chats')
LINE_ID = param('line_id', 'path', string(1, 80), 'id of a corpus line (`line_id` of an answer)')
SHARE_ID_PARAM = param('share_id', 'path', SHARE_ID, 'id of a share link')
SEARCH = param('q', 'query', string(0, 100), 'keep the chats whose input or line contains every word (up to 5; '
                                             'substrings, so Korean works). A page reads at most 1,000 chats and may '
                                             'come back short, even empty, with `next`; count is null')
QUOTE_ID = param('quote_id', 'path', ID, 'id of a proposal')


# -- operations --------------------------------------------------------------------------------
def op(path: str, method: str, summary: str, tag: str, ok: int = 200, answer: Schema | None = None,
       body: Schema | None = None, public: bool = False, errors: Sequence[int] = (),
       params: Sequence[dict[str, Any]] = (), description: str | None = None,
       error_schema: str = 'Error', ok_description: str = 'OK', form: Schema | None = None) -> dict[str, Any]:
    """One operation. Added for you: 401 if it needs a login, 400 and 415 if it takes a body,
    400 if it takes query parameters, 503 always (an unavailable table)."""
    codes = set(errors) | {503}
    if not public:
        codes.add(401)
    if body is not None:
        codes |= {400, 415}
    if any(p['in'] == 'query' for p in params):
        codes.add(400)
    responses: dict[str, Any] = {str(ok): {'description': ok_description}}
    if answer is not None:
        responses[str(ok)]['content'] = _json(answer)
    for code in sorted(codes):
        if error_schema == 'Error':
            responses[str(code)] = {'$ref': '#/components/responses/' + ERRORS[code][0]}
        else:
            responses[str(code)] = _error_response(code, error_schema)
    operation: dict[str, Any] = {'tags': [tag], 'summary': summary,
                                 'operationId': _operation_id(method, path), 'responses': responses}
    if description:
        operation['description'] = description
    if params:
        operation['parameters'] = list(params)
    if body is not None:
        content = _json(body)
        if form is not None:
            content['application/x-www-form-urlencoded'] = {'schema': form}
            content['multipart/form-data'] = {'schema': form}
        operation['requestBody'] = {'required': True, 'content': content}
    operation['security'] = [] if public else [{'bearerAuth': []}]
    return {'path': path, 'method': method.lower(), 'operation': operation}


def _operation_id(method: str, path: str) -> str:
    words = [w.strip('{}') for w in path.replace('.', '/').replace('-', '/').split('/') if w]
    return method.lower() + ''.join(w[:1].upper() + w[1:] for w in words)


NO_CONTENT = {'ok': 204, 'ok_description': 'Done; no body.'}


def _optional_body(entry: dict[str, Any]) -> dict[str, Any]:
    entry['operation']['requestBody']['required'] = False
    return entry


def _csv_too(entry: dict[str, Any]) -> dict[str, Any]:
    """The export also answers text/csv, with the next part in a Link header."""
    ok = entry['operation']['responses']['200']
    ok['content']['text/csv'] = {'schema': {'type': 'string', 'description': 'UTF-8 with a BOM'}}
    ok['headers'] = {
        'Link': {'description': 'CSV: `<url>; rel="next"` while more parts remain', 'schema': {'type': 'string'}},
        'Content-Disposition': {'description': 'attachment; filename="stove-league-export-N.json|csv"',
                                'schema': {'type': 'string'}}}
    return entry

OPERATIONS: list[dict[str, Any]] = [
    # service
    op('/health', 'GET', 'Whether the store answers, and which model answers', 'service', answer=ref('Health'),
       public=True, errors=[], description='503 with the same body (`"status": "degraded"`) when DynamoDB does '
                                           'not answer.'),
    op('/openapi.json', 'GET', 'This document', 'service', answer=ref('OpenApiDocument'), public=True,
       description='`servers` names the API as the caller reached it.'),
    # accounts
    op('/rest-auth/join', 'POST', 'Create an account', 'accounts', ok=201, answer=ref('Session'),
       body=ref('JoinRequest'), public=True, errors=[409, 429],
       description='Email is unique case-insensitively (409 on a second sign-up).'),
    op('/rest-auth/registration', 'POST', 'Create an account (dj-rest-auth\'s name)', 'accounts', ok=201,
       answer=ref('Session'), body=ref('RegistrationRequest'), public=True, errors=[409, 429],
       error_schema='FieldErrors',
       description='An alias of /rest-auth/join for the original web client, which also sends `password1` '
                   'and `password2`. Its errors are in dj-rest-auth\'s shape, for every client: '
                   '`{"email": ["…"], "password2": ["…"]}`.'),
    op('/rest-auth/login', 'POST', 'Log in', 'accounts', answer=ref('Login'), body=ref('LoginRequest'), public=True,
       errors=[401, 429], description='Wrong email and wrong password give the same 401. Repeated failures per account '
                                 '(5) or address (50): 429 with Retry-After.'),
    op('/rest-auth/token/refresh', 'POST', 'A new access token for a refresh token', 'accounts',
       answer=ref('TokenPair'), body=ref('RefreshRequest'), public=True, errors=[401],
       description='Rotates: the refresh token sent stops working. Presented again within '
                   'REFRESH_REUSE_GRACE_SECONDS (30) of its rotation (two tabs refreshing at once) it gets the same '
                   'new pair; later, or once that pair was itself rotated, it ends the session. '
                   'Legacy mode (a session begun at a LEGACY_ORIGINS origin, refreshed from one): no rotation, '
                   'the same refresh token comes back and stays valid until it expires or the user logs out.'),
    op('/rest-auth/logout', 'POST', 'Log out (revoke this session\'s tokens)', 'accounts', answer=ref('Detail')),
    op('/rest-auth/logout', 'GET', 'Log out (as POST)', 'accounts', answer=ref('Detail')),
    op('/rest-auth/profile', 'GET', 'My account', 'accounts', answer=ref('Profile'), errors=[404]),
    op('/rest-auth/profile', 'PUT', 'Change nickname or password', 'accounts', answer=ref('Profile'),
       body=ref('ProfileUpdate'), errors=[404, 429],
       description='A new password needs `current_password` and ends the user\'s other sessions.'),
    op('/rest-auth/profile', 'DELETE', 'Delete my account and everything of it', 'accounts',
       body=ref('PasswordConfirm'), errors=[404, 429], **NO_CONTENT),
    # chatbot
    op('/chat/api', 'POST', 'Answer with the fitting Stove League line, and save the exchange', 'chat',
       answer={'oneOf': [ref('ChatAnswer'), ref('NoLineFits'), ref('LegacyChatAnswer')]}, body=ref('ChatRequest'),
       form=ref('ChatForm'), errors=[404, 429, 502, 504],
       description='`input` as JSON or as a form field. `exclude` asks for another line than those already '
                   'shown; 404 when every fitting line is excluded. Input that is no situation or feeling gets '
                   '200 NoLineFits (`fits: false`), and no line. Model failures: 502 (error or off-format), 503 '
                   '(unreachable or rate-limited, with Retry-After), 504 (timeout); nothing is saved then. '
                   'Legacy mode (Origin in LEGACY_ORIGINS): the answer is a JSON string (LegacyChatAnswer) '
                   'and is not saved; the client saves it with POST /chat/model.'),
    op('/chat/model', 'GET', 'My chats, newest first (or those matching `q`)', 'chat', answer=ref('ChatPage'),
       params=PAGE_PARAMS + [SEARCH]),
    op('/chat/model', 'POST', 'Save an exchange the client already has', 'chat', ok=201, answer=ref('Chat'),
       body=ref('ChatSave'), errors=[429],
       description='What the original clients call after /chat/api. Counts as a chat for the chat limits.'),
    op('/chat/model', 'DELETE', 'Delete all my chats', 'chat', **NO_CONTENT),
    op('/chat/delete', 'POST', 'Delete all my chats (the original clients\' route)', 'chat', **NO_CONTENT),
    op('/chat/model/{chat_id}', 'GET', 'One of my chats', 'chat', answer=ref('Chat'), params=[CHAT_ID],
       errors=[404]),
    op('/chat/model/{chat_id}', 'DELETE', 'Delete one of my chats', 'chat', params=[CHAT_ID], errors=[404],
       **NO_CONTENT),
    # keeping, sharing, exporting, rating
    op('/chat/model/{chat_id}/rating', 'PUT', '👍 / 👎 / none on one of my answers', 'keep', answer=ref('Chat'),
       body=ref('RatingRequest'), params=[CHAT_ID], errors=[404, 429],
       description='Changeable; the line\'s 👍/👎 counts move with it in the same transaction.'),
    op('/chat/bookmarks', 'GET', 'My lines (내 명대사), newest first', 'keep', answer=ref('BookmarkPage'),
       params=PAGE_PARAMS),
    op('/chat/bookmarks/{line_id}', 'PUT', 'Keep a line in my lines', 'keep', answer=ref('Bookmark'),
       params=[LINE_ID], errors=[404, 429], description='Idempotent: a line kept twice stays once (same '
                                                         '`created_at`). 404 for a line not in the corpus.'),
    op('/chat/bookmarks/{line_id}', 'DELETE', 'Remove a line from my lines', 'keep', params=[LINE_ID],
       errors=[404], **NO_CONTENT),
    _optional_body(op('/chat/model/{chat_id}/share', 'POST', 'A public, read-only link to one of my answer cards',
                      'keep', ok=201, answer=ref('Share'), body=ref('ShareRequest'), params=[CHAT_ID],
                      errors=[404, 409, 429],
                      description='Each call makes a new link (at most 10 live ones a card: 409 beyond). Deleting '
                                  'the chat or the account revokes its links.')),
    op('/chat/shares', 'GET', 'My share links, newest first', 'keep', answer=ref('SharePage'), params=PAGE_PARAMS),
    op('/chat/shares/{share_id}', 'DELETE', 'Revoke one of my share links', 'keep', params=[SHARE_ID_PARAM],
       errors=[404], **NO_CONTENT, description='Its public read is 404 from then on.'),
    op('/share/{share_id}', 'GET', 'A shared card (no login)', 'keep', answer=ref('SharedCard'),
       params=[SHARE_ID_PARAM], public=True, errors=[404],
       description='404 for a revoked link, as for one that never was.'),
    _csv_too(op('/chat/export', 'GET', 'Everything of mine, in parts', 'keep', answer=ref('Export'),
                params=[param('format', 'query', {'type': 'string', 'enum': ['json', 'csv']}, 'json (default) or csv'),
                        param('cursor', 'query', string(1), 'where the next part starts (from `next` or `Link`)')],
                description='Parts of at most 1,000 chats, newest first; bookmarks in the first part. CSV is '
                            'UTF-8 with a BOM (Excel shows Korean), one row per chat or bookmark (`type`), and '
                            'names the next part in a `Link: <…>; rel="next"` header.')),
    op('/corpus/stats', 'GET', 'Per corpus line: times given, 👍 and 👎 (admin)', 'board',
       answer=ref('LineStatsPage'), errors=[403],
       params=[PAGE_PARAMS[0], PAGE_PARAMS[1], PAGE_PARAMS[2],
               param('sort', 'query', {'type': 'string', 'enum': ['down', 'up', 'given', 'scene']},
                     'down (default: most 👎 first), up, given or scene')],
       description='Every line of the corpus, also those never given; pages by number.'),
    # quote request board
    op('/quote', 'GET', 'Every proposal, newest first', 'board', answer=ref('QuotePage'), params=PAGE_PARAMS),
    op('/quote', 'POST', 'Propose a line', 'board', ok=201, answer=ref('Quote'), body=ref('QuoteCreate'),
       errors=[429]),
    op('/quote/{quote_id}', 'GET', 'One proposal', 'board', answer=ref('Quote'), params=[QUOTE_ID], errors=[404]),
    op('/quote/{quote_id}', 'PUT', 'Edit my proposal (before it is applied)', 'board', answer=ref('Quote'),
       body=ref('QuoteUpdate'), params=[QUOTE_ID], errors=[403, 404, 409]),
    op('/quote/{quote_id}', 'DELETE', 'Delete a proposal (author or admin)', 'board', params=[QUOTE_ID],
       errors=[403, 404, 409], **NO_CONTENT),
    op('/quote/{quote_id}/apply', 'POST', 'Apply a proposal: the chatbot knows the line from now on (admin)',
       'board', answer=ref('Quote'), params=[QUOTE_ID], errors=[403, 404, 409]),
    op('/quote/{quote_id}/apply', 'DELETE', 'Withdraw an applied proposal (admin)', 'board', answer=ref('Quote'),
       params=[QUOTE_ID], errors=[403, 404, 409]),
]

DESCRIPTION = """\
The HTTP API of the Stove League (스토브리그) quote chatbot. JSON in and out, UTF-8.

- **Trailing slashes**: every path also answers with a trailing slash (`/rest-auth/login/`), as the
  original clients call them. Only the form without one is listed here.
- **Auth**: `Authorization: Bearer <access token>` (the scheme word is case-insensitive). Get tokens from
  join, registration or login; refresh them at `/rest-auth/token/refresh`.
- **Errors**: `{"Code", "Message"}`, plus `"Fields"` (field → message) for validation errors and
  `"RequestId"`: the `X-Request-Id` header that every answer carries, for a user to quote to an operator.
  `POST /rest-auth/registration` alone answers in dj-rest-auth's shape (`{"email": ["…"]}`).
- **Collections** are paginated (`page`, `per-page`; `next` links carry a `cursor`) and everything carries
  `_links` (HATEOAS: `{"desc", "href", "method"}`) for what the caller may do next.
- **CORS**: only for the configured frontend and legacy origins, with credentials; every path answers the
  `OPTIONS` preflight (not listed).
- **Legacy mode**: a request whose `Origin` is in `LEGACY_ORIGINS` (where the original web client is served)
  gets the original chat answer shape and refreshes that do not rotate; see those two operations.
- **Limits**: sign-ups per address, chats per user per minute and per day, proposals per user per hour, and
  failed password checks (login and profile changes) per account and per address answer `429` with
  `Retry-After`. Every request answers within 25 s; a dependency that is down, slow or busy is a `503` with
  `Retry-After`.
- **Headers**: token answers carry `Cache-Control: no-store`; every answer `X-Content-Type-Options: nosniff`.
"""


def build() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for entry in OPERATIONS:
        paths.setdefault(entry['path'], {})[entry['method']] = entry['operation']
    return {
        'openapi': '3.1.0',
        'info': {'title': 'Stove League quote chatbot API', 'version': '1.0.0', 'description': DESCRIPTION},
        'jsonSchemaDialect': 'https://spec.openapis.org/oas/3.1/dialect/base',
        'tags': [{'name': 'service', 'description': 'health and this document'},
                 {'name': 'accounts', 'description': 'sign-up, login, tokens, profile (`/rest-auth/...`)'},
                 {'name': 'chat', 'description': 'the chatbot and the caller\'s own chats (`/chat/...`)'},
                 {'name': 'keep', 'description': 'rating, my lines, share links and export (`/chat/...`, '
                                                 '`/share/...`)'},
                 {'name': 'board', 'description': 'the quote request board (`/quote...`) and the per-line figures'}],
        'paths': paths,
        'components': {
            'securitySchemes': {'bearerAuth': {'type': 'http', 'scheme': 'bearer', 'bearerFormat': 'JWT'}},
            'schemas': SCHEMAS,
            'responses': {name: _error_response(status) for status, (name, _, _) in ERRORS.items()},
        },
    }


def render() -> str:
    return json.dumps(build(), ensure_ascii=False, indent=1) + '\n'


def main(argv: list[str]) -> int:
    text = render()
    if '--check' in argv:
        with open(OUT, encoding='utf-8') as f:
            current = f.read()
        if current != text:
            print('chalicelib/service/openapi.json is out of date: run `make openapi`', file=sys.stderr)
            return 1
        return 0
    with open(OUT, 'w', encoding='utf-8') as f:
        f.write(text)
    print(f"wrote {os.path.relpath(OUT, ROOT)} ({len(build()['paths'])} paths, {len(text.encode('utf-8'))} bytes)")
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
