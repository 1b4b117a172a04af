"""The API docs page: reached from every page's footer, it draws /openapi.json with the
vendored Swagger UI and fetches nothing from anywhere but our own two origins."""
import json
import os
from urllib.parse import urlsplit

from playwright.sync_api import expect

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


VIEWER_TIMEOUT_MS = 20000  # the viewer is a 1.7 MB script: its first drawing gets more time on a busy machine


def drawn(page):
    expect(page.locator('#api-docs .opblock').first).to_be_visible(timeout=VIEWER_TIMEOUT_MS)


def operations():
    with open(os.path.join(ROOT, 'chalicelib', 'service', 'openapi.json'), encoding='utf-8') as f:
        doc = json.load(f)
    return [(method.upper(), path) for path, item in doc['paths'].items() for method in item]


def test_docs_page_from_the_footer_shows_every_route(page, site, server):
    hosts = set()
    page.on('request', lambda r: hosts.add(urlsplit(r.url).netloc) if r.url.startswith('http') else None)
    page.goto(site.url('login.html'))
    page.get_by_role('contentinfo').get_by_role('link', name='API 문서').click()
    expect(page).to_have_url(site.url('docs.html'))
    expect(page.get_by_role('heading', name='API 문서', exact=True)).to_be_visible()
    expect(page.locator('#openapi-link')).to_have_attribute('href', server + '/openapi.json')

    drawn(page)
    expected = operations()
    blocks = page.locator('#api-docs .opblock')
    expect(blocks).to_have_count(len(expected))
    for method, path in expected:
        block = page.locator('#api-docs .opblock-summary', has=page.locator(
            '.opblock-summary-method', has_text=method)).filter(has=page.locator(f'[data-path="{path}"]'))
        expect(block).to_have_count(1)
    expect(page.locator('#api-docs .information-container')).to_contain_text('trailing slash')
    # Swagger UI came from our files: no CDN, no validator badge calling swagger.io.
    assert hosts <= {urlsplit(site.origin).netloc, urlsplit(server).netloc}, hosts


def test_docs_page_try_it_out_calls_this_api(page, site):
    page.goto(site.url('docs.html'))
    drawn(page)
    health = page.locator('#operations-service-getHealth')
    health.locator('.opblock-summary-control').click()
    health.get_by_role('button', name='Try it out').click()
    health.get_by_role('button', name='Execute').click()
    live = health.locator('.live-responses-table tbody .response')
    expect(live.locator('.response-col_status')).to_have_text('200')
    expect(live).to_contain_text('"status": "ok"')
