"""An error on screen carries the request's id, and it is the id of the server's log line."""
import json

from playwright.sync_api import expect


def test_a_failed_answer_shows_the_id_an_operator_finds_in_the_logs(page, site, demo, fake_openai, capsys):
    fake_openai.behaviour = lambda req: (500, {'error': {'message': 'boom', 'type': 'server_error'}}, 0)
    site.sign_in(page, site.user())
    box = page.get_by_label('고민이나 상황')
    box.fill('시험에 떨어졌어요')
    with page.expect_response(lambda r: r.url.endswith('/chat/api') and r.request.method == 'POST') as answer:
        box.press('Enter')
    request_id = answer.value.headers['x-request-id']
    assert answer.value.status == 502 and answer.value.json()['RequestId'] == request_id

    alert = page.locator('.chat-log [role="alert"]')
    expect(alert).to_contain_text('답을 받지 못했어요.')
    note = alert.locator('.request-id')
    expect(note).to_have_text('요청 ID: ' + request_id)
    # shown under the message, on a line of its own
    message_box, note_box = alert.bounding_box(), note.bounding_box()
    assert note_box['y'] > message_box['y'] + 5

    lines = [json.loads(ln) for ln in capsys.readouterr().out.splitlines() if ln.startswith('{')]
    [line] = [ln for ln in lines if ln.get('request_id') == request_id]
    assert (line['route'], line['status'], line['model_error']) == ('/chat/api', 502, 'http_error')


def test_a_form_error_shows_the_id_of_its_request(page, site):
    account = site.user()
    page.goto(site.url('login.html'))
    page.get_by_label('이메일').fill(account['email'])
    page.get_by_label('비밀번호').fill('not the password')
    with page.expect_response(lambda r: r.url.endswith('/rest-auth/login')) as answer:
        page.get_by_label('비밀번호').press('Enter')
    request_id = answer.value.headers['x-request-id']
    expect(page.locator('#login-form .form-message .request-id')).to_have_text('요청 ID: ' + request_id)
