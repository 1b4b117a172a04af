"""The quote request board: write, edit, delete, pages, and what admins and others may do."""
import re

from playwright.sync_api import expect

from chalicelib.accounts import auth
from tests.browser.conftest import with_request_id

PROPOSAL = {'title': '강두기 선수의 한마디', 'content': '팀을 위해서라면 뭐든 하겠습니다.',
            'description': '팀에 헌신하고 싶을 때.', 'scene': 4, 'speaker': '강두기'}


def propose(site, account, **fields):
    r = site.api.post('/quote', dict(PROPOSAL, **fields), token=account['access'])
    assert r.status == 201, r
    return r.json


def quote_of(site, account, quote_id):
    r = site.api.get('/quote/' + quote_id, token=account['access'])
    assert r.status == 200, r
    return r.json


def test_write_then_edit_a_proposal(page, site):
    account = site.user(nickname='제안왕')
    site.sign_in(page, account, 'board.html')
    expect(page.locator('.board-list .empty')).to_contain_text('아직 제안이 없어요')
    page.get_by_role('link', name='대사 제안하기').click()
    expect(page).to_have_url(site.url('board-form.html'))

    page.get_by_role('button', name='등록하기').click()  # empty: the server names each field
    for name in ('title', 'content', 'description'):
        expect(page.locator(f'#{name}-error')).not_to_be_empty()
    expect(page.get_by_label('제목')).to_be_focused()

    page.get_by_label('제목').fill('여론에 대하여')
    page.get_by_label('대사').fill('여론은 아무것도 책임지지 않습니다.')
    page.get_by_label('어떤 상황에 어울리나요?').fill('남의 말에 흔들릴 때.')
    page.get_by_label('회차').fill('17')
    page.get_by_label('말한 사람').fill('백승수')
    page.get_by_label('말한 사람').press('Enter')
    scene_error = site.api.post('/quote', dict(PROPOSAL, scene=17), token=account['access']).json['Fields']['scene']
    expect(page.locator('#scene-error')).to_have_text(scene_error)

    page.get_by_label('회차').fill('1')
    page.get_by_label('말한 사람').press('Enter')
    expect(page).to_have_url(re.compile(r'/board-view\.html\?id='))
    expect(page.locator('#page-status')).to_contain_text('제안을 등록했어요')
    view = page.locator('#proposal')
    expect(view.get_by_role('heading', level=1)).to_have_text('여론에 대하여')
    expect(view.locator('.quote')).to_have_text('여론은 아무것도 책임지지 않습니다.')
    expect(view).to_contain_text('1회')
    expect(view).to_contain_text('검토 중')
    expect(view).to_contain_text(f"제안왕 ({account['email']})")  # one's own email is not masked
    expect(view.get_by_role('button', name='챗봇에 반영하기')).to_have_count(0)
    quote_id = page.url.split('id=')[1]

    view.get_by_role('link', name='수정').click()
    expect(page.get_by_role('heading', name='제안 수정하기')).to_be_visible()
    expect(page.get_by_label('제목')).to_have_value('여론에 대하여')
    expect(page.get_by_label('회차')).to_have_value('1')
    page.get_by_label('제목').fill('여론은 책임지지 않는다')
    page.get_by_label('회차').fill('')
    page.get_by_role('button', name='저장하기').click()
    expect(page).to_have_url(site.url('board-view.html?id=' + quote_id))
    expect(view.get_by_role('heading', level=1)).to_have_text('여론은 책임지지 않는다')
    expect(view).to_contain_text('회차 미상')
    saved = quote_of(site, account, quote_id)
    assert (saved['title'], saved['scene'], saved['speaker']) == ('여론은 책임지지 않는다', None, '백승수')

    page.get_by_role('link', name='게시판 목록').click()
    expect(page.locator('.proposal-item h2')).to_have_text(['여론은 책임지지 않는다'])  # the scene=17 try saved nothing


def test_others_see_no_author_buttons_and_a_masked_email(page, site):
    author = site.user(nickname='작성자', email='writer@example.com')
    quote_id = propose(site, author)['id']
    reader = site.user(nickname='독자')
    site.sign_in(page, reader, 'board.html')
    item = page.locator('.proposal-item')
    expect(item.locator('.author')).to_have_text('작성자 (wr***@example.com)')
    item.get_by_role('link', name=PROPOSAL['title']).click()
    view = page.locator('#proposal')
    expect(view.locator('.quote')).to_have_text(PROPOSAL['content'])
    expect(view.locator('.actions')).to_have_count(0)

    page.goto(site.url('board-form.html?id=' + quote_id))  # typed in by hand: still refused
    expect(page.locator('#page-status')).to_contain_text('수정할 수 없어요')
    expect(page.locator('#proposal-form')).to_have_count(0)


