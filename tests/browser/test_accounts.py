"""Logging in and out, signing up, the profile, and how the client keeps a session alive."""
import base64
import json
import re
import socket
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, with_request_id

PROTECTED = ['index.html', 'history.html', 'board.html', 'board-view.html?id=x', 'board-form.html',
             'profile.html']


def fake_jwt(exp_offset: int) -> str:
    """A JWT-shaped token the server never signed, expiring `exp_offset` seconds from now."""
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip('=')
    return '{}.{}.{}'.format(part({'alg': 'HS256', 'typ': 'JWT'}),
                         part({'sub': 'nobody', 'exp': int(time.time()) + exp_offset, 'type': 'access'}),
                         'not-a-signature')


def login_form(page, email, password):
    page.get_by_label('이메일').fill(email)
    page.get_by_label('비밀번호').fill(password)
    page.get_by_label('비밀번호').press('Enter')  # Enter submits


def test_login_with_wrong_password_shows_the_servers_message(page, site):
    account = site.user()
    expected = site.api.post('/rest-auth/login', {'email': account['email'], 'password': 'wrong password'})
    assert expected.status == 401

    page.goto(site.url('login.html'))
    login_form(page, account['email'], 'wrong password')
    expect(page.locator('#login-form .form-message')).to_have_text(with_request_id(expected.json['Message']))
    assert page.url == site.url('login.html')
    assert site.storage(page, 'access') is None

    login_form(page, account['email'], PASSWORD)
    expect(page).to_have_url(site.url('index.html'))
    expect(page.locator('#whoami')).to_have_text(f"{account['nickname']}님")
    assert json.loads(site.storage(page, 'user'))['pk'] == account['user']['id']


def test_join_shows_field_errors_then_signs_up_and_refuses_a_second_account(page, site):
    page.goto(site.url('join.html'))
    page.get_by_label('이메일').fill('new@example.com')
    page.get_by_label('닉네임').fill('새내기')
    page.get_by_label('비밀번호', exact=True).fill('short')
    page.get_by_label('비밀번호 확인').fill('short')
    page.get_by_role('button', name='가입하기').click()
    short = site.api.post('/rest-auth/join', {'email': 'x@example.com', 'nickname': 'x', 'password': 'short'}).json
    expect(page.locator('#password-error')).to_have_text(short['Fields']['password'])
    expect(page.get_by_label('비밀번호', exact=True)).to_have_attribute('aria-invalid', 'true')

    page.get_by_label('비밀번호', exact=True).fill(PASSWORD)
    page.get_by_label('비밀번호 확인').fill(PASSWORD + 'x')
    page.get_by_role('button', name='가입하기').click()
    expect(page.locator('#password_confirm-error')).to_have_text('두 비밀번호가 일치하지 않습니다.')
    assert site.api.post('/rest-auth/login', {'email': 'new@example.com', 'password': PASSWORD}).status == 401

    page.get_by_label('비밀번호 확인').fill(PASSWORD)
    page.get_by_label('비밀번호 확인').press('Enter')
    expect(page).to_have_url(site.url('index.html'))
    expect(page.locator('#page-status')).to_contain_text('새내기님, 환영합니다')
    assert site.api.post('/rest-auth/login', {'email': 'new@example.com', 'password': PASSWORD}).status == 200

    # the same email again, from a logged-out browser
    page.evaluate('localStorage.clear()')
    page.goto(site.url('join.html'))
    duplicate = site.api.post('/rest-auth/join', {'email': 'NEW@example.com', 'nickname': 'y', 'password': PASSWORD})
    assert duplicate.status == 409
    page.get_by_label('이메일').fill('NEW@example.com')
    page.get_by_label('닉네임').fill('두번째')
    page.get_by_label('비밀번호', exact=True).fill(PASSWORD)
    page.get_by_label('비밀번호 확인').fill(PASSWORD)
    page.get_by_role('button', name='가입하기').click()
    expect(page.locator('#join-form .form-message')).to_have_text(with_request_id(duplicate.json['Message']))
    expect(page.locator('#email-error')).to_have_text(duplicate.json['Fields']['email'])
    expect(page.get_by_label('이메일')).to_be_focused()


def test_logged_out_users_are_sent_to_login_and_come_back_after(page, site):
    account = site.user()
    for path in PROTECTED:
        page.goto(site.url(path))
        expect(page).to_have_url(re.compile(re.escape(site.url('login.html')) + r'\?next='))
        expect(page.locator('#page-status')).to_have_text('로그인이 필요합니다.')

    page.goto(site.url('history.html?page=1'))
    expect(page).to_have_url(site.url('login.html?next=%2Fhistory.html%3Fpage%3D1'))
    login_form(page, account['email'], PASSWORD)
    expect(page).to_have_url(site.url('history.html?page=1'))
    expect(page.get_by_role('heading', name='대화 기록')).to_be_visible()


