"""Accessibility: axe-core (WCAG 2.1 A/AA) on every page in its main states, light and dark;
the chat and the other actions by keyboard alone; what screen readers are told; reduced motion."""
import json
import re

import pytest
from playwright.sync_api import expect

from chalicelib.chat import model
from tests.browser.a11y import assert_accessible, assert_focus_visible, focused, tab_to
from tests.browser.conftest import PASSWORD
from tests.browser.test_docs import VIEWER_TIMEOUT_MS, operations
from tools.devkit.fake_openai import completion

PROPOSAL = {'title': '여론에 대하여', 'content': '여론은 아무것도 책임지지 않습니다.',
            'description': '남의 말에 흔들릴 때.', 'scene': 1, 'speaker': '백승수'}
# A test's first answer waits for the corpus index to be built (each test starts with clean
# tables) and, on the OpenAI path, for the first import of the client: seconds on a busy machine.
FIRST_ANSWER_MS = 20000


@pytest.fixture(params=['light', 'dark'])
def scheme(request, page):
    """Each state is checked in both colour schemes the CSS offers."""
    page.emulate_media(color_scheme=request.param)
    return request.param


def hold_chat_answers(page):
    """Hold POST /chat/api in the browser so the "thinking" state stays on screen; returns the
    list the held routes land in (continue_() each to let it through)."""
    held = []
    page.route('**/chat/api', lambda route: held.append(route) if route.request.method == 'POST'
               else route.continue_())
    return held


def wait_for(page, condition, what):
    for _ in range(300):  # route handlers run on Playwright's side: poll for them (≤ 15 s)
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError('timed out waiting for ' + what)


def ask_via_api(site, account, texts):
    for text in texts:
        r = site.api.post('/chat/api', {'input': text}, token=account['access'])
        assert r.status == 200 and r.json['fits'], r  # a situation: answered and saved


def propose(site, account, **fields):
    r = site.api.post('/quote', dict(PROPOSAL, **fields), token=account['access'])
    assert r.status == 201, r
    return r.json


# -- axe on every page, in its main states ----------------------------------------------------------
def test_logged_out_pages(page, site, scheme):
    account = site.user()
    page.goto(site.url('login.html'))
    expect(page.get_by_label('이메일')).to_be_focused()
    assert_accessible(page, 'login: empty')

    page.get_by_label('이메일').fill(account['email'])
    page.get_by_label('비밀번호').fill('wrong password')
    page.get_by_label('비밀번호').press('Enter')
    expect(page.locator('#login-form .form-message')).not_to_be_empty()
    assert_accessible(page, 'login: wrong password')

    page.goto(site.url('history.html'))  # logged out: sent to log in, with the reason
    expect(page.locator('#page-status')).to_have_text('로그인이 필요합니다.')
    assert_accessible(page, 'login: sent here by a protected page')

    page.goto(site.url('join.html'))
    assert_accessible(page, 'join: empty')
    page.get_by_label('이메일').fill('not an email')
    page.get_by_label('비밀번호', exact=True).fill('short')
    page.get_by_label('비밀번호 확인').fill('short')
    page.get_by_role('button', name='가입하기').click()
    expect(page.locator('#join-form [aria-invalid="true"]').first).to_be_visible()
    assert_accessible(page, 'join: field errors')

    page.route('**/config.js', lambda route: route.fulfill(status=404, body='not found'))
    page.goto(site.url('index.html'))
    expect(page.get_by_role('heading', name='설정이 필요합니다')).to_be_visible()
    assert_accessible(page, 'any page: config.js missing')


