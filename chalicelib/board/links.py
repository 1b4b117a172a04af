"""HATEOAS `_links` of the board: what the caller may do next, and nothing it may not."""
from chalicelib.core.web import Links, link


def proposal(base: str, proposal_id: str, applied: bool, may_edit: bool, may_delete: bool, may_apply: bool) -> Links:
    path = '/quote/' + proposal_id
    out = [link(base, 'self', path)]
    if may_edit:
        out.append(link(base, 'update', path, 'PUT'))
    if may_delete:
        out.append(link(base, 'delete', path, 'DELETE'))
    if may_apply:
        out.append(link(base, 'withdraw' if applied else 'apply', path + '/apply', 'DELETE' if applied else 'POST'))
    out.append(link(base, 'board', '/quote'))
    return out


def board(base: str) -> Links:
    return [link(base, 'propose', '/quote', 'POST')]
