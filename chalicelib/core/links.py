"""HATEOAS `_links` for each resource: what the caller may do next, and nothing it may not."""

from chalicelib.core.web import link

Links = list[dict[str, str]]


def account(request) -> Links:
    return [link(request, 'profile', '/rest-auth/profile'),
            link(request, 'update profile', '/rest-auth/profile', 'PUT'),
            link(request, 'delete account', '/rest-auth/profile', 'DELETE'),
            link(request, 'refresh token', '/rest-auth/token/refresh', 'POST'),
            link(request, 'logout', '/rest-auth/logout', 'POST'),
            link(request, 'chat', '/chat/api', 'POST')]


def chat(request, chat_id: str, line_id: str | None = None) -> Links:
    path = '/chat/model/' + chat_id
    out = [link(request, 'self', path), link(request, 'delete', path, 'DELETE'),
           link(request, 'rate', path + '/rating', 'PUT'), link(request, 'share', path + '/share', 'POST')]
    if line_id:
        out.append(link(request, 'bookmark', '/chat/bookmarks/' + line_id, 'PUT'))
    out.append(link(request, 'history', '/chat/model'))
    return out


def history(request) -> Links:
    return [link(request, 'ask', '/chat/api', 'POST'), link(request, 'save exchange', '/chat/model', 'POST'),
            link(request, 'delete all', '/chat/model', 'DELETE'),
            link(request, 'export json', '/chat/export', format='json'),
            link(request, 'export csv', '/chat/export', format='csv')]


def bookmark(request, line_id: str) -> Links:
    return [link(request, 'delete', '/chat/bookmarks/' + line_id, 'DELETE'),
            link(request, 'bookmarks', '/chat/bookmarks')]


def bookmarks(request) -> Links:
    return [link(request, 'history', '/chat/model')]


def share(request, share_id: str) -> Links:
    return [link(request, 'public', '/share/' + share_id),
            link(request, 'revoke', '/chat/shares/' + share_id, 'DELETE'),
            link(request, 'shares', '/chat/shares')]


def shares(request) -> Links:
    return [link(request, 'history', '/chat/model')]


def proposal(request, proposal_id: str, applied: bool, may_edit: bool, may_delete: bool, may_apply: bool) -> Links:
    path = '/quote/' + proposal_id
    out = [link(request, 'self', path)]
    if may_edit:
        out.append(link(request, 'update', path, 'PUT'))
    if may_delete:
        out.append(link(request, 'delete', path, 'DELETE'))
    if may_apply:
        out.append(link(request, 'withdraw' if applied else 'apply', path + '/apply', 'DELETE' if applied else 'POST'))
    out.append(link(request, 'board', '/quote'))
    return out


def board(request) -> Links:
    return [link(request, 'propose', '/quote', 'POST')]
