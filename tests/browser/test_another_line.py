"""The answer card's "다른 대사" (another line) and its source link, in the browser."""
from playwright.sync_api import expect


def test_another_line_shows_new_lines_until_all_that_fit_were_shown(page, site, demo):
    account = site.user()
    site.sign_in(page, account)
    box = page.get_by_label('고민이나 상황')
    box.fill('회사에서 파벌 싸움 때문에 지쳤어요')
    box.press('Enter')

    cards = page.locator('.answer')
    expect(cards).to_have_count(1)
    first = cards.first
    line = demo.get(first.get_attribute('data-line-id'))
    assert line is not None
    expect(first.locator('.episode')).to_have_text(f"{line['scene']}회")
    expect(first.locator('.speaker')).to_have_text(line['speaker'])
    source = first.locator('.cite a')
    expect(source).to_have_attribute('href', line['sources'][0])
    expect(source).to_have_attribute('rel', 'noopener noreferrer')

    shown = [line['id']]
    for n in range(2, 12):
        another = page.get_by_role('button', name='다른 대사')
        if not another.count():
            break
        another.click()
        expect(cards.or_(page.locator('.all-shown'))).to_have_count(n)
        if page.locator('.all-shown').count():
            break
        newest = cards.nth(n - 1)
        expect(newest).to_be_focused()  # the keyboard follows the new card
        shown.append(newest.get_attribute('data-line-id'))
        assert len(set(shown)) == len(shown), shown  # never a line already shown for this input
        expect(page.get_by_role('button', name='다른 대사')).to_have_count(1)  # only on the newest card
    expect(page.locator('.all-shown')).to_contain_text('모두 보여 드렸어요')
    expect(page.get_by_role('button', name='다른 대사')).to_have_count(0)
    assert len(shown) >= 2

    saved = site.api.get('/chat/model?per-page=50', token=site.storage(page, 'access')).json
    assert [c['chat_reply']['line_id'] for c in reversed(saved['results'])] == shown


def test_history_cards_link_to_their_source(page, site, demo):
    account = site.user()
    r = site.api.post('/chat/api', {'input': '시험에 떨어졌어요'}, token=account['access'])
    assert r.status == 200, r
    site.sign_in(page, account, 'history.html')
    link = page.locator('.history-item .cite a')
    expect(link).to_have_attribute('href', r.json['sources'][0])
