"""Browser tests: Debian's Chromium (driven by Playwright's sync API) on the static frontend,
served in a thread by `make run`'s frontend server (tools/frontend_server.py, whose config.js,
answered from memory, points at the test API; nothing is written into frontend/), against the
real API and DynamoDB Local of tests/conftest.py. A failing test leaves a screenshot in test-artifacts/."""
import os
import re
import secrets
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tools import frontend_server
from tools.devkit.http import Api

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / 'test-artifacts'
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync']
TIMEOUT_MS = 5000
PASSWORD = 'correct horse 1'

expect.set_options(timeout=TIMEOUT_MS)

REQUEST_ID = r'요청 ID: ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'


def with_request_id(message: str):
    """An error as the page shows it: the server's message, then the request's id under it."""
    return re.compile('^' + re.escape(message) + REQUEST_ID + '$')


@pytest.fixture(scope='session')
def frontend(dynamodb, server):
    """Origin of the static site; the API is told to let it in through CORS."""
    from chalicelib.core import settings
    httpd = frontend_server.make_server('127.0.0.1', 0, api_url=server)  # config.js from memory, as `make run`
    origin = f'http://127.0.0.1:{httpd.server_port}'
    before = os.environ.get('CORS_ORIGINS', '')
    os.environ['CORS_ORIGINS'] = ','.join(filter(None, [before, origin]))
    settings.reload()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield origin
    httpd.shutdown()
    os.environ['CORS_ORIGINS'] = before
    settings.reload()


@pytest.fixture(scope='session')
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail('Chromium is needed for the browser tests: `make browser` (or apt-get install chromium) '
                    f'installs it; set CHROMIUM=/path/to/chromium to use another one. Not found: {CHROMIUM}')
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, 'rep_' + report.when, report)


def _new_page(browser, request, **context_options):
    context = browser.new_context(locale='ko-KR', timezone_id='Asia/Seoul', **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.js_errors = []
    page.on('pageerror', lambda exc: page.js_errors.append(str(exc)))
    return context, page


def _finish(context, page, request, name):
    rep = getattr(request.node, 'rep_call', None)
    try:
        if rep is not None and rep.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            stem = re.sub(r'[^\w.-]+', '_', request.node.nodeid.split('::', 1)[-1]) + name
            page.screenshot(path=str(ARTIFACTS / (stem + '.png')), full_page=True)
            (ARTIFACTS / (stem + '.txt')).write_text(
                f'url: {page.url}\njs errors: {page.js_errors}\n\n{page.content()}', encoding='utf-8')
    finally:
        context.close()
    if rep is not None and rep.passed:
        assert not page.js_errors, f'uncaught errors in the page: {page.js_errors}'


@pytest.fixture
def page(browser, frontend, store, request):
    """A fresh browser context (no storage) per test, desktop-sized."""
    context, pg = _new_page(browser, request, viewport={'width': 1280, 'height': 800})
    yield pg
    _finish(context, pg, request, '')


@pytest.fixture
def phone(browser, frontend, store, request):
    """A fresh phone-sized context."""
    context, pg = _new_page(browser, request, viewport={'width': 390, 'height': 844},
                            device_scale_factor=2, is_mobile=True, has_touch=True)
    yield pg
    _finish(context, pg, request, '-phone')


class Site:
    def __init__(self, origin: str, api: Api):
        self.origin, self.api = origin, api

    def url(self, path: str = '') -> str:
        return self.origin + '/' + path.lstrip('/')

    def user(self, nickname='명대사팬', email=None, password=PASSWORD):
        """A new account through the API: its email, password and login answer."""
        email = email or f'fan-{secrets.token_hex(4)}@example.com'
        joined = self.api.join(email=email, nickname=nickname, password=password)
        return dict(joined, email=email, password=password, nickname=nickname)

    def sign_in(self, page, account, path='index.html'):
        """Put the account's tokens where the client keeps them, then open `path`."""
        page.goto(self.url('config.js'))
        page.evaluate('''([access, refresh, user]) => {
            localStorage.setItem('access', access);
            localStorage.setItem('refresh', refresh);
            localStorage.setItem('user', JSON.stringify(user));
        }''', [account['access'], account['refresh'], account['user']])
        page.goto(self.url(path))

    @staticmethod
    def storage(page, key):
        return page.evaluate('(k) => localStorage.getItem(k)', key)


@pytest.fixture
def site(frontend, api):
    return Site(frontend, api)
