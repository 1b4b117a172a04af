"""HATEOAS `_links` of an account: what its owner may do next."""
from chalicelib.core.web import Links, link


def account(base: str) -> Links:
    return [link(base, 'profile', '/rest-auth/profile'),
            link(base, 'update profile', '/rest-auth/profile', 'PUT'),
            link(base, 'delete account', '/rest-auth/profile', 'DELETE'),
            link(base, 'refresh token', '/rest-auth/token/refresh', 'POST'),
            link(base, 'logout', '/rest-auth/logout', 'POST'),
            link(base, 'chat', '/chat/api', 'POST')]
