"""The original web client's calls, run by Chromium from a page served at a legacy origin
(tests/browser/legacy_client/): real cross-origin fetches with credentials, as it makes them."""
import functools
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.browser.conftest import PASSWORD, _finish, _new_page

OLD_CLIENT = Path(__file__).resolve().parent / 'legacy_client'


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope='module')
def old_site(dynamodb, server):
    """The old client's own origin, named in LEGACY_ORIGINS."""
    from chalicelib.core import settings
    httpd = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(QuietHandler, directory=str(OLD_CLIENT)))
    origin = f'http://127.0.0.1:{httpd.server_port}'
    before = os.environ.get('LEGACY_ORIGINS')
    os.environ['LEGACY_ORIGINS'] = origin
    settings.reload()
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield origin
    httpd.shutdown()
    if before is None:
        os.environ.pop('LEGACY_ORIGINS', None)
    else:
        os.environ['LEGACY_ORIGINS'] = before
    settings.reload()


@pytest.fixture
def old_page(browser, old_site, server, store, request):
    context, page = _new_page(browser, request, viewport={'width': 1280, 'height': 800})
    page.api_requests = []
    page.on('request', lambda r: page.api_requests.append(r) if r.url.startswith(server) else None)
    page.goto(old_site + '/index.html')
    page.evaluate('(base) => { OldClient.base = base; }', server)
    yield page
    _finish(context, page, request, '-old-client')


def test_old_client_signs_up_chats_saves_once_and_refreshes(old_page, demo, server, old_site):
    page = old_page
    status = page.evaluate('() => OldClient.signup("old@client.kr", "드림즈", "short", "other")')
    assert status == 400
    # Each key of the error body landed in its element (an unknown key would have thrown).
    assert page.text_content('#password1') and page.text_content('#password2')
    assert not page.text_content('#email')

    assert page.evaluate(f'() => OldClient.signup("old@client.kr", "드림즈", "{PASSWORD}", "{PASSWORD}")') == 201
    assert page.evaluate(f'() => OldClient.login("old@client.kr", "{PASSWORD}")') == 200
    assert page.evaluate('() => OldClient.accessExpiry()') > 0

    result = page.evaluate('() => OldClient.ask("팀 안에서 서로 편을 갈라 싸워요")')
    assert result['saved'] == 201
    assert page.text_content('#quote') == result['answer']['quote'] and result['answer']['quote']
    assert '[object Object]' not in page.text_content('#answer')
    history = page.evaluate('() => OldClient.history(1)')
    assert history['count'] == 1 and history['results'][0]['chat_reply']['quote'] == result['answer']['quote']

    login_refresh = page.evaluate('() => localStorage.getItem("refresh")')
    first_access = page.evaluate('() => localStorage.getItem("access")')
    assert page.evaluate('() => OldClient.refresh()') == 200
    assert page.evaluate('() => OldClient.refresh()') == 200  # the same login refresh token again
    assert page.evaluate('() => localStorage.getItem("refresh")') == login_refresh
    assert page.evaluate('() => localStorage.getItem("access")') != first_access
    assert page.evaluate('() => OldClient.profile()') == 200

    # The requests were the old client's own: cross-origin, `Accept: */*`, `bearer`, form data.
    chat = next(r for r in page.api_requests if r.url.endswith('/chat/api/') and r.method == 'POST')
    headers = chat.all_headers()
    assert headers['origin'] == old_site and headers['accept'] == '*/*'
    assert headers['authorization'].startswith('bearer ')
    assert headers['content-type'].startswith('multipart/form-data')
    answered = chat.response().all_headers()  # credentials: 'include' needs exactly these
    assert answered['access-control-allow-origin'] == old_site
    assert answered['access-control-allow-credentials'] == 'true'