def test_chat_page(page, site, demo, fake_openai, scheme):
    site.sign_in(page, site.user())
    expect(page.get_by_label('고민이나 상황')).to_be_visible()
    assert_accessible(page, 'chat: empty')

    page.get_by_role('button', name='보내기').click()
    expect(page.locator('#chat-form .form-message')).not_to_be_empty()
    assert_accessible(page, 'chat: sent empty')

    held = hold_chat_answers(page)
    page.get_by_label('고민이나 상황').fill('상사가 부당한 일을 시켜요')
    page.get_by_label('고민이나 상황').press('Enter')
    expect(page.locator('.thinking')).to_be_visible()
    assert_accessible(page, 'chat: thinking')
    wait_for(page, lambda: held, 'the held answer')
    held[0].continue_()
    expect(page.locator('.answer')).to_be_visible(timeout=FIRST_ANSWER_MS)
    assert_accessible(page, 'chat: an answer')

    fake_openai.behaviour = lambda req: (200, completion(json.dumps(
        {'candidate_id': 'none', 'quote': '', 'description': '상황이 아니에요.'}, ensure_ascii=False)), 0)
    page.get_by_label('고민이나 상황').fill('점심 뭐 먹지')
    page.get_by_label('고민이나 상황').press('Enter')
    wait_for(page, lambda: len(held) == 2, 'the no-fit answer')
    held[-1].continue_()
    expect(page.locator('.no-fit')).to_be_visible()
    assert_accessible(page, 'chat: no line fits')

    fake_openai.behaviour = lambda req: (500, {'error': {'message': 'boom', 'type': 'server_error'}}, 0)
    page.get_by_label('고민이나 상황').fill('또 다른 고민')
    page.get_by_label('고민이나 상황').press('Enter')
    wait_for(page, lambda: len(held) == 3, 'the failing answer')
    held[-1].continue_()
    expect(page.locator('.chat-log [role="alert"]')).to_contain_text('답을 받지 못했어요')
    assert_accessible(page, 'chat: an answer failed')


def test_history_page(page, site, demo, scheme):
    account = site.user()
    site.sign_in(page, account, 'history.html')
    expect(page.locator('.history-list .empty')).to_be_visible()
    assert_accessible(page, 'history: empty')

    ask_via_api(site, account, [f'고민 {i}번: 면접에서 또 떨어졌어요' for i in range(7)])
    page.reload()
    expect(page.locator('.history-item')).to_have_count(5)
    expect(page.get_by_role('navigation', name='대화 기록 페이지')).to_be_visible()
    assert_accessible(page, 'history: a page of chats and the pager')

    page.get_by_role('button', name='전체 삭제').click()
    expect(page.get_by_role('dialog')).to_be_visible()
    assert_accessible(page, 'history: the confirm dialog')
    page.keyboard.press('Escape')

    page.route('**/chat/model/*', lambda route: route.abort())  # the network fails the delete
    page.locator('.history-item').first.get_by_role('button', name='삭제').click()
    expect(page.locator('#page-status')).to_contain_text('서버에 연결할 수 없습니다')
    assert_accessible(page, 'history: an error shown')


def test_board_pages(page, site, scheme, configure):
    configure(BOARD_POST_LIMIT_PER_HOUR=0)  # one author proposing 12 at once is past the hourly limit
    account = site.user()
    site.sign_in(page, account, 'board.html')
    expect(page.locator('.board-list .empty')).to_be_visible()
    assert_accessible(page, 'board: empty')

    for i in range(12):
        propose(site, account, title=f'제안 {i:02}')
    page.reload()
    expect(page.locator('.proposal-item')).to_have_count(10)
    assert_accessible(page, 'board: a page of proposals and the pager')

    page.goto(site.url('board-form.html'))
    assert_accessible(page, 'board form: empty')
    page.get_by_role('button', name='등록하기').click()
    expect(page.locator('#title-error')).not_to_be_empty()
    assert_accessible(page, 'board form: field errors')

    quote_id = propose(site, account)['id']
    page.goto(site.url('board-view.html?id=' + quote_id))
    expect(page.get_by_role('button', name='삭제')).to_be_visible()
    assert_accessible(page, 'board view: own proposal with its actions')
    page.get_by_role('button', name='삭제').click()
    expect(page.get_by_role('dialog')).to_be_visible()
    assert_accessible(page, 'board view: the confirm dialog')
    page.keyboard.press('Escape')

    page.goto(site.url('board-form.html?id=' + quote_id))
    expect(page.get_by_label('제목')).to_have_value(PROPOSAL['title'])
    assert_accessible(page, 'board form: editing')

    page.goto(site.url('board-view.html?id=nope'))
    expect(page.locator('#page-status')).not_to_be_empty()
    assert_accessible(page, 'board view: not found')


