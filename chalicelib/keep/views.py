"""What people do with a line they like, over HTTP: rate it, keep it, share it, export
their chats; and the admin's per-line figures."""
from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib import gateway
from chalicelib.chat import chats
from chalicelib.core import links, web
from chalicelib.core.pagination import collection, numbered_collection, page_request
from chalicelib.keep import bookmarks, export, ratings, shares

bp = Blueprint(__name__)
route = gateway.router(bp)


def request() -> Request:
    return bp.current_request


@route('/chat/model/{chat_id}/rating', ['PUT'])
def chat_rate(chat_id: str) -> dict[str, Any]:
    return chats.body(request(), ratings.rate(gateway.caller(request()), chat_id, web.json_body(request())))


@route('/chat/bookmarks', ['GET'])
def bookmark_list() -> dict[str, Any]:
    asked = page_request(request())
    listing = bookmarks.page(gateway.caller(request()), asked)
    listing.results = [dict(b, _links=links.bookmark(request(), b['line']['id'])) for b in listing.results]
    return collection(request(), '/chat/bookmarks', asked, listing, links.bookmarks(request()))


@route('/chat/bookmarks/{line_id}', ['PUT'])
def bookmark_keep(line_id: str) -> dict[str, Any]:
    kept = bookmarks.keep(gateway.caller(request()), line_id)
    return dict(kept, _links=links.bookmark(request(), kept['line']['id']))


@route('/chat/bookmarks/{line_id}', ['DELETE'])
def bookmark_remove(line_id: str) -> Response:
    bookmarks.remove(gateway.caller(request()), line_id)
    return Response(body='', status_code=204)


@route('/chat/model/{chat_id}/share', ['POST'])
def share_create(chat_id: str) -> Response:
    share = shares.create(gateway.caller(request()), chat_id, web.json_body(request(), required=False))
    return Response(body=dict(share, _links=links.share(request(), share['id'])), status_code=201)


@route('/chat/shares', ['GET'])
def share_list() -> dict[str, Any]:
    asked = page_request(request())
    listing = shares.page(gateway.caller(request()), asked)
    listing.results = [dict(s, _links=links.share(request(), s['id'])) for s in listing.results]
    return collection(request(), '/chat/shares', asked, listing, links.shares(request()))


@route('/chat/shares/{share_id}', ['DELETE'])
def share_revoke(share_id: str) -> Response:
    shares.revoke(gateway.caller(request()), share_id)
    return Response(body='', status_code=204)


@route('/share/{share_id}', ['GET'], public=True)
def share_public(share_id: str) -> Response:
    return Response(body=shares.public(share_id), status_code=200,
                    headers={'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex'})


@route('/chat/export', ['GET'])
def chat_export() -> Response:
    params = request().query_params or {}
    part = export.part(gateway.caller(request()), params.get('format'), params.get('cursor'))
    nxt = web.url(request(), '/chat/export', format=part.fmt, cursor=part.next_cursor) if part.next_cursor else None
    headers = {'Content-Disposition': f'attachment; filename="{export.filename(part)}"'}
    if part.fmt == 'json':
        return Response(body={'chats': part.chats, 'bookmarks': part.bookmarks, 'next': nxt}, headers=headers)
    if nxt:
        headers['Link'] = f'<{nxt}>; rel="next"'
    return Response(body=export.to_csv(part), headers=dict(headers, **{'Content-Type': 'text/csv; charset=utf-8'}))


@route('/corpus/stats', ['GET'])
def corpus_stats() -> dict[str, Any]:
    asked = page_request(request(), key_ok=lambda key: False)  # page numbers only: no cursor applies
    sort = (request().query_params or {}).get('sort')
    got = ratings.stats(gateway.caller(request()), asked, sort)
    return numbered_collection(request(), '/corpus/stats', asked, got.results, got.total, [],
                               query={'sort': sort} if sort else None)
