"""The chatbot over HTTP: ask for a line, the history of chats."""
import json
from typing import Any

from chalice import Blueprint, Response

from chalicelib import gateway
from chalicelib.chat import chats, links
from chalicelib.core import web
from chalicelib.core.pagination import collection, page_request
from chalicelib.core.principal import Principal

bp = Blueprint(__name__)
route = gateway.router(bp)


def json_string(value: Any) -> Response:
    """The original chatbot view's answer (Django's `Response(str)`): `value` JSON-encoded, sent
    as a JSON string, which the original client `JSON.parse`s once more."""
    text = json.dumps(value, ensure_ascii=False)
    return Response(body=web.LONE_SURROGATE.sub('\ufffd', json.dumps(text, ensure_ascii=False)),
                    headers={'Content-Type': 'application/json; charset=utf-8'})


@route('/chat/api', ['POST'], body=gateway.FORM)
def chat_ask(caller: Principal, body: dict[str, Any], legacy: bool, base: str) -> Any:
    if legacy:  # the old shape; the client saves the exchange with POST /chat/model
        return json_string(chats.legacy_answer(chats.ask(caller, body, legacy=True)))
    return chats.answer_body(base, chats.ask(caller, body))


@route('/chat/model', ['GET'])
def chat_history(caller: Principal, query: dict[str, str], base: str) -> dict[str, Any]:
    asked, q = page_request(query), query.get('q')
    listing = chats.history(caller, asked, q)
    listing.results = [dict(c, _links=links.chat(base, c['id'], c['chat_reply']['line_id'])) for c in listing.results]
    return collection(base, '/chat/model', asked, listing, links.history(base),
                      query={'q': q} if q and q.strip() else None)


@route('/chat/model', ['POST'], body=gateway.JSON)
def chat_record(caller: Principal, body: dict[str, Any], base: str) -> Response:
    return Response(body=chats.body(base, chats.record(caller, body)), status_code=201)


def chat_delete_all(caller: Principal) -> Response:
    chats.delete_all(caller)
    return Response(body='', status_code=204)


route('/chat/model', ['DELETE'])(chat_delete_all)
route('/chat/delete', ['POST'])(chat_delete_all)  # the original client's name for it


@route('/chat/model/{chat_id}', ['GET'])
def chat_read(chat_id: str, caller: Principal, base: str) -> dict[str, Any]:
    return chats.body(base, chats.get(caller, chat_id))


@route('/chat/model/{chat_id}', ['DELETE'])
def chat_delete(chat_id: str, caller: Principal) -> Response:
    chats.delete(caller, chat_id)
    return Response(body='', status_code=204)