def test_profile_page(page, site, scheme):
    site.sign_in(page, site.user(), 'profile.html')
    expect(page.locator('#account')).not_to_have_attribute('aria-busy', 'true')
    assert_accessible(page, 'profile: loaded')

    page.get_by_label('현재 비밀번호').fill('nope nope')
    page.get_by_label('새 비밀번호', exact=True).fill('new password 2')
    page.get_by_label('새 비밀번호 확인').fill('different 3')
    page.get_by_role('button', name='비밀번호 바꾸기').click()
    expect(page.locator('#password_confirm-error')).not_to_be_empty()
    page.get_by_label('새 닉네임').fill('드림즈 단장')
    page.get_by_role('button', name='닉네임 저장').click()
    expect(page.locator('#nickname-form .form-message')).to_have_text('닉네임을 바꿨어요.')
    assert_accessible(page, 'profile: an error and a success shown')

    page.locator('#delete-form').get_by_label('비밀번호').fill(PASSWORD)
    page.locator('#delete-form').get_by_role('button', name='탈퇴하기').click()
    expect(page.get_by_role('dialog')).to_be_visible()
    assert_accessible(page, 'profile: the confirm dialog')


# The docs page's operations of every kind, opened for the scan: query parameters with an enum
# <select>, a path parameter, request bodies, answers with long examples and numbers, error
# answers whose descriptions hold code, no input. (Opening all 35 takes ~15 s of drawing, and
# minutes on a busy machine, where the clicks that follow then time out.)
DOCS_SAMPLE = [('keep', 'getChatExport'), ('chat', 'getChatModel'), ('chat', 'deleteChatModelChat_id'),
               ('keep', 'putChatModelChat_idRating'), ('accounts', 'postRestAuthJoin'),
               ('accounts', 'postRestAuthLogin'), ('board', 'postQuote'), ('service', 'getHealth')]


def ax_headings(page):
    """(level, name) of each heading as Chromium's accessibility tree has them, which is what screen
    readers are given (Playwright's role queries take an h1's level from its tag, not aria-level)."""
    nodes = page.context.new_cdp_session(page).send('Accessibility.getFullAXTree')['nodes']
    return [(next(p['value']['value'] for p in n['properties'] if p['name'] == 'level'), n['name']['value'])
            for n in nodes if n.get('role', {}).get('value') == 'heading' and not n.get('ignored')]


