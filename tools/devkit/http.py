"""A tiny HTTP client for tests: real sockets to the real local server."""
import http.client
import json
import threading
from typing import Any
from urllib.parse import urlsplit


class Result:
    def __init__(self, status: int, headers: dict[str, str], raw: bytes):
        self.status, self.headers, self.raw = status, headers, raw
        try:
            self.json = json.loads(raw.decode('utf-8')) if raw else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<{self.status} {self.raw[:300].decode('utf-8', 'replace')}>"


class Api:
    def __init__(self, base: str):
        self.base = base.rstrip('/')
        parts = urlsplit(self.base)
        self.host, self.port = parts.hostname, parts.port

    def request(self, method: str, path: str, body: Any = None, token: str | None = None,
                headers: dict[str, str] | None = None, raw: bytes | None = None) -> Result:
        if path.startswith('http'):
            parts = urlsplit(path)
            path = parts.path + ('?' + parts.query if parts.query else '')
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode('utf-8')
            hdrs.setdefault('Content-Type', 'application/json')
        if token:
            hdrs['Authorization'] = 'Bearer ' + token
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            return Result(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def post(self, path, body=None, **kw):
        return self.request('POST', path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request('PUT', path, body, **kw)

    def delete(self, path, body=None, **kw):
        return self.request('DELETE', path, body, **kw)

    def at_once(self, requests) -> list:
        """Send (method, path, body, token) requests from threads released together by a
        barrier, each on its own connection; their results, in order."""
        barrier, results = threading.Barrier(len(requests)), [None] * len(requests)

        def send(i, method, path, body, token):
            barrier.wait()
            results[i] = self.request(method, path, body, token=token)

        threads = [threading.Thread(target=send, args=(i, *r)) for i, r in enumerate(requests)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    # -- flows used by many tests -----------------------------------------------------------
    def join(self, email='user@example.com', nickname='사용자', password='correct horse 1') -> dict[str, Any]:
        r = self.post('/rest-auth/join', {'email': email, 'nickname': nickname, 'password': password})
        assert r.status == 201, r
        return r.json
