"""The chat page and the history: answer cards, paging, deleting."""
import json
import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from chalicelib.chat import model
from tests.browser.conftest import PASSWORD, with_request_id
from tools.devkit.fake_openai import choose, completion


def history_of(site, page):
    r = site.api.get('/chat/model?per-page=50', token=site.storage(page, 'access'))
    assert r.status == 200, r
    return r.json


def ask_via_api(site, account, texts):
    for text in texts:
        r = site.api.post('/chat/api', {'input': text}, token=account['access'])
        assert r.status == 200 and r.json['fits'], r  # a situation: answered and saved


def test_sign_up_chat_see_the_answer_card_then_the_history(page, site, demo):
    page.goto(site.url('join.html'))
    page.get_by_label('이메일').fill('chat@example.com')
    page.get_by_label('닉네임').fill('백단장')
    page.get_by_label('비밀번호', exact=True).fill(PASSWORD)
    page.get_by_label('비밀번호 확인').fill(PASSWORD)
    page.get_by_role('button', name='가입하기').click()
    expect(page).to_have_url(site.url('index.html'))

    held = []  # hold the answer so the "thinking" state can be seen
    page.route('**/chat/api', lambda route: held.append(route) if route.request.method == 'POST'
               else route.continue_())
    box = page.get_by_label('고민이나 상황')
    box.fill('회사에서 파벌 싸움 때문에 지쳤어요')
    box.press('Enter')
    thinking = page.locator('.thinking')
    expect(thinking).to_be_visible()
    expect(thinking).to_contain_text('고르는 중')
    expect(page.get_by_role('button', name='보내기')).to_be_disabled()
    expect(page.locator('.bubble.mine')).to_have_text('나: 회사에서 파벌 싸움 때문에 지쳤어요')
    for _ in range(100):  # the route handler runs on Playwright's side: wait for it
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1
    held[0].continue_()

    card = page.locator('.answer')
    expect(card).to_be_visible()
    expect(thinking).to_have_count(0)
    expect(page.get_by_role('button', name='보내기')).to_be_enabled()
    saved = history_of(site, page)
    assert saved['count'] == 1
    reply = saved['results'][0]['chat_reply']
    expect(card.locator('.episode')).to_have_text(f"{reply['scene']}회")
    expect(card.locator('.speaker')).to_have_text(reply['speaker'])
    expect(card.locator('.quote')).to_have_text(reply['quote'])
    expect(card.locator('.description')).to_have_text(reply['description'])
    expect(card.locator('.source')).to_have_text('로컬 검색으로 찾았어요')
    assert reply['line_id'] == model.fitting('회사에서 파벌 싸움 때문에 지쳤어요', demo)[0]['id']  # ranked first

    page.get_by_role('link', name='기록').click()
    expect(page).to_have_url(site.url('history.html'))
    item = page.locator('.history-item')
    expect(item).to_have_count(1)
    expect(item.locator('.bubble')).to_have_text('나: 회사에서 파벌 싸움 때문에 지쳤어요')
    expect(item.locator('.quote')).to_have_text(reply['quote'])
    expect(page.locator('#history-summary')).to_contain_text('모두 1개')


def test_input_that_is_no_situation_gets_a_friendly_card_whose_prompts_fill_the_box(page, site, demo):
    """Keyboard mash is no situation: no line, a plain message with example prompts, no error,
    and nothing saved; choosing a prompt puts it in the box."""
    account = site.user()
    site.sign_in(page, account)
    box = page.get_by_label('고민이나 상황')
    box.fill('ㅁㄴㅇㄹ ㅁㄴㅇㄹ')
    box.press('Enter')
    card = page.locator('.no-fit')
    expect(card).to_be_visible()
    expect(card.get_by_role('heading')).to_have_text('이 이야기엔 꼭 맞는 대사가 없어요')
    expect(card.locator('.message')).to_contain_text('겪은 일이나 지금 드는 마음')
    expect(page.locator('.answer')).to_have_count(0)
    expect(page.locator('.chat-log [role="alert"]')).to_have_count(0)
    prompts = card.locator('.suggestions.try .chip')
    expect(prompts).to_have_count(3)
    first = prompts.first.text_content()
    prompts.first.click()
    expect(box).to_have_value(first)
    expect(box).to_be_focused()
    assert history_of(site, page)['count'] == 0
    box.press('Enter')  # a real situation from the prompt gets its line
    expect(page.locator('.answer')).to_be_visible()
    assert history_of(site, page)['count'] == 1


def test_an_answer_from_openai_says_so(page, site, demo, fake_openai):
    """The real API answering through the fake OpenAI-compatible server on loopback."""
    fake_openai.behaviour = choose(lambda cands: next(c for c in cands if c['scene'] == 10),
                                   description='부당한 지시를 거절해도 된다는 말이에요.')
    account = site.user()
    site.sign_in(page, account)
    page.get_by_role('button', name='상사가 자꾸 부당한 일을 시켜요').click()  # a suggestion fills the box
    expect(page.get_by_label('고민이나 상황')).to_have_value('상사가 자꾸 부당한 일을 시켜요')
    page.get_by_role('button', name='보내기').click()
    card = page.locator('.answer')
    expect(card.locator('.source')).to_have_text('OpenAI가 골랐어요')
    expect(card.locator('.episode')).to_have_text('10회')
    expect(card.locator('.description')).to_have_text('부당한 지시를 거절해도 된다는 말이에요.')
    expect(card.locator('.ungrounded')).to_have_count(0)
    assert '상사가 자꾸 부당한 일을 시켜요' in fake_openai.requests[0]['json']['messages'][-1]['content']