def test_docs_page(page, site, scheme):
    """The API docs page once Swagger UI has drawn the document, nothing left out: every operation
    listed; then one operation of each kind open (parameters, request bodies, responses, examples),
    three in Try it out with one answered, the schemas section open; then the Authorize dialog. The viewer is
    themed and patched for it (css/style.css, js/pages/docs.js); in the dark scheme it stays the
    light panel its own colours were made for."""
    page.goto(site.url('docs.html'))
    rows = page.locator('#api-docs .opblock-summary-control')
    expect(rows).to_have_count(len(operations()), timeout=VIEWER_TIMEOUT_MS)
    assert_accessible(page, 'docs: every operation listed')
    expect(page.get_by_role('main')).to_have_count(1)  # the viewer's own <main> is a <div> here
    expect(page.get_by_role('combobox', name='Servers')).to_be_visible()
    headings = ax_headings(page)  # the page's h1, the document's title under it, then its tags
    assert headings[:2] == [(1, 'API 문서'), (2, 'Stove League quote chatbot API 1.0.0 OAS 3.1')], headings
    assert headings[2][0] == 3 and headings[2][1].startswith('service'), headings

    sample = page.locator(', '.join(f'#operations-{tag}-{op} .opblock-summary-control' for tag, op in DOCS_SAMPLE))
    expect(sample).to_have_count(len(DOCS_SAMPLE))
    sample.evaluate_all('(rows) => rows.forEach((row) => row.click())')  # one by one takes twice as long
    expect(page.locator('#api-docs .opblock.is-open')).to_have_count(len(DOCS_SAMPLE))
    page.locator('#operations-accounts-postRestAuthJoin').get_by_role('tab', name='Schema').first.click()
    for path in ('/chat/export', '/rest-auth/login', '/health'):  # parameters; a request body; no input
        op = page.locator('#api-docs .opblock').filter(has=page.locator(f'[data-path="{path}"]')).first
        op.get_by_role('button', name='Try it out').click()
        expect(op.get_by_role('button', name='Execute')).to_be_visible()
    health = page.locator('#operations-service-getHealth')
    health.get_by_role('button', name='Execute').click()
    expect(health.locator('.live-responses-table tbody .response-col_status')).to_have_text('200')
    page.get_by_role('button', name='Schemas').click()
    error = page.locator('#api-docs section.models').get_by_role('button', name='Error', exact=True)
    error.click()
    expect(error).to_have_attribute('aria-expanded', 'true')
    assert_accessible(page, 'docs: one operation of each kind open, Try it out and an answer, the schemas')

    page.locator('#api-docs .scheme-container').get_by_role('button', name='Authorize').click()
    expect(page.get_by_role('dialog', name='Available authorizations')).to_be_visible()
    assert_accessible(page, 'docs: the Authorize dialog')
    panel = page.evaluate("""() => { const s = getComputedStyle(document.querySelector('#api-docs'));
        return [s.backgroundColor, s.colorScheme]; }""")
    assert panel == ['rgb(255, 255, 255)', 'light'], panel


def test_the_helper_reports_violations_readably(page, site):
    """assert_accessible must fail, naming rule and element, on a page that breaks the rules."""
    page.goto(site.url('login.html'))
    page.evaluate('''() => {
        const b = document.querySelector('#login-form button');
        b.style.background = '#ffb380'; b.style.color = '#ffffff';
        document.querySelector('#email').removeAttribute('id');
    }''')
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page, 'login: broken on purpose')
    message = str(failure.value)
    assert 'in "login: broken on purpose"' in message
    assert '- color-contrast (serious, wcag2aa wcag143)' in message
    assert '<button type="submit" class="button primary block"' in message  # which element
    assert 'Expected contrast ratio of 4.5:1' in message  # and how to fix it
    assert '- label (critical, wcag2a wcag412)' in message  # the input that lost its label


