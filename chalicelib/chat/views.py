"""The chatbot over HTTP: ask for a line, the history of chats."""
from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib import gateway
from chalicelib.chat import chats
from chalicelib.core import links, web
from chalicelib.core.pagination import collection, page_request

bp = Blueprint(__name__)
route = gateway.router(bp)
FORM_TYPES = ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']


def request() -> Request:
    return bp.current_request


@route('/chat/api', ['POST'], content_types=FORM_TYPES)
def chat_ask() -> Any:
    if web.legacy_client(request()):  # the old shape; the client saves the exchange with POST /chat/model
        return web.json_string(chats.legacy_answer(chats.ask(gateway.caller(request()),
                                                             web.form_or_json(request()), legacy=True)))
    return chats.answer_body(request(), chats.ask(gateway.caller(request()), web.form_or_json(request())))


@route('/chat/model', ['GET'])
def chat_history() -> dict[str, Any]:
    asked = page_request(request())
    q = (request().query_params or {}).get('q')
    listing = chats.history(gateway.caller(request()), asked, q)
    listing.results = [dict(c, _links=links.chat(request(), c['id'], c['chat_reply']['line_id']))
                       for c in listing.results]
    return collection(request(), '/chat/model', asked, listing, links.history(request()),
                      query={'q': q} if q and q.strip() else None)


@route('/chat/model', ['POST'])
def chat_record() -> Response:
    saved = chats.record(gateway.caller(request()), web.json_body(request()))
    return Response(body=chats.body(request(), saved), status_code=201)


@route('/chat/model', ['DELETE'])
def chat_delete_all() -> Response:
    chats.delete_all(gateway.caller(request()))
    return Response(body='', status_code=204)


@route('/chat/delete', ['POST'])  # the original client's name for it
def chat_delete_all_legacy() -> Response:
    return chat_delete_all()


@route('/chat/model/{chat_id}', ['GET'])
def chat_read(chat_id: str) -> dict[str, Any]:
    return chats.body(request(), chats.get(gateway.caller(request()), chat_id))


@route('/chat/model/{chat_id}', ['DELETE'])
def chat_delete(chat_id: str) -> Response:
    chats.delete(gateway.caller(request()), chat_id)
    return Response(body='', status_code=204)
