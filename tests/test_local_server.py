"""The local API server (tools/local_api.py) that `make run` and the tests use."""
import selectors
import socket
import time

import pytest


def connected_within(port: int, n: int, seconds: float) -> int:
    """Open n connections at once; how many the kernel completed within `seconds`."""
    socks, sel = [], selectors.DefaultSelector()
    try:
        for _ in range(n):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(('127.0.0.1', port))
            sel.register(s, selectors.EVENT_WRITE)
            socks.append(s)
        done, deadline = set(), time.monotonic() + seconds
        while len(done) < n and time.monotonic() < deadline:
            for key, _ in sel.select(max(0.0, deadline - time.monotonic())):
                if key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    done.add(key.fileobj)
                sel.unregister(key.fileobj)
        return len(done)
    finally:
        for s in socks:
            s.close()
        sel.close()


@pytest.mark.parametrize('backlog, expected', [(None, 16), (5, 6)])
def test_a_burst_of_new_connections_fits_the_listen_backlog(dynamodb, backlog, expected):
    """Nothing accepts here, so every connection waits in the listen backlog: all 16 of a
    browser-like burst fit (the stock backlog of 5 holds 6; the rest would be retried 1 s later)."""
    from tools.local_api import make_server
    srv = make_server('127.0.0.1', 0, quiet=True)
    try:
        if backlog is not None:
            srv.server.socket.listen(backlog)  # what the server did before (the control case)
        assert connected_within(srv.server.server_address[1], 16, 0.5) == expected
    finally:
        srv.server.server_close()


def test_parallel_requests_never_see_each_others_body_or_user(api, configure):
    """Chalice keeps the current request on the app; the server's threads must each have theirs."""
    configure(CHAT_LIMIT_PER_MINUTE=0, SIGNUP_LIMIT_PER_HOUR=0)
    users = [api.join(email=f't{i}@example.com') for i in range(12)]
    for attempt in range(3):
        sent = [('POST', '/chat/model', {'content': f'사용자 {i}의 고민 {attempt}',
                                         'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}}, u['access'])
                for i, u in enumerate(users)]
        for (_, _, body, _), user, r in zip(sent, users, api.at_once(sent), strict=False):
            assert r.status == 201, r
            assert (r.json['content'], r.json['user']) == (body['content'], user['user']['id'])