# -- keyboard only ----------------------------------------------------------------------------------
def test_the_chat_by_keyboard_only(page, site, demo):
    account = site.user(nickname='키보드')
    ask_via_api(site, account, ['예전에 시험 떨어져서 힘들었어요'])
    page.goto(site.url('login.html'))
    expect(page.get_by_label('이메일')).to_be_focused()
    page.keyboard.type(account['email'])
    page.keyboard.press('Tab')
    assert_focus_visible(page)
    page.keyboard.type(PASSWORD)
    page.keyboard.press('Enter')
    expect(page).to_have_url(site.url('index.html'))

    page.keyboard.press('Tab')  # the first stop is the skip link, visible once focused
    skip = page.get_by_role('link', name='본문으로 건너뛰기')
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    assert_focus_visible(page)
    page.keyboard.press('Enter')
    box = page.get_by_label('고민이나 상황')
    tab_to(page, page.get_by_role('button', name='상사가 자꾸 부당한 일을 시켜요'))
    page.keyboard.press('Space')  # a suggestion fills the box and hands it the focus
    expect(box).to_be_focused()
    expect(box).to_have_value('상사가 자꾸 부당한 일을 시켜요')
    page.keyboard.press('Enter')
    card = page.locator('.answer')
    expect(card).to_be_focused(timeout=FIRST_ANSWER_MS)  # focus lands on the new answer
    assert_focus_visible(page)

    tab_to(page, box)  # on from the answer to the box, for the next worry
    page.keyboard.type('회사에서 파벌 싸움 때문에 지쳤어요')
    page.keyboard.press('Enter')
    expect(card).to_have_count(2)
    expect(card.nth(1)).to_be_focused()
    best = model.fitting('회사에서 파벌 싸움 때문에 지쳤어요', demo)[0]  # what the local answerer ranks first
    expect(card.nth(1).locator('.quote')).to_have_text(best['quote'])

    tab_to(page, page.get_by_role('link', name='기록'), backwards=True)
    page.keyboard.press('Enter')
    expect(page).to_have_url(site.url('history.html'))
    items = page.locator('.history-item')
    expect(items).to_have_count(3)
    tab_to(page, items.nth(0).get_by_role('button', name='삭제'))
    page.keyboard.press('Enter')
    expect(items).to_have_count(2)
    expect(items.nth(0).get_by_role('button', name='삭제')).to_be_focused()  # the next one in its place
    expect(page.locator('#page-status')).to_have_text('대화를 삭제했어요.')

    tab_to(page, page.get_by_role('button', name='전체 삭제'), backwards=True)
    page.keyboard.press('Space')
    dialog = page.get_by_role('dialog')
    expect(dialog.get_by_role('button', name='취소')).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.press('Tab')
    expect(dialog.get_by_role('button', name='모두 삭제')).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.press('Enter')
    expect(page.locator('.history-list .empty')).to_be_visible()
    heading = page.get_by_role('heading', level=1, name='대화 기록')
    expect(heading).to_be_focused()  # not lost on the now-disabled button
    assert site.api.get('/chat/model', token=site.storage(page, 'access')).json['count'] == 0

    tab_to(page, page.get_by_role('button', name='로그아웃'), backwards=True)
    page.keyboard.press('Enter')
    expect(page).to_have_url(site.url('login.html'))
    expect(page.get_by_label('이메일')).to_be_focused()


