"""What people do with a line they like, over HTTP: rate it, keep it, share it, export
their chats; and the admin's per-line figures."""
from typing import Any

from chalice import Blueprint, Response

from chalicelib import gateway
from chalicelib.chat import chats
from chalicelib.core import web
from chalicelib.core.pagination import collection, numbered_collection, page_request
from chalicelib.core.principal import Principal
from chalicelib.keep import bookmarks, export, links, ratings, shares

bp = Blueprint(__name__)
route = gateway.router(bp)


@route('/chat/model/{chat_id}/rating', ['PUT'], body=gateway.JSON)
def chat_rate(chat_id: str, caller: Principal, body: dict[str, Any], base: str) -> dict[str, Any]:
    return chats.body(base, ratings.rate(caller, chat_id, body))


@route('/chat/bookmarks', ['GET'])
def bookmark_list(caller: Principal, query: dict[str, str], base: str) -> dict[str, Any]:
    asked = page_request(query)
    listing = bookmarks.page(caller, asked)
    listing.results = [dict(b, _links=links.bookmark(base, b['line']['id'])) for b in listing.results]
    return collection(base, '/chat/bookmarks', asked, listing, links.bookmarks(base))


@route('/chat/bookmarks/{line_id}', ['PUT'])
def bookmark_keep(line_id: str, caller: Principal, base: str) -> dict[str, Any]:
    kept = bookmarks.keep(caller, line_id)
    return dict(kept, _links=links.bookmark(base, kept['line']['id']))


@route('/chat/bookmarks/{line_id}', ['DELETE'])
def bookmark_remove(line_id: str, caller: Principal) -> Response:
    bookmarks.remove(caller, line_id)
    return Response(body='', status_code=204)


@route('/chat/model/{chat_id}/share', ['POST'], body=gateway.JSON_OPTIONAL)
def share_create(chat_id: str, caller: Principal, body: dict[str, Any], base: str) -> Response:
    share = shares.create(caller, chat_id, body)
    return Response(body=dict(share, _links=links.share(base, share['id'])), status_code=201)


@route('/chat/shares', ['GET'])
def share_list(caller: Principal, query: dict[str, str], base: str) -> dict[str, Any]:
    asked = page_request(query)
    listing = shares.page(caller, asked)
    listing.results = [dict(s, _links=links.share(base, s['id'])) for s in listing.results]
    return collection(base, '/chat/shares', asked, listing, links.shares(base))


@route('/chat/shares/{share_id}', ['DELETE'])
def share_revoke(share_id: str, caller: Principal) -> Response:
    shares.revoke(caller, share_id)
    return Response(body='', status_code=204)


@route('/share/{share_id}', ['GET'], public=True)
def share_public(share_id: str) -> Response:
    return Response(body=shares.public(share_id), status_code=200,
                    headers={'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex'})


@route('/chat/export', ['GET'])
def chat_export(caller: Principal, query: dict[str, str], base: str) -> Response:
    part = export.part(caller, query.get('format'), query.get('cursor'))
    nxt = web.url(base, '/chat/export', format=part.fmt, cursor=part.next_cursor) if part.next_cursor else None
    headers: dict[str, Any] = {'Content-Disposition': f'attachment; filename="{export.filename(part)}"'}
    if part.fmt == 'json':
        return Response(body={'chats': part.chats, 'bookmarks': part.bookmarks, 'next': nxt}, headers=headers)
    if nxt:
        headers['Link'] = f'<{nxt}>; rel="next"'
    headers['Content-Type'] = 'text/csv; charset=utf-8'
    return Response(body=export.to_csv(part), headers=headers)


@route('/corpus/stats', ['GET'], admin=True)
def corpus_stats(query: dict[str, str], base: str) -> dict[str, Any]:
    asked = page_request(query, key_ok=lambda key: False)  # page numbers only: no cursor applies
    sort = query.get('sort')
    got = ratings.stats(asked, sort)
    return numbered_collection(base, '/corpus/stats', asked, got.results, got.total, [],
                               query={'sort': sort} if sort else None)