def test_logout_revokes_the_session_and_protected_pages_refuse(page, site):
    account = site.user()
    site.sign_in(page, account, 'board.html')
    expect(page.get_by_role('heading', name='명대사 게시판')).to_be_visible()
    access = site.storage(page, 'access')

    page.get_by_role('button', name='로그아웃').click()
    expect(page).to_have_url(site.url('login.html'))
    expect(page.locator('#page-status')).to_have_text('로그아웃했습니다.')
    assert [site.storage(page, k) for k in ('access', 'refresh', 'user')] == [None, None, None]
    assert site.api.get('/rest-auth/profile', token=access).status == 401  # revoked on the server

    for path in PROTECTED:
        page.goto(site.url(path))
        expect(page).to_have_url(re.compile(r'/login\.html\?next='))


@pytest.mark.parametrize('access, refused', [(fake_jwt(-3600), 0), (fake_jwt(3600), 1)], ids=['expired', 'forged'])
def test_a_dead_access_token_is_refreshed_transparently(page, site, demo, access, refused):
    """Expired: refreshed before the request, as its `exp` says (the server never sees it).
    Forged but unexpired: the server's one 401 makes the client refresh and retry. Either way
    the page just works."""
    account = site.user()
    assert site.api.post('/chat/api', {'input': '상사가 부당한 일을 시켜요'}, token=account['access']).status == 200
    statuses = []
    page.on('response', lambda r: statuses.append((r.request.method, r.url.split('?')[0].rsplit('/', 2)[-2:], r.status))
            if r.url.startswith(site.api.base) else None)
    site.sign_in(page, dict(account, access=access), 'history.html')
    expect(page.locator('.history-item .bubble')).to_contain_text('상사가 부당한 일을 시켜요')
    assert [s for s in statuses if s[2] == 401] == [('GET', ['chat', 'model'], 401)] * refused, statuses
    assert [s for s in statuses if s[1] == ['token', 'refresh']] == [('POST', ['token', 'refresh'], 200)], statuses

    new_access, new_refresh = site.storage(page, 'access'), site.storage(page, 'refresh')
    assert new_access not in (access, account['access'])
    assert new_refresh != account['refresh']  # rotated: the client kept the new pair
    assert site.api.get('/rest-auth/profile', token=new_access).status == 200
    expect(page.locator('#page-status')).to_be_empty()


def test_too_many_failed_logins_say_when_to_retry(page, site):
    account = site.user()
    for _ in range(5):
        site.api.post('/rest-auth/login', {'email': account['email'], 'password': 'wrong password'})
    throttled = site.api.post('/rest-auth/login', {'email': account['email'], 'password': PASSWORD})
    assert throttled.status == 429, throttled
    page.goto(site.url('login.html'))
    login_form(page, account['email'], PASSWORD)
    expect(page.locator('#login-form .form-message')).to_have_text(
        re.compile(re.escape(throttled.json['Message']) + r' \(약 \d+초 뒤에 다시 시도할 수 있습니다\.\)'))


def test_logging_out_in_one_tab_logs_out_the_others(page, site):
    account = site.user()
    site.sign_in(page, account, 'history.html')
    other = page.context.new_page()
    other.goto(site.url('board.html'))
    expect(other.get_by_role('heading', name='명대사 게시판')).to_be_visible()
    page.get_by_role('button', name='로그아웃').click()
    expect(other).to_have_url(site.url('login.html?next=%2Fboard.html'))
    expect(other.locator('#page-status')).to_have_text('다른 창에서 로그아웃했습니다.')


def test_a_dead_refresh_token_sends_the_user_to_log_in(page, site):
    account = site.user()
    site.sign_in(page, dict(account, access=fake_jwt(-60), refresh='garbage'), 'history.html')
    expect(page).to_have_url(site.url('login.html?next=%2Fhistory.html'))
    expect(page.locator('#page-status')).to_contain_text('다시 로그인해 주세요')
    assert site.storage(page, 'refresh') is None and site.storage(page, 'access') is None


