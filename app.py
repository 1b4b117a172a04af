"""Routes only: parse the request, call one function of chalicelib, shape the answer."""
import functools

from chalice import AuthResponse, Chalice, Rate, Response

from chalicelib import (auth, bookmarks, chat, deadline, export, links, model, observe, openapi, purge, quotes,
                        ratings, settings, shares, storage, web)
from chalicelib.errors import (CHALICE, DJ_REST_AUTH, AppError, ServiceUnavailable, Unauthorized, from_dependency,
                               handled)
from chalicelib.pagination import collection, numbered_collection, page_request

app = Chalice(app_name='stove-league')

FORM_TYPES = ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']


@app.authorizer(ttl_seconds=0)  # no cache: a logged-out token must fail at once
def jwt_auth(auth_request):
    # Never raises: raising drops the connection under `chalice local` and is a 500 deployed.
    deadline.start(settings.get().request_budget)
    try:
        principal = auth.authenticate(auth_request.token)
    except Unauthorized:
        # An empty grant: the gateway's deny becomes a JSON 401 (GatewayResponses deployed,
        # tools/local_api.py locally).
        return AuthResponse(routes=[], principal_id='anonymous')
    except Exception as exc:
        # The session could not be checked (table hung or down, budget spent, anything else):
        # let the route say 503 with Retry-After rather than log the user out.
        if not isinstance(exc, AppError) and from_dependency(exc) is None:
            observe.unexpected(exc)  # a bug: its traceback is logged all the same
        return AuthResponse(routes=['*'], principal_id='unverified', context={'unavailable': 'true'})
    return AuthResponse(routes=['*'], principal_id=principal.user_id, context={'sid': principal.session_id})


@app.middleware('http')
def http_conventions(event, get_response):
    deadline.start(settings.get().request_budget, web.arrival(event))
    try:
        with observe.request(event) as seen:  # the request's one log line, written on the way out
            return web.finish(seen.stamp(get_response(event)), event.headers.get('origin'))
    finally:
        deadline.clear()


def route(path, methods, public=False, errors=CHALICE, **kwargs):
    """Register `view` at `path`. Every route here must also be in chalicelib/openapi.json
    (tools/build_openapi.py; tests/test_openapi.py holds them to each other)."""
    def register(view):
        guarded = view if public else _verified(view)
        app.route(path, methods=methods, authorizer=None if public else jwt_auth, **kwargs)(handled(guarded, errors))
        return view
    return register


