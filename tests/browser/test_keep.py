"""What people do with a line they like, in the browser: rate it, keep it, share it (the public
page, its PNG, revoking), find it again (search), take it with them (export), and the admin's
per-line figures."""
import base64
import contextlib
import csv
import io
import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from chalicelib.accounts import auth
from tests.browser.conftest import TIMEOUT_MS

BOSS = '상사가 부당한 일을 자꾸 시켜요'


def ask(site, account, text=BOSS):
    r = site.api.post('/chat/api', {'input': text}, token=account['access'])
    assert r.status == 200, r
    return r.json['chat']


def chat_of(site, account, chat_id):
    r = site.api.get('/chat/model/' + chat_id, token=account['access'])
    assert r.status == 200, r
    return r.json


@contextlib.contextmanager
def visitor(browser):
    """Someone else's browser: no tokens, no history."""
    context = browser.new_context(locale='ko-KR', timezone_id='Asia/Seoul', accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors = []
    page.on('pageerror', lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors


# -- rating ------------------------------------------------------------------------------------
def test_rate_an_answer_in_the_chat_and_change_it_in_the_history(page, site, demo):
    account = site.user()
    site.sign_in(page, account)
    box = page.get_by_label('고민이나 상황')
    box.fill(BOSS)
    box.press('Enter')
    card = page.locator('.answer')
    up, down = card.get_by_role('button', name='도움이 됐어요'), card.get_by_role('button', name='잘 맞지 않아요')
    expect(up).to_have_attribute('aria-pressed', 'false')
    up.click()
    expect(up).to_have_attribute('aria-pressed', 'true')
    expect(up).to_be_focused()
    saved = site.api.get('/chat/model', token=account['access']).json['results'][0]
    assert saved['chat_reply']['rating'] == 1

    page.goto(site.url('history.html'))
    item = page.locator('.history-item')
    expect(item.get_by_role('button', name='도움이 됐어요')).to_have_attribute('aria-pressed', 'true')
    down = item.get_by_role('button', name='잘 맞지 않아요')
    down.focus()
    page.keyboard.press('Space')  # by keyboard
    expect(down).to_have_attribute('aria-pressed', 'true')
    expect(item.get_by_role('button', name='도움이 됐어요')).to_have_attribute('aria-pressed', 'false')
    assert chat_of(site, account, saved['id'])['chat_reply']['rating'] == -1
    down.click()  # pressed again: no rating
    expect(down).to_have_attribute('aria-pressed', 'false')
    expect(page.locator('#page-status')).to_have_text('평가를 지웠어요.')
    assert chat_of(site, account, saved['id'])['chat_reply']['rating'] == 0


# -- my lines ----------------------------------------------------------------------------------
def test_keep_a_line_from_a_card_then_see_and_remove_it_in_my_lines(page, site, demo):
    account = site.user()
    chats = [ask(site, account) for _ in range(2)] + [ask(site, account, '시험에 떨어졌어요')]
    site.sign_in(page, account, 'history.html')
    items = page.locator('.history-item')
    expect(items).to_have_count(3)
    for i in (0, 2):  # the exam line, then the boss line
        button = items.nth(i).locator('button.bookmark')
        expect(button).to_have_accessible_name('내 명대사에 담기')
        button.click()
        expect(button).to_have_attribute('aria-pressed', 'true')
        expect(button).to_have_text('★ 내 명대사에 담겼어요')
    expect(page.locator('#page-status')).to_have_text('내 명대사에 담았어요.')

    page.get_by_role('link', name='내 명대사').first.click()
    expect(page).to_have_url(site.url('my-lines.html'))
    lines = page.locator('.line-item')
    expect(lines).to_have_count(2)
    expect(lines.locator('.quote')).to_have_text([chats[0]['chat_reply']['quote'], chats[2]['chat_reply']['quote']])
    expect(lines.locator('.times-given')).to_have_text(['챗봇이 2번 건넨 대사', '챗봇이 1번 건넨 대사'])
    expect(page.locator('#lines-summary')).to_contain_text('2개')

    lines.first.get_by_role('button', name='빼기').click()
    expect(page.locator('#page-status')).to_have_text('내 명대사에서 뺐어요.')
    expect(lines).to_have_count(1)
    expect(lines.first.get_by_role('button', name='빼기')).to_be_focused()
    lines.first.get_by_role('button', name='빼기').press('Enter')
    expect(page.locator('.history-list .empty')).to_contain_text('아직 담은 대사가 없어요')
    expect(page.get_by_role('heading', name='내 명대사')).to_be_focused()
    assert site.api.get('/chat/bookmarks', token=account['access']).json['count'] == 0


# -- sharing -----------------------------------------------------------------------------------
def test_share_by_keyboard_open_it_elsewhere_then_revoke_it(page, site, demo, browser):
    account = site.user(nickname='공유한사람')
    chat = ask(site, account)
    site.sign_in(page, account, 'history.html')
    toggle = page.get_by_role('button', name='공유하기')
    toggle.focus()
    page.keyboard.press('Enter')
    expect(toggle).to_have_attribute('aria-expanded', 'true')
    question = page.get_by_label('내 질문도 함께 보여 주기')
    expect(question).to_be_focused()
    page.keyboard.press('Tab')
    expect(page.get_by_role('button', name='공유 링크 만들기')).to_be_focused()
    page.keyboard.press('Enter')
    link_field = page.get_by_label('공유 링크 주소')
    expect(link_field).to_be_focused()
    url = link_field.input_value()
    assert url.startswith(site.url('share.html?id='))
    share_id = url.split('id=')[1]

    with visitor(browser) as other:
        other.goto(url)
        card = other.locator('.answer')
        expect(card.locator('.quote')).to_have_text(chat['chat_reply']['quote'])
        expect(card.locator('.episode')).to_have_text(f"{chat['chat_reply']['scene']}회")
        expect(other.locator('.shared-input')).to_have_count(0)
        body = other.locator('main').inner_text()
        assert BOSS not in body and '공유한사람' not in body
        expect(other.get_by_role('button', name='이미지로 저장')).to_be_visible()

        page.goto(site.url('shares.html'))
        entry = page.locator('.share-item')
        expect(entry).to_have_count(1)
        expect(entry.locator('.excerpt')).to_have_text(chat['chat_reply']['quote'])
        entry.get_by_role('button', name='링크 취소').click()
        page.get_by_role('dialog').get_by_role('button', name='링크 취소').click()
        expect(page.locator('#page-status')).to_have_text('공유 링크를 취소했어요.')
        expect(page.locator('.history-list .empty')).to_contain_text('공유한 카드가 없어요')
        assert site.api.get('/share/' + share_id).status == 404

        other.reload()  # revoked: the page says so
        expect(other.get_by_role('heading', level=1)).to_have_text('카드를 찾을 수 없어요')
        expect(other.locator('[role="alert"]')).to_contain_text('링크가 취소되었거나')
        expect(other.get_by_role('button', name='이미지로 저장')).to_be_hidden()


def test_a_card_shared_with_the_question_shows_it(page, site, demo, browser):
    account = site.user()
    chat = ask(site, account)
    site.sign_in(page, account)
    page.goto(site.url('history.html'))
    page.get_by_role('button', name='공유하기').click()
    page.get_by_label('내 질문도 함께 보여 주기').check()
    page.get_by_role('button', name='공유 링크 만들기').click()
    url = page.get_by_label('공유 링크 주소').input_value()
    with visitor(browser) as other:
        other.goto(url)
        expect(other.locator('.shared-input')).to_have_text('공유한 사람의 고민: ' + BOSS)
        expect(other.locator('.answer .quote')).to_have_text(chat['chat_reply']['quote'])


def test_a_malformed_share_address_says_not_found(page, site):
    page.goto(site.url('share.html?id=../../etc'))
    expect(page.get_by_role('heading', level=1)).to_have_text('카드를 찾을 수 없어요')
    page.goto(site.url('share.html?id=' + 'A' * 24))  # well-formed, unknown
    expect(page.locator('[role="alert"]')).to_contain_text('링크가 취소되었거나')


def _png_size(data: bytes):
    assert data[:8] == b'\x89PNG\r\n\x1a\n', data[:8]
    assert data[12:16] == b'IHDR'
    return struct.unpack('>II', data[16:24])


def test_save_as_image_draws_the_card_to_a_png_with_korean_text(page, site, demo):
    if not shutil.which('fc-list') or not subprocess.run(['fc-list', ':lang=ko'], capture_output=True,
                                                         text=True).stdout.strip():
        pytest.fail('A font with Hangul is needed to draw the card (make browser installs fonts-nanum as root; '
                    'otherwise: sudo apt-get install fonts-nanum)')
    account = site.user()
    long_line = max(demo.lines, key=lambda ln: len(ln['quote']))  # wraps over several lines
    chat = ask(site, account, long_line['description'])
    share = site.api.post(f"/chat/model/{chat['id']}/share", {'include_input': True}, token=account['access']).json
    card = site.api.get('/share/' + share['id']).json
    page.goto(site.url('share.html?id=' + share['id']))
    expect(page.locator('.answer .quote')).to_have_text(card['quote'])

    with page.expect_download() as info:
        page.get_by_role('button', name='이미지로 저장').click()
    download = info.value
    assert download.suggested_filename.endswith('.png')
    png = Path(download.path()).read_bytes()
    width, height = _png_size(png)
    expect(page.locator('#page-status')).to_have_text('카드를 이미지(PNG)로 저장했어요.')
    expect(page.get_by_role('button', name='이미지로 저장')).to_be_focused()

    drawn = page.evaluate('''async (card) => {
        const m = await import('./js/card-image.js');
        const url = (c) => m.drawCard(c).toDataURL('image/png');
        const blob = await m.cardPng(card);
        const bytes = new Uint8Array(await blob.arrayBuffer());
        let bin = ''; bytes.forEach((b) => { bin += String.fromCharCode(b); });
        return {
          png: btoa(bin),
          layout: m.layout(card),
          // same length, other syllables: a font without Hangul draws both as the same boxes
          hangul: [url({...card, input: null, quote: '가나다라마바사'}),
                   url({...card, input: null, quote: '아자차카타파하'})],
        };
    }''', card)
    assert base64.b64decode(drawn['png']) == png  # the download is the card's drawing
    assert (width, height) == (1080, drawn['layout']['height'])
    blocks = drawn['layout']['blocks']
    def squash(s):
        return ''.join(s.split())
    # every syllable of the input, the line and the reason is on the card, in order
    assert [squash(''.join(b['lines'])) for b in blocks] == [
        squash(card['input']), squash(f"“{card['quote']}”"), squash(card['description'])]
    assert len(blocks[1]['lines']) >= 2
    assert drawn['hangul'][0] != drawn['hangul'][1], 'Hangul drawn as the same boxes: no Korean font'


# -- search ------------------------------------------------------------------------------------
def test_search_the_history(page, site, demo):
    account = site.user()
    reply = {'scene': 1, 'quote': '대사', 'description': '설명'}
    for text in ('회사 동료가 부당하게 굴어요', '시험 준비가 막막해요', '부당한 대우를 받았어요',
                 '오늘은 그냥 쉬고 싶어요'):
        r = site.api.post('/chat/model', {'content': text, 'chat_reply': reply}, token=account['access'])
        assert r.status == 201, r
    site.sign_in(page, account, 'history.html')
    expect(page.locator('#history-list .history-item')).to_have_count(4)
    box = page.get_by_label('내 대화에서 찾기')
    box.fill('부당')
    box.press('Enter')
    found = page.locator('#search-list .history-item')
    expect(found.locator('.bubble')).to_have_text(['나: 부당한 대우를 받았어요', '나: 회사 동료가 부당하게 굴어요'])
    expect(page.locator('#history-summary')).to_have_text('“부당”: 대화 2개를 찾았어요.')
    expect(page.locator('#history-list')).to_be_hidden()
    box.fill('없는 말')
    page.get_by_role('button', name='찾기').click()
    expect(page.locator('#history-summary')).to_have_text('“없는 말”: 찾은 대화가 없어요.')
    page.get_by_role('button', name='전체 보기').click()
    expect(page.locator('#history-list .history-item')).to_have_count(4)
    expect(box).to_be_focused()
    expect(box).to_have_value('')


def test_a_search_reaches_past_what_one_request_reads(page, site, demo, store):
    """The match is older than the first 1,000 chats: the page fetches on until it finds it."""
    from tests.test_search_export import seed
    account = site.user()
    seed(store, account['user']['id'], 1300, content=lambda k: '아주 오래된 비밀' if k == 0 else f'고민 {k}')
    site.sign_in(page, account, 'history.html')
    box = page.get_by_label('내 대화에서 찾기')
    box.fill('비밀')
    box.press('Enter')
    expect(page.locator('#search-list .bubble')).to_have_text(['나: 아주 오래된 비밀'])
    expect(page.locator('#history-summary')).to_have_text('“비밀”: 대화 1개를 찾았어요.')


# -- export ------------------------------------------------------------------------------------
def test_export_downloads_json_and_csv_of_every_chat(page, site, demo, store):
    from tests.test_search_export import seed
    account = site.user()
    ask(site, account)
    site.api.put('/chat/bookmarks/' + demo.lines[0]['id'], token=account['access'])
    seed(store, account['user']['id'], 1100, content=lambda k: f'한글 고민 {k}')  # two parts
    site.sign_in(page, account, 'history.html')

    with page.expect_download() as info:
        page.get_by_role('button', name='JSON으로 받기').click()
    data = json.loads(Path(info.value.path()).read_text(encoding='utf-8'))
    assert info.value.suggested_filename.endswith('.json')
    assert len(data['chats']) == 1101 and len({c['id'] for c in data['chats']}) == 1101
    assert data['chats'][-1]['content'] == BOSS  # the oldest: asked first
    assert [b['line']['id'] for b in data['bookmarks']] == [demo.lines[0]['id']]
    expect(page.locator('#page-status')).to_have_text('JSON 파일로 내려받았어요.')

    with page.expect_download() as info:
        page.get_by_role('button', name='CSV로 받기').click()
    raw = Path(info.value.path()).read_bytes()
    assert raw.startswith(b'\xef\xbb\xbf') and raw.count(b'\xef\xbb\xbf') == 1  # one BOM: Excel shows Korean
    rows = list(csv.DictReader(io.StringIO(raw.decode('utf-8')[1:])))
    assert len(rows) == 1102 and rows[0]['type'] == 'bookmark'  # one header row, the bookmark, 1,101 chats
    assert sum(r['type'] == 'chat' for r in rows) == 1101 and '한글 고민 1099' in {r['input'] for r in rows}
    expect(page.get_by_role('button', name='CSV로 받기')).to_be_focused()


# -- the admin's figures -----------------------------------------------------------------------
def test_admin_sees_per_line_figures_from_the_board(page, site, demo):
    account = site.user(email='boss@example.com')
    for value in (-1, -1, 1):
        chat = ask(site, account)
        site.api.put(f"/chat/model/{chat['id']}/rating", {'value': value}, token=account['access'])
    site.sign_in(page, account, 'board.html')
    expect(page.get_by_role('link', name='대사별 반응 (관리자)')).to_be_hidden()
    auth.set_admin('boss@example.com')
    page.reload()
    page.get_by_role('link', name='대사별 반응 (관리자)').click()
    expect(page).to_have_url(site.url('board-stats.html'))
    rows = page.locator('#stats-list tr')
    expect(rows).to_have_count(10)  # a page
    expect(page.locator('.page-info')).to_contain_text(f'모두 {len(demo)}개')
    first = rows.first
    expect(first.locator('.stats-quote')).to_have_text(chat['chat_reply']['quote'])  # most 👎 first
    expect(first.locator('.given')).to_have_text('3')
    expect(first.locator('.up')).to_have_text('1')
    expect(first.locator('.down')).to_have_text('2')
    page.get_by_label('정렬').select_option('scene')
    expect(rows.first.locator('td').first).to_contain_text('1회')


# -- accessibility of these pages (axe-core, WCAG 2.1 A/AA), light and dark ---------------------
@pytest.fixture(params=['light', 'dark'])
def scheme(request, page):
    page.emulate_media(color_scheme=request.param)
    return request.param


def test_keep_share_and_stats_pages_are_accessible(page, site, demo, scheme, browser):
    from tests.browser.a11y import assert_accessible, assert_focus_visible
    account = site.user(email=f'a11y-{scheme}@example.com')
    chat = ask(site, account)
    site.api.put('/chat/bookmarks/' + chat['chat_reply']['line_id'], token=account['access'])
    site.sign_in(page, account, 'history.html')
    expect(page.locator('.history-item')).to_have_count(1)
    page.get_by_role('button', name='도움이 됐어요').click()
    page.get_by_role('button', name='공유하기').click()
    page.get_by_role('button', name='공유 링크 만들기').click()
    expect(page.get_by_label('공유 링크 주소')).to_be_focused()
    assert_focus_visible(page)
    assert_accessible(page, 'history: rated, share link made')
    page.get_by_label('내 대화에서 찾기').fill('부당')
    page.get_by_role('button', name='찾기').click()
    expect(page.locator('#search-list .history-item')).to_have_count(1)
    assert_accessible(page, 'history: search results')

    page.goto(site.url('my-lines.html'))
    expect(page.locator('.line-item')).to_have_count(1)
    assert_accessible(page, 'my lines: one line')
    page.goto(site.url('shares.html'))
    expect(page.locator('.share-item')).to_have_count(1)
    assert_accessible(page, 'my links: one link')
    share_url = page.locator('.share-item a').first.get_attribute('href')
    page.get_by_role('button', name='링크 취소').click()
    expect(page.get_by_role('dialog')).to_be_visible()
    assert_accessible(page, 'my links: the confirm dialog')
    page.keyboard.press('Escape')

    page.goto(share_url)
    expect(page.locator('.answer')).to_be_visible()
    assert_accessible(page, 'share page: a card')
    page.goto(site.url('share.html?id=' + 'A' * 24))
    expect(page.get_by_role('heading', level=1)).to_have_text('카드를 찾을 수 없어요')
    assert_accessible(page, 'share page: not found')

    auth.set_admin(account['email'])
    page.goto(site.url('board-stats.html'))
    expect(page.locator('#stats-list tr')).to_have_count(10)
    assert_accessible(page, 'per-line figures')
    page.goto(site.url('my-lines.html'))
    page.get_by_role('button', name='빼기').click()
    expect(page.locator('.history-list .empty')).to_be_visible()
    assert_accessible(page, 'my lines: empty')
