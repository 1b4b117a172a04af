"""HATEOAS `_links` of chats: what the caller may do next with one, and with the history."""
from chalicelib.core.web import Links, link


def chat(base: str, chat_id: str, line_id: str | None = None) -> Links:
    path = '/chat/model/' + chat_id
    out = [link(base, 'self', path), link(base, 'delete', path, 'DELETE'),
           link(base, 'rate', path + '/rating', 'PUT'), link(base, 'share', path + '/share', 'POST')]
    if line_id:
        out.append(link(base, 'bookmark', '/chat/bookmarks/' + line_id, 'PUT'))
    out.append(link(base, 'history', '/chat/model'))
    return out


def history(base: str) -> Links:
    return [link(base, 'ask', '/chat/api', 'POST'), link(base, 'save exchange', '/chat/model', 'POST'),
            link(base, 'delete all', '/chat/model', 'DELETE'),
            link(base, 'export json', '/chat/export', format='json'),
            link(base, 'export csv', '/chat/export', format='csv')]