def test_the_api_docs_by_keyboard_only(page, site):
    """Open and leave the Authorize dialog; Tab to an operation, open it, choose its request's
    schema, read it and open a property: every stop on the way shows the focus ring, and the
    viewer says what is open."""
    page.goto(site.url('docs.html'))
    join = page.locator('#operations-accounts-postRestAuthJoin')
    row = join.get_by_role('button', name='POST /rest-auth/join Create an account')
    expect(row).to_be_visible(timeout=VIEWER_TIMEOUT_MS)
    authorize = page.locator('#api-docs .scheme-container').get_by_role('button', name='Authorize')
    tab_to(page, authorize)  # past the page's links and the server picker
    page.keyboard.press('Enter')
    dialog = page.get_by_role('dialog', name='Available authorizations')
    expect(dialog.get_by_label('Value:')).to_be_focused()
    for _ in range(4):  # Tab stays in the dialog (or the browser's own controls), never the page under it
        page.keyboard.press('Tab')
        where = page.evaluate('''() => document.activeElement === document.body ? 'body'
            : document.activeElement.closest('[role="dialog"]') ? 'dialog' : 'page' ''')
        assert where != 'page', focused(page)
        if where == 'dialog':
            assert_focus_visible(page)
    page.keyboard.press('Escape')
    expect(dialog).to_have_count(0)
    expect(authorize).to_be_focused()  # back where it was

    tab_to(page, row)  # past the first operations
    expect(row).to_have_attribute('aria-expanded', 'false')
    page.keyboard.press('Enter')
    expect(row).to_have_attribute('aria-expanded', 'true')
    expect(page).to_have_url(re.compile('#/accounts/postRestAuthJoin$'))  # the address still follows

    schema = join.get_by_role('tab', name='Schema').first
    tab_to(page, schema)  # past Try it out, the content type and the Example Value tab
    page.keyboard.press('Space')
    expect(schema).to_have_attribute('aria-selected', 'true')
    panel = join.get_by_role('tabpanel').first
    tab_to(page, panel)  # the schema itself takes the focus, to be read (and scrolled) from there
    expect(panel).to_have_accessible_name('Schema')
    expect(panel).to_contain_text('JoinRequest')
    for name, constraint in (('email', '[3, 254] characters'), ('nickname', '[1, 30] characters'),
                             ('password', '[8, 72] characters')):
        field = panel.locator('.json-schema-2020-12-property').filter(has_text=name)
        expect(field).to_contain_text('string')
        expect(field).to_contain_text(constraint)
    password = panel.get_by_role('button', name='password')
    tab_to(page, password)  # a property with more to say opens from the keyboard too
    expect(password).to_have_attribute('aria-expanded', 'false')
    page.keyboard.press('Enter')
    expect(password).to_have_attribute('aria-expanded', 'true')
    expect(panel).to_contain_text("at most 72 bytes in UTF-8 (bcrypt's limit)")

    tab_to(page, row, backwards=True)
    page.keyboard.press('Space')  # and closed again from its row
    expect(row).to_have_attribute('aria-expanded', 'false')
    expect(schema).to_have_count(0)

    health = page.locator('#operations-service-getHealth')  # Try it out, by keyboard too
    tab_to(page, health.locator('.opblock-summary-control'), backwards=True)
    page.keyboard.press('Enter')
    tab_to(page, health.get_by_role('button', name='Try it out'))
    page.keyboard.press('Enter')
    tab_to(page, health.get_by_role('button', name='Execute'))
    page.keyboard.press('Enter')
    expect(health.locator('.live-responses-table tbody .response-col_status')).to_have_text('200')


def test_another_line_by_keyboard_until_every_fitting_line_was_shown(page, site, demo):
    site.sign_in(page, site.user())
    box = page.get_by_label('고민이나 상황')
    box.fill('회사에서 파벌 싸움 때문에 지쳤어요')
    box.press('Enter')
    cards = page.locator('.answer')
    expect(cards.first).to_be_focused(timeout=FIRST_ANSWER_MS)
    announcer = page.locator('#announcer')
    for shown in range(1, 10):
        another = cards.nth(shown - 1).get_by_role('button', name='다른 대사')
        tab_to(page, another)  # from the focused card, on to its button
        page.keyboard.press('Enter')
        done = page.locator('.all-shown')
        expect(cards.nth(shown).or_(done)).to_be_visible()
        if done.count():
            expect(done).to_be_focused()  # the button it was on is gone: focus on the news
            assert_focus_visible(page)
            assert_accessible(page, 'chat: every fitting line shown')
            break
        expect(cards.nth(shown)).to_be_focused()  # the new line, below the last one
        expect(announcer).to_contain_text(cards.nth(shown).locator('.speaker').inner_text())
        expect(another).to_have_count(0)
    else:
        raise AssertionError('"다른 대사" never ran out of lines')
    assert shown >= 2, 'the corpus should hold more than one fitting line for this input'
    tab_to(page, box)


def test_paging_by_keyboard_keeps_the_focus_in_the_list(page, site, demo):
    account = site.user()
    ask_via_api(site, account, [f'고민 {i}번: 면접에서 또 떨어졌어요' for i in range(7)])
    site.sign_in(page, account, 'history.html')
    pager = page.get_by_role('navigation', name='대화 기록 페이지')
    tab_to(page, pager.get_by_role('link', name='다음'), limit=80)  # each card has its 👍 👎 keep share too
    page.keyboard.press('Enter')
    expect(page).to_have_url(re.compile(r'/history\.html\?page=2&cursor='))
    expect(page.locator('.history-item')).to_have_count(2)
    expect(page.locator('#history-list')).to_be_focused()  # the pager link it was on is gone
    assert_focus_visible(page)
    expect(page.locator('#announcer')).to_have_text(re.compile('2쪽'))
    page.keyboard.press('Tab')  # and Tab goes on into the new page's items
    expect(page.locator('.history-item').first.get_by_role('button', name='삭제')).to_be_focused()