def test_author_deletes_a_proposal_after_confirming(page, site):
    account = site.user()
    quote_id = propose(site, account)['id']
    site.sign_in(page, account, 'board-view.html?id=' + quote_id)
    page.get_by_role('button', name='삭제').click()
    page.get_by_role('dialog').get_by_role('button', name='삭제').click()
    expect(page).to_have_url(site.url('board.html'))
    expect(page.locator('#page-status')).to_have_text('제안을 삭제했어요.')
    assert site.api.get('/quote/' + quote_id, token=account['access']).status == 404

    page.goto(site.url('board-view.html?id=' + quote_id))
    expect(page.locator('#page-status')).to_have_text(with_request_id(
        site.api.get('/quote/' + quote_id, token=account['access']).json['Message']))


def test_admin_applies_and_withdraws(page, site):
    author = site.user(nickname='작성자')
    quote_id = propose(site, author)['id']
    admin = site.user(nickname='관리자')
    auth.set_admin(admin['email'])

    site.sign_in(page, admin, 'profile.html')
    expect(page.locator('#account')).to_contain_text('관리자')
    page.get_by_role('link', name='명대사 게시판').click()
    page.get_by_role('link', name=PROPOSAL['title']).click()
    view = page.locator('#proposal')
    expect(view.get_by_role('link', name='수정')).to_have_count(0)  # only the author edits
    expect(view.get_by_role('button', name='삭제')).to_be_visible()  # admins may delete

    view.get_by_role('button', name='챗봇에 반영하기').click()
    expect(page.locator('#page-status')).to_contain_text('챗봇에 반영했어요')
    expect(view.locator('.badge')).to_have_text('반영됨')
    expect(view).to_contain_text('반영한 날')
    expect(view.get_by_role('button', name='반영 취소')).to_be_focused()
    expect(view).not_to_contain_text('null')
    assert quote_of(site, admin, quote_id)['is_apply'] is True

    view.get_by_role('button', name='반영 취소').click()
    expect(page.locator('#page-status')).to_contain_text('반영을 취소했어요')
    expect(view.locator('.badge')).to_have_text('검토 중')
    assert quote_of(site, admin, quote_id)['is_apply'] is False


def test_applied_proposals_cannot_be_edited_by_their_author(page, site):
    author = site.user()
    quote_id = propose(site, author)['id']
    admin = site.user()
    auth.set_admin(admin['email'])
    assert site.api.post(f'/quote/{quote_id}/apply', token=admin['access']).status == 200
    site.sign_in(page, author, 'board-view.html?id=' + quote_id)
    view = page.locator('#proposal')
    expect(view.locator('.badge')).to_have_text('반영됨')
    expect(view).to_contain_text('반영된 제안은 수정할 수 없어요')
    expect(view.get_by_role('link', name='수정')).to_have_count(0)
    expect(view.get_by_role('button', name='챗봇에 반영하기')).to_have_count(0)


def test_board_pages(page, site, configure):
    configure(BOARD_POST_LIMIT_PER_HOUR=0)  # one author proposing 12 at once is past the hourly limit
    account = site.user()
    for i in range(12):
        propose(site, account, title=f'제안 {i:02}')
    site.sign_in(page, account, 'board.html')
    titles = page.locator('.proposal-item h2')
    expect(titles).to_have_count(10)
    expect(titles.first).to_have_text('제안 11')
    pager = page.get_by_role('navigation', name='게시판 페이지')
    pager.get_by_role('link', name='다음').click()
    expect(titles).to_have_text(['제안 01', '제안 00'])
    expect(page).to_have_url(re.compile(r'/board\.html\?page=2&cursor=[\w-]+$'))
    page.reload()
    expect(titles).to_have_text(['제안 01', '제안 00'])
    pager.get_by_role('link', name='이전').click()
    expect(titles).to_have_count(10)
    expect(titles.first).to_have_text('제안 11')
    page.go_back()
    expect(titles).to_have_text(['제안 01', '제안 00'])

    page.goto(site.url('board.html?page=9'))  # past the end: the last page
    expect(titles).to_have_text(['제안 01', '제안 00'])
    expect(page).to_have_url(re.compile(r'/board\.html\?page=2&cursor=[\w-]+$'))


def test_markup_in_a_proposal_is_shown_as_text(page, site):
    """Whatever users write is text on every page, never markup that runs."""
    account = site.user(nickname='<b>굵게</b>')
    evil = '<img src=x onerror="window.pwned=1">'
    q = propose(site, account, title=evil, content='<script>window.pwned=1</script>대사', description=evil)
    site.sign_in(page, account, 'board.html')
    expect(page.locator('.proposal-item h2')).to_have_text(evil)
    page.goto(site.url('board-view.html?id=' + q['id']))
    expect(page.get_by_text('<script>window.pwned=1</script>대사')).to_be_visible()
    assert page.locator('img[src="x"]').count() == 0 and page.locator('b', has_text='굵게').count() == 0
    assert page.evaluate('window.pwned') is None