def test_an_answer_from_the_models_memory_is_marked(page, site, store, fake_openai):
    """No corpus: the model may answer from memory, and the card must say the line is unchecked."""
    fake_openai.behaviour = lambda req: (200, completion(json.dumps(
        {'scene': 2, 'speaker': '백승수', 'quote': '기억에 기댄 대사', 'description': '설명'}, ensure_ascii=False)), 0)
    account = site.user()
    site.sign_in(page, account)
    box = page.get_by_label('고민이나 상황')
    box.fill('아무 말')
    box.press('Enter')
    card = page.locator('.answer')
    expect(card.locator('.quote')).to_have_text('기억에 기댄 대사')
    expect(card.locator('.ungrounded')).to_contain_text('대사 목록에 없어')
    page.get_by_role('link', name='기록').click()
    expect(page.locator('.history-item .ungrounded')).to_have_count(1)


def test_a_failing_answer_shows_the_servers_message_and_keeps_the_text(page, site, store):
    """No corpus loaded: the API answers 503 with its own message."""
    account = site.user()
    expected = site.api.post('/chat/api', {'input': '아무 말'}, token=account['access'])
    assert expected.status == 503, expected
    site.sign_in(page, account)
    box = page.get_by_label('고민이나 상황')
    box.fill('아무 말')
    box.press('Enter')
    expect(page.locator('.chat-log [role="alert"]')).to_have_text(
        with_request_id('답을 받지 못했어요. ' + expected.json['Message']))
    expect(box).to_have_value('아무 말')
    expect(box).to_be_focused()


def api_pages(page):
    """Every page of history the browser asks the API for, as (page, cursor) pairs."""
    asked = []

    def seen(request):
        if '/chat/model?' in request.url:
            query = parse_qs(urlsplit(request.url).query)
            asked.append((int(query['page'][0]), query.get('cursor', [None])[0]))
    page.on('request', seen)
    return asked


def test_history_pages_by_next_previous_and_numbers(page, site, demo):
    account = site.user()
    ask_via_api(site, account, [f'고민 {i}번: 면접에서 또 떨어졌어요' for i in range(7)])  # newest first: 6 … 0
    site.sign_in(page, account, 'history.html')
    bubbles = page.locator('.history-item .bubble')
    first_page = [f'나: 고민 {i}번: 면접에서 또 떨어졌어요' for i in (6, 5, 4, 3, 2)]
    expect(bubbles).to_have_text(first_page)
    pager = page.get_by_role('navigation', name='대화 기록 페이지')
    expect(pager.locator('.page-info')).to_have_text('1 / 2쪽 · 모두 7개')
    expect(pager.locator('[aria-current="page"]')).to_have_text('1')

    asked = api_pages(page)
    pager.get_by_role('link', name='다음').click()
    expect(bubbles).to_have_text(['나: 고민 1번: 면접에서 또 떨어졌어요', '나: 고민 0번: 면접에서 또 떨어졌어요'])
    expect(page).to_have_url(re.compile(r'/history\.html\?page=2&cursor=[\w-]+$'))
    expect(pager.locator('[aria-current="page"]')).to_have_text('2')
    assert asked[-1][1], asked  # followed the API's `next` link, cursor and all

    pager.get_by_role('link', name='이전').click()
    expect(bubbles).to_have_text(first_page)
    expect(page).to_have_url(site.url('history.html'))  # page 1 is the bare address

    pager.get_by_role('link', name='2 쪽').click()  # "2" shown, "쪽" for screen readers
    expect(bubbles).to_have_text(['나: 고민 1번: 면접에서 또 떨어졌어요', '나: 고민 0번: 면접에서 또 떨어졌어요'])
    page.go_back()
    expect(bubbles).to_have_text(first_page)
    page.goto(site.url('history.html?page=2'))  # the address alone opens a page
    expect(bubbles).to_have_text(['나: 고민 1번: 면접에서 또 떨어졌어요', '나: 고민 0번: 면접에서 또 떨어졌어요'])