def test_board_and_profile_forms_by_keyboard(page, site):
    account = site.user(nickname='옛닉네임')
    site.sign_in(page, account, 'board.html')
    tab_to(page, page.get_by_role('link', name='대사 제안하기'))
    page.keyboard.press('Enter')
    expect(page.get_by_label('제목')).to_be_focused()
    tab_to(page, page.get_by_role('button', name='등록하기'))
    page.keyboard.press('Enter')  # empty: every field is named, tied to its error
    title = page.get_by_label('제목')
    expect(title).to_be_focused()
    expect(title).to_have_attribute('aria-invalid', 'true')
    message = page.locator('#title-error')
    expect(message).not_to_be_empty()
    expect(title).to_have_accessible_description(re.compile(re.escape(message.inner_text())))
    expect(page.locator('#proposal-form .form-message')).to_have_attribute('role', 'alert')

    page.keyboard.type(PROPOSAL['title'])
    for label, text in (('대사', PROPOSAL['content']), ('어떤 상황에 어울리나요?', PROPOSAL['description'])):
        tab_to(page, page.get_by_label(label, exact=True))
        page.keyboard.type(text)
    tab_to(page, page.get_by_role('button', name='등록하기'))
    page.keyboard.press('Space')
    expect(page).to_have_url(re.compile(r'/board-view\.html\?id='))
    expect(title).to_have_count(0)
    expect(page.get_by_role('heading', level=1)).to_have_text(PROPOSAL['title'])

    tab_to(page, page.get_by_role('button', name='삭제'))
    page.keyboard.press('Enter')
    expect(page.get_by_role('dialog').get_by_role('button', name='취소')).to_be_focused()
    page.keyboard.press('Escape')
    expect(page.get_by_role('button', name='삭제')).to_be_focused()  # back where it was

    page.goto(site.url('profile.html'))
    nickname = page.get_by_label('새 닉네임')
    expect(nickname).to_have_value('옛닉네임')
    tab_to(page, nickname)
    page.keyboard.press('Control+A')
    page.keyboard.type('드림즈 단장')
    page.keyboard.press('Enter')
    expect(page.locator('#nickname-form .form-message')).to_have_text('닉네임을 바꿨어요.')
    expect(page.locator('#whoami')).to_have_text('드림즈 단장님')


# -- what screen readers are told -----------------------------------------------------------------
def test_thinking_and_the_answer_are_announced_politely(page, site, demo):
    site.sign_in(page, site.user())
    announcer = page.locator('#announcer')
    expect(announcer).to_have_attribute('aria-live', 'polite')
    expect(announcer).to_have_attribute('role', 'status')
    expect(page.locator('#chat-log')).not_to_have_attribute('role', re.compile('.'))  # no second live region
    held = hold_chat_answers(page)
    page.get_by_label('고민이나 상황').fill('회사에서 파벌 싸움 때문에 지쳤어요')
    page.get_by_label('고민이나 상황').press('Enter')
    expect(announcer).to_have_text('꼭 맞는 명대사를 고르는 중…')
    wait_for(page, lambda: held, 'the held answer')
    held[0].continue_()
    card = page.locator('.answer')
    quote = card.locator('.quote').inner_text()
    speaker = card.locator('.speaker').inner_text()
    expect(announcer).to_contain_text('답이 왔어요', timeout=FIRST_ANSWER_MS)
    expect(announcer).to_contain_text(speaker)
    expect(announcer).to_contain_text(quote.strip('“”'))


