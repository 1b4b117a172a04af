"""The quote request board over HTTP (its paths keep the original app's `/quote`)."""
from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib import gateway
from chalicelib.board import proposals
from chalicelib.board.proposals import ProposalView
from chalicelib.core import links, web
from chalicelib.core.pagination import Listing, collection, page_request

bp = Blueprint(__name__)
route = gateway.router(bp)


def request() -> Request:
    return bp.current_request


def _body(view: ProposalView) -> dict[str, Any]:
    p = view.proposal
    return dict(view.body(), _links=links.proposal(request(), p['id'], bool(p.get('is_apply')), view.may_edit,
                                                   view.may_delete, view.may_apply))


@route('/quote', ['GET'])
def proposal_list() -> dict[str, Any]:
    asked = page_request(request())
    board = proposals.board(gateway.caller(request()), asked)
    listing = Listing(board.page, [_body(v) for v in board.views], board.count)
    return collection(request(), '/quote', asked, listing, links.board(request()))


@route('/quote', ['POST'])
def proposal_create() -> Response:
    return Response(body=_body(proposals.create(gateway.caller(request()), web.json_body(request()))),
                    status_code=201)


@route('/quote/{quote_id}', ['GET'])
def proposal_read(quote_id: str) -> dict[str, Any]:
    return _body(proposals.read(gateway.caller(request()), quote_id))


@route('/quote/{quote_id}', ['PUT'])
def proposal_update(quote_id: str) -> dict[str, Any]:
    return _body(proposals.update(gateway.caller(request()), quote_id, web.json_body(request())))


@route('/quote/{quote_id}', ['DELETE'])
def proposal_delete(quote_id: str) -> Response:
    proposals.delete(gateway.caller(request()), quote_id)
    return Response(body='', status_code=204)


@route('/quote/{quote_id}/apply', ['POST'])
def proposal_apply(quote_id: str) -> dict[str, Any]:
    return _body(proposals.set_applied(gateway.caller(request()), quote_id, True))


@route('/quote/{quote_id}/apply', ['DELETE'])
def proposal_withdraw(quote_id: str) -> dict[str, Any]:
    return _body(proposals.set_applied(gateway.caller(request()), quote_id, False))
