"""`make run`'s frontend server (tools/frontend_server.py): each run's config.js names its own API,
answered from memory, so nothing is written into frontend/ and two runs in one checkout never
point each other's browser at the wrong API."""
import os
import subprocess
import sys
import threading
import time
import urllib.request

from tools import frontend_server
from tools.dynamodb_local import ROOT, free_port

FRONTEND = os.path.join(ROOT, 'frontend')


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers, r.read().decode()


def snapshot():
    """frontend/'s files and their times (git-ignored ones included: config.js is one)."""
    return {os.path.join(d, f): os.stat(os.path.join(d, f)).st_mtime_ns
            for d, _, files in os.walk(FRONTEND) for f in files}


def test_two_servers_each_answer_config_js_with_their_own_api_and_write_nothing():
    before = snapshot()
    servers = [frontend_server.make_server('127.0.0.1', 0, api_url=f'http://localhost:{port}') for port in (8000, 9000)]
    for srv in servers:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        for srv, port in zip(servers, (8000, 9000), strict=True):
            status, headers, body = get(f'http://127.0.0.1:{srv.server_port}/config.js?v=1')
            assert status == 200 and headers['Content-Type'].startswith('text/javascript')
            assert f'apiBaseUrl: "http://localhost:{port}"' in body, body
            assert headers['Cache-Control'] == 'no-store'
            status, headers, page = get(f'http://127.0.0.1:{srv.server_port}/index.html')
            assert status == 200 and '<script src="config.js"></script>' in page
    finally:
        for srv in servers:
            srv.shutdown()
            srv.server_close()
    assert snapshot() == before


def test_the_command_make_run_starts_serves_its_api_url():
    port = free_port()
    proc = subprocess.Popen([sys.executable, '-m', 'tools.frontend_server', '--port', str(port),
                             '--api-url', 'http://localhost:8123'], cwd=ROOT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                _, _, body = get(f'http://127.0.0.1:{port}/config.js')
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, 'the frontend server did not start'
                time.sleep(0.1)
        assert 'apiBaseUrl: "http://localhost:8123"' in body
    finally:
        proc.terminate()
        proc.wait(10)
