"""HATEOAS `_links` of what a user keeps: bookmarks and share links."""
from chalicelib.core.web import Links, link


def bookmark(base: str, line_id: str) -> Links:
    return [link(base, 'delete', '/chat/bookmarks/' + line_id, 'DELETE'),
            link(base, 'bookmarks', '/chat/bookmarks')]


def bookmarks(base: str) -> Links:
    return [link(base, 'history', '/chat/model')]


def share(base: str, share_id: str) -> Links:
    return [link(base, 'public', '/share/' + share_id),
            link(base, 'revoke', '/chat/shares/' + share_id, 'DELETE'),
            link(base, 'shares', '/chat/shares')]


def shares(base: str) -> Links:
    return [link(base, 'history', '/chat/model')]