def test_profile_changes_nickname_and_password(page, site):
    account = site.user(nickname='옛닉네임')
    site.sign_in(page, account, 'profile.html')
    facts = page.locator('#account')
    expect(facts).to_contain_text(account['email'])
    expect(facts).to_contain_text('일반 회원')

    nickname = page.get_by_label('새 닉네임')
    expect(nickname).to_have_value('옛닉네임')
    nickname.fill('드림즈 단장')
    nickname.press('Enter')
    expect(page.locator('#nickname-form .form-message')).to_have_text('닉네임을 바꿨어요.')
    expect(page.locator('#whoami')).to_have_text('드림즈 단장님')
    expect(facts).to_contain_text('드림즈 단장')
    assert site.api.get('/rest-auth/profile', token=site.storage(page, 'access')).json['nickname'] == '드림즈 단장'

    wrong = site.api.put('/rest-auth/profile', {'password': 'new password 2', 'current_password': 'nope nope'},
                         token=account['access'])
    assert wrong.status == 400
    page.get_by_label('현재 비밀번호').fill('nope nope')
    page.get_by_label('새 비밀번호', exact=True).fill('new password 2')
    page.get_by_label('새 비밀번호 확인').fill('new password 2')
    page.get_by_role('button', name='비밀번호 바꾸기').click()
    expect(page.locator('#current_password-error')).to_have_text(wrong.json['Fields']['current_password'])
    expect(page.locator('#password-form .form-message')).to_contain_text(wrong.json['Message'])

    page.get_by_label('현재 비밀번호').fill(PASSWORD)
    page.get_by_role('button', name='비밀번호 바꾸기').click()
    expect(page.locator('#password-form .form-message')).to_contain_text('비밀번호를 바꿨어요')
    expect(page.locator('#current_password-error')).to_be_empty()
    login = site.api.post('/rest-auth/login', {'email': account['email'], 'password': 'new password 2'})
    assert login.status == 200, login


def test_delete_account_needs_password_and_confirmation(page, site, demo):
    account = site.user()
    site.api.post('/chat/api', {'input': '떠난 동료 생각에 자책해요'}, token=account['access'])
    site.sign_in(page, account, 'profile.html')
    form = page.locator('#delete-form')

    form.get_by_label('비밀번호').fill('wrong password')
    form.get_by_role('button', name='탈퇴하기').click()
    page.get_by_role('dialog').get_by_role('button', name='탈퇴하기').click()
    expect(form.locator('.field-error')).to_have_text('비밀번호가 올바르지 않습니다.')

    form.get_by_label('비밀번호').fill(PASSWORD)
    form.get_by_role('button', name='탈퇴하기').click()
    dialog = page.get_by_role('dialog')
    expect(dialog).to_contain_text('정말 탈퇴할까요?')
    dialog.get_by_role('button', name='취소').click()
    expect(dialog).to_have_count(0)
    assert site.api.get('/rest-auth/profile', token=site.storage(page, 'access')).status == 200

    form.get_by_role('button', name='탈퇴하기').click()
    page.get_by_role('dialog').get_by_role('button', name='탈퇴하기').click()
    expect(page).to_have_url(site.url('login.html'))
    expect(page.locator('#page-status')).to_contain_text('탈퇴했어요')
    assert site.storage(page, 'access') is None
    assert site.api.post('/rest-auth/login', {'email': account['email'], 'password': PASSWORD}).status == 401


def test_missing_config_says_so_instead_of_a_blank_page(page, site):
    page.route('**/config.js', lambda route: route.fulfill(status=404, body='not found'))
    page.goto(site.url('index.html'))
    expect(page.get_by_role('alert')).to_contain_text('config.js')
    expect(page.get_by_role('heading', name='설정이 필요합니다')).to_be_visible()


def test_an_unreachable_server_is_reported_in_plain_words(page, site):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(('127.0.0.1', 0))
        dead = f'http://127.0.0.1:{s.getsockname()[1]}'
    page.route('**/config.js', lambda route: route.fulfill(
        status=200, content_type='text/javascript', body=f'window.STOVE_CONFIG = {{apiBaseUrl: {json.dumps(dead)}}};'))
    page.goto(site.url('login.html'))
    login_form(page, 'someone@example.com', PASSWORD)
    expect(page.locator('#login-form .form-message')).to_have_text(re.compile('서버에 연결할 수 없습니다'))
    expect(page.get_by_role('button', name='로그인')).to_be_enabled()


def test_login_never_sends_the_user_off_site(page, site):
    """`next` may only name a page of this site: tab/newline tricks and other hosts are refused."""
    account = site.user()
    site.sign_in(page, account)  # logged in: the login page forwards at once, no click needed
    for trick in ('/%09/evil.example/', '/%0a/evil.example/', '//evil.example/', '/%5C/evil.example/',
                  'https://evil.example/'):
        page.goto(site.url('login.html?next=' + trick))
        page.wait_for_load_state('networkidle')
        assert page.url.startswith(site.origin + '/'), (trick, page.url)