def test_form_errors_are_tied_to_their_fields(page, site):
    page.goto(site.url('join.html'))
    page.get_by_label('이메일').fill('new@example.com')
    page.get_by_label('닉네임').fill('새내기')
    page.get_by_label('비밀번호', exact=True).fill(PASSWORD)
    page.get_by_label('비밀번호 확인').fill('something else')
    page.get_by_label('비밀번호 확인').press('Enter')
    confirm = page.get_by_label('비밀번호 확인')
    expect(confirm).to_be_focused()
    expect(confirm).to_have_attribute('aria-invalid', 'true')
    expect(confirm).to_have_accessible_description('두 비밀번호가 일치하지 않습니다.')
    expect(page.locator('#join-form .form-message')).to_have_attribute('role', 'alert')

    password = page.get_by_label('비밀번호', exact=True)
    password.fill('short')
    confirm.fill('short')
    confirm.press('Enter')
    expect(password).to_have_attribute('aria-invalid', 'true')
    expect(confirm).not_to_have_attribute('aria-invalid', 'true')  # the old error is gone
    # the hint stays in the description, followed by the server's own words for the field
    expect(password).to_have_accessible_description(re.compile(r'^8자 이상으로 정해 주세요\. \S'))

    site.sign_in(page, site.user())
    page.get_by_label('고민이나 상황').press('Enter')  # nothing written
    box = page.get_by_label('고민이나 상황')
    expect(box).to_have_attribute('aria-invalid', 'true')
    expect(box).to_have_accessible_description(re.compile('먼저 적어 주세요'))
    box.fill('이제 적었어요')
    expect(box).not_to_have_attribute('aria-invalid', 'true')


# -- reduced motion and dark mode -------------------------------------------------------------------
BODY_COLOURS = '''() => { const s = getComputedStyle(document.body);
    const lum = (c) => { const [r, g, b] = c.match(/[\\d.]+/g).map(Number);
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255; };
    return { bg: lum(s.backgroundColor), ink: lum(s.color),
             scheme: getComputedStyle(document.documentElement).colorScheme }; }'''

RUNNING_ANIMATIONS = '''() => document.getAnimations().filter((a) => a.playState === 'running').length'''


@pytest.mark.parametrize('motion', ['no-preference', 'reduce'])
def test_nothing_moves_when_reduced_motion_is_asked_for(page, site, demo, motion):
    page.emulate_media(reduced_motion=motion)
    account = site.user()
    ask_via_api(site, account, [f'고민 {i}번: 면접에서 또 떨어졌어요' for i in range(6)])
    site.sign_in(page, account)
    held = hold_chat_answers(page)
    page.get_by_label('고민이나 상황').fill('팀장님이 내 아이디어를 가로챘어요')
    page.get_by_label('고민이나 상황').press('Enter')
    expect(page.locator('.thinking')).to_be_visible()
    moving = page.evaluate(RUNNING_ANIMATIONS)
    wait_for(page, lambda: held, 'the held answer')
    held[0].continue_()
    expect(page.locator('.answer')).to_be_visible(timeout=FIRST_ANSWER_MS)

    page.goto(site.url('history.html'))  # the list fades while a page loads
    expect(page.locator('.history-item')).to_have_count(5)
    fade = page.evaluate("() => getComputedStyle(document.querySelector('#history-list')).transitionDuration")
    if motion == 'reduce':
        assert moving == 0
        assert float(fade.rstrip('s')) < 0.02, fade
    else:
        assert moving >= 3  # the three bouncing dots
        assert fade == '0.2s'


def test_dark_mode_follows_the_system(page, site):
    page.goto(site.url('login.html'))
    light = page.evaluate(BODY_COLOURS)
    assert light['bg'] > 0.9 and light['ink'] < 0.2, light
    page.emulate_media(color_scheme='dark')
    dark = page.evaluate(BODY_COLOURS)
    assert dark['bg'] < 0.15 and dark['ink'] > 0.8, dark
    assert 'dark' in dark['scheme']  # form controls and scrollbars follow too