def test_deep_pages_keep_their_cursor_through_reload_and_back(page, site, store, configure):
    configure(CHAT_LIMIT_PER_MINUTE=0)  # 23 chats saved at once are past the per-minute limit
    account = site.user()
    for i in range(23):  # pages of 5: 5, 5, 5, 5, 3
        r = site.api.post('/chat/model', {'content': f'대화 {i:02}', 'chat_reply': {'scene': 1, 'quote': 'q',
                                                                                     'description': 'd'}},
                          token=account['access'])
        assert r.status == 201, r
    on_page = lambda n: [f'나: 대화 {i:02}' for i in range(22 - 5 * (n - 1), max(-1, 17 - 5 * (n - 1)), -1)]  # noqa: E731
    site.sign_in(page, account, 'history.html')
    bubbles = page.locator('.history-item .bubble')
    pager = page.get_by_role('navigation', name='대화 기록 페이지')
    expect(bubbles).to_have_text(on_page(1))
    asked = api_pages(page)
    expect(pager.get_by_role('link', name='5 쪽')).to_have_attribute('href', re.compile(r'page=5&cursor='))

    pager.get_by_role('link', name='5 쪽').click()  # the last page: one Query from the old end
    expect(bubbles).to_have_text(on_page(5))
    expect(pager.locator('.page-info')).to_have_text('5 / 5쪽 · 모두 23개')
    last_address = page.url
    assert re.search(r'\?page=5&cursor=[\w-]+$', last_address)
    pager.get_by_role('link', name='이전').click()
    expect(bubbles).to_have_text(on_page(4))
    pager.get_by_role('link', name='3 쪽').click()
    expect(bubbles).to_have_text(on_page(3))
    page.reload()
    expect(bubbles).to_have_text(on_page(3))
    expect(pager.locator('[aria-current="page"]')).to_have_text('3')
    page.go_back()
    expect(bubbles).to_have_text(on_page(4))
    page.go_back()
    expect(bubbles).to_have_text(on_page(5))
    assert page.url == last_address
    page.go_forward()
    expect(bubbles).to_have_text(on_page(4))
    assert asked and all(cursor for number, cursor in asked if number > 2), asked  # never a skip

    asked.clear()
    page.goto(site.url('history.html?page=4'))  # an old bookmark: the API skips to it once…
    expect(bubbles).to_have_text(on_page(4))
    expect(page).to_have_url(re.compile(r'/history\.html\?page=4&cursor=[\w-]+$'))  # …then it has a cursor
    assert asked == [(4, None)], asked
    page.reload()
    expect(bubbles).to_have_text(on_page(4))
    assert len(asked) == 2 and asked[1][1], asked


FIRST, SECOND = '첫째 고민: 시험에 떨어졌어요', '둘째 고민: 팀장님이 내 아이디어를 가로챘어요'
THIRD = '셋째 고민: 오래 사귄 사람과 헤어졌어요'


def test_delete_one_then_all_after_confirming(page, site, demo):
    account = site.user()
    ask_via_api(site, account, [FIRST, SECOND, THIRD])
    site.sign_in(page, account, 'history.html')
    items = page.locator('.history-item')
    expect(items).to_have_count(3)

    items.filter(has_text=SECOND).get_by_role('button', name='삭제').click()
    expect(page.locator('#page-status')).to_have_text('대화를 삭제했어요.')
    expect(items.locator('.bubble')).to_have_text(['나: ' + THIRD, '나: ' + FIRST])
    expect(items.nth(1).get_by_role('button', name='삭제')).to_be_focused()  # focus stays in the list
    assert [c['content'] for c in history_of(site, page)['results']] == [THIRD, FIRST]

    page.get_by_role('button', name='전체 삭제').click()
    dialog = page.get_by_role('dialog')
    expect(dialog).to_contain_text('대화 기록을 모두 지울까요?')
    expect(dialog.get_by_role('button', name='취소')).to_be_focused()  # the safe choice
    page.keyboard.press('Escape')
    expect(dialog).to_have_count(0)
    expect(items).to_have_count(2)
    assert history_of(site, page)['count'] == 2

    page.get_by_role('button', name='전체 삭제').click()
    page.get_by_role('dialog').get_by_role('button', name='모두 삭제').click()
    expect(page.locator('#page-status')).to_have_text('대화 기록을 모두 지웠어요.')
    expect(items).to_have_count(0)
    expect(page.locator('.history-list .empty')).to_contain_text('아직 대화가 없어요')
    expect(page.get_by_role('button', name='전체 삭제')).to_be_disabled()
    assert history_of(site, page)['count'] == 0


def test_phone_screen_has_no_sideways_scrolling(phone, site, demo):
    account = site.user(nickname='아주아주긴닉네임을가진야구팬')
    ask_via_api(site, account, ['회사 일이 너무 힘들어요 ' + '가' * 300 + ' https://example.com/' + 'x' * 150])
    overflow = '() => document.documentElement.scrollWidth - document.documentElement.clientWidth'
    site.sign_in(phone, account)
    box = phone.get_by_label('고민이나 상황')
    box.fill('남들 시선 때문에 결정을 못 하겠어요 https://example.com/' + 'x' * 150)  # a long unbroken word too
    phone.get_by_role('button', name='보내기').tap()
    expect(phone.locator('.answer')).to_be_visible()
    assert phone.evaluate(overflow) == 0
    for path in ('history.html', 'board.html', 'profile.html', 'login.html'):
        phone.goto(site.url(path))
        expect(phone.locator('.app-content')).to_be_visible()
        assert phone.evaluate(overflow) == 0, path