def _verified(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        principal()  # refuses a request whose token the authorizer could not check
        return view(*args, **kwargs)
    return wrapper


def req():
    return app.current_request


def principal():
    ctx = req().context['authorizer']
    if ctx.get('unavailable'):
        raise ServiceUnavailable('로그인 정보를 확인할 수 없습니다. 잠시 후 다시 시도해 주세요.', retry_after=5)
    return auth.Principal(ctx['principalId'], ctx['sid'])


# -- service ----------------------------------------------------------------------------------
@route('/health', ['GET'], public=True)
def health():
    try:
        store = 'ok' if storage.store().ping() else 'down'
    except Exception:
        store = 'down'
    body = {'status': 'ok' if store == 'ok' else 'degraded', 'store': {'dynamodb': store}, 'model': model.describe()}
    if store != 'ok':
        return Response(body=body, status_code=503, headers={'Retry-After': '5'})
    return body


@route('/openapi.json', ['GET'], public=True)
def openapi_document():
    return openapi.document(web.base_url(req()))


# -- accounts ---------------------------------------------------------------------------------
def join():
    result = auth.join(web.json_body(req()), web.client_ip(req()), legacy=web.legacy_client(req()))
    return Response(body=dict(result, _links=links.account(req())), status_code=201, headers=web.NO_STORE)


route('/rest-auth/join', ['POST'], public=True)(join)
# dj-rest-auth's name, kept for the original client, which reads dj-rest-auth's error shape
route('/rest-auth/registration', ['POST'], public=True, errors=DJ_REST_AUTH)(join)


@route('/rest-auth/login', ['POST'], public=True)
def login():
    result = auth.login(web.json_body(req()), web.client_ip(req()), legacy=web.legacy_client(req()))
    return Response(body=dict(result, _links=links.account(req())), headers=web.NO_STORE)


@route('/rest-auth/token/refresh', ['POST'], public=True)
def refresh():
    return Response(body=auth.refresh(web.json_body(req()), legacy=web.legacy_client(req())), headers=web.NO_STORE)


@route('/rest-auth/logout', ['POST', 'GET'])
def logout():
    auth.logout(principal())
    return {'detail': '로그아웃되었습니다.'}


def _profile_body(user):
    body = auth.public_user(user)
    del body['pk']
    return dict(body, _links=links.account(req()))


@route('/rest-auth/profile', ['GET', 'PUT', 'DELETE'])
def profile():
    method = req().method
    if method == 'GET':
        return _profile_body(auth.profile(principal()))
    if method == 'PUT':
        return _profile_body(auth.update_profile(principal(), web.json_body(req()), web.client_ip(req())))
    auth.delete_account(principal(), web.json_body(req()), web.client_ip(req()))
    return Response(body='', status_code=204)


# -- chatbot ----------------------------------------------------------------------------------
def _chat_body(saved):
    return dict(chat.shape(saved), _links=links.chat(req(), saved['chat_id'], saved['reply'].get('line_id')))


@route('/chat/api', ['POST'], content_types=FORM_TYPES)
def chat_api():
    if web.legacy_client(req()):  # the old shape, saved by the client's own POST /chat/model
        answer, _ = chat.ask(principal(), web.form_or_json(req()), save=False)
        return web.json_string({'scene': answer.scene, 'quote': answer.quote, 'description': answer.description})
    answer, saved = chat.ask(principal(), web.form_or_json(req()))
    return {'scene': answer.scene, 'quote': answer.quote, 'description': answer.description,
            'speaker': answer.speaker, 'line_id': answer.line_id, 'sources': answer.sources,
            'source': answer.source, 'grounded': answer.grounded, 'chat': _chat_body(saved),
            '_links': links.chat(req(), saved['chat_id'], answer.line_id)}


@route('/chat/model', ['GET', 'POST', 'DELETE'])
def chat_model():
    method = req().method
    if method == 'POST':
        return Response(body=_chat_body(chat.record(principal(), web.json_body(req()))), status_code=201)
    if method == 'DELETE':
        chat.delete_all(principal())
        return Response(body='', status_code=204)
    asked = page_request(req())
    q = (req().query_params or {}).get('q')
    page, results, count = chat.history(principal(), asked, q)
    results = [dict(c, _links=links.chat(req(), c['id'], c['chat_reply']['line_id'])) for c in results]
    return collection(req(), '/chat/model', asked, page, results, count, links.history(req()),
                      query={'q': q} if q and q.strip() else None)


@route('/chat/delete', ['POST'])
def chat_delete_all():
    chat.delete_all(principal())
    return Response(body='', status_code=204)


@route('/chat/model/{chat_id}', ['GET', 'DELETE'])
def chat_one(chat_id):
    if req().method == 'DELETE':
        chat.delete(principal(), chat_id)
        return Response(body='', status_code=204)
    return _chat_body(chat.get(principal(), chat_id))


# -- keeping, sharing, exporting, rating ------------------------------------------------------
@route('/chat/model/{chat_id}/rating', ['PUT'])
def chat_rating(chat_id):
    return _chat_body(ratings.rate(principal(), chat_id, web.json_body(req())))


@route('/chat/bookmarks', ['GET'])
def bookmark_list():
    asked = page_request(req())
    page, results, count = bookmarks.page(principal(), asked)
    results = [dict(b, _links=links.bookmark(req(), b['line']['id'])) for b in results]
    return collection(req(), '/chat/bookmarks', asked, page, results, count, links.bookmarks(req()))


@route('/chat/bookmarks/{line_id}', ['PUT', 'DELETE'])
def bookmark_one(line_id):
    if req().method == 'DELETE':
        bookmarks.remove(principal(), line_id)
        return Response(body='', status_code=204)
    kept, _ = bookmarks.keep(principal(), line_id)
    return dict(kept, _links=links.bookmark(req(), kept['line']['id']))


@route('/chat/model/{chat_id}/share', ['POST'])
def chat_share(chat_id):
    share = shares.create(principal(), chat_id, web.json_body(req(), required=False))
    return Response(body=dict(share, _links=links.share(req(), share['id'])), status_code=201)


@route('/chat/shares', ['GET'])
def share_list():
    asked = page_request(req())
    page, results, count = shares.page(principal(), asked)
    results = [dict(s, _links=links.share(req(), s['id'])) for s in results]
    return collection(req(), '/chat/shares', asked, page, results, count, links.shares(req()))


@route('/chat/shares/{share_id}', ['DELETE'])
def share_revoke(share_id):
    shares.revoke(principal(), share_id)
    return Response(body='', status_code=204)


@route('/share/{share_id}', ['GET'], public=True)
def share_public(share_id):
    return Response(body=shares.public(share_id), status_code=200,
                    headers={'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex'})


@route('/chat/export', ['GET'])
def chat_export():
    params = req().query_params or {}
    part = export.part(principal(), params.get('format'), params.get('cursor'))
    nxt = web.url(req(), '/chat/export', format=part.fmt, cursor=part.next_cursor) if part.next_cursor else None
    headers = {'Content-Disposition': 'attachment; filename="%s"' % export.filename(part)}
    if part.fmt == 'json':
        return Response(body={'chats': part.chats, 'bookmarks': part.bookmarks, 'next': nxt}, headers=headers)
    if nxt:
        headers['Link'] = '<%s>; rel="next"' % nxt
    return Response(body=export.to_csv(part), headers=dict(headers, **{'Content-Type': 'text/csv; charset=utf-8'}))


@route('/corpus/stats', ['GET'])
def corpus_stats():
    asked = page_request(req(), key_ok=lambda key: False)  # page numbers only: no cursor applies
    sort = (req().query_params or {}).get('sort')
    results, total = ratings.stats(principal(), asked, sort)
    return numbered_collection(req(), '/corpus/stats', asked, results, total, [], query={'sort': sort} if sort else None)


# -- quote request board ----------------------------------------------------------------------
def _quote_body(q, authors, caller):
    return dict(quotes.shape(q, authors, caller), _links=links.quote(req(), q, caller))


@route('/quote', ['GET', 'POST'])
def quote_board():
    if req().method == 'POST':
        q, caller = quotes.create(principal(), web.json_body(req()))
        return Response(body=_quote_body(q, {caller['id']: caller}, caller), status_code=201)
    asked = page_request(req())
    page, authors, caller, count = quotes.board(principal(), asked)
    results = [_quote_body(q, authors, caller) for q in page.items]
    return collection(req(), '/quote', asked, page, results, count, links.board(req()))


@route('/quote/{quote_id}', ['GET', 'PUT', 'DELETE'])
def quote_one(quote_id):
    method = req().method
    if method == 'DELETE':
        quotes.delete(principal(), quote_id)
        return Response(body='', status_code=204)
    if method == 'PUT':
        return _quote_body(*quotes.update(principal(), quote_id, web.json_body(req())))
    return _quote_body(*quotes.read(principal(), quote_id))


@route('/quote/{quote_id}/apply', ['POST', 'DELETE'])
def quote_apply(quote_id):
    return _quote_body(*quotes.set_applied(principal(), quote_id, req().method == 'POST'))


# -- what deleted accounts owned: removed by a sweep each minute ------------------------------
@app.schedule(Rate(1, unit=Rate.MINUTES))
def purge_deleted_accounts(event):
    deadline.start(PURGE_BUDGET)  # stops before the Lambda timeout; the next sweep goes on
    try:
        purge.sweep()
    except deadline.DeadlineExceeded:
        pass
    finally:
        deadline.clear()


PURGE_BUDGET = 25


# -- CORS preflight for every path (API Gateway's own OPTIONS mock would answer `*`) -----------
def preflight(**_):
    return Response(body='', status_code=204,
                    headers=web.PREFLIGHT_HEADERS if 'Access-Control-Allow-Origin' in web.cors_headers(
                        req().headers.get('origin')) else {})


for _path in list(app.routes):
    app.route(_path, methods=['OPTIONS'])(preflight)
