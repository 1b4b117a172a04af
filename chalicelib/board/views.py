"""The quote request board over HTTP (its paths keep the original app's `/quote`)."""
from typing import Any

from chalice import Blueprint, Response

from chalicelib import gateway
from chalicelib.board import links, proposals
from chalicelib.board.proposals import ProposalView
from chalicelib.core.pagination import Listing, collection, page_request
from chalicelib.core.principal import Principal

bp = Blueprint(__name__)
route = gateway.router(bp)


def _body(view: ProposalView, base: str) -> dict[str, Any]:
    p = view.proposal
    return dict(view.body(), _links=links.proposal(base, p['id'], bool(p.get('is_apply')), view.may_edit,
                                                   view.may_delete, view.may_apply))


@route('/quote', ['GET'])
def proposal_list(caller: Principal, query: dict[str, str], base: str) -> dict[str, Any]:
    asked = page_request(query)
    board = proposals.board(caller, asked)
    listing = Listing(board.page, [_body(v, base) for v in board.views], board.count)
    return collection(base, '/quote', asked, listing, links.board(base))


@route('/quote', ['POST'], body=gateway.JSON)
def proposal_create(caller: Principal, body: dict[str, Any], base: str) -> Response:
    return Response(body=_body(proposals.create(caller, body), base), status_code=201)


@route('/quote/{quote_id}', ['GET'])
def proposal_read(quote_id: str, caller: Principal, base: str) -> dict[str, Any]:
    return _body(proposals.read(caller, quote_id), base)


@route('/quote/{quote_id}', ['PUT'], body=gateway.JSON)
def proposal_update(quote_id: str, caller: Principal, body: dict[str, Any], base: str) -> dict[str, Any]:
    return _body(proposals.update(caller, quote_id, body), base)


@route('/quote/{quote_id}', ['DELETE'])
def proposal_delete(quote_id: str, caller: Principal) -> Response:
    proposals.delete(caller, quote_id)
    return Response(body='', status_code=204)


# Admin only, checked where the caller's account is read with the proposal (one BatchGetItem):
# `admin=True` would read the account on its own first, one DynamoDB call more.
@route('/quote/{quote_id}/apply', ['POST'])
def proposal_apply(quote_id: str, caller: Principal, base: str) -> dict[str, Any]:
    return _body(proposals.set_applied(caller, quote_id, True), base)


@route('/quote/{quote_id}/apply', ['DELETE'])
def proposal_withdraw(quote_id: str, caller: Principal, base: str) -> dict[str, Any]:
    return _body(proposals.set_applied(caller, quote_id, False), base)
