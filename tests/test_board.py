"""The quote request board through the real HTTP server: permissions, pagination, and
applied proposals joining (and leaving) the chatbot's corpus."""
import pytest

from chalicelib.accounts import auth, purge

PROPOSAL = {'title': '고세혁 팀장의 한마디',
            'content': '스카우트는 발로 뛰는 겁니다. 발품을 팔지 않으면 좋은 선수는 보이지 않습니다.',
            'description': '노력 없이 결과만 바랄 때, 현장을 직접 뛰어다니는 성실함이 답이라는 말입니다.',
            'scene': 4, 'speaker': '고세혁'}


@pytest.fixture
def people(api):
    author = api.join(email='jmkim@gmail.com', nickname='작성자')
    other = api.join(email='other@example.com', nickname='다른사람')
    admin = api.join(email='admin@example.com', nickname='관리자')
    auth.set_admin('admin@example.com')
    return {'author': author['access'], 'other': other['access'], 'admin': admin['access']}


def propose(api, token, **changes):
    r = api.post('/quote', dict(PROPOSAL, **changes), token=token)
    assert r.status == 201, r
    return r.json


def test_propose_then_read_with_links(api, people):
    q = propose(api, people['author'])
    assert q['is_apply'] is False and q['applied_at'] is None and q['scene'] == 4
    assert q['user']['email'] == 'jmkim@gmail.com' and q['user']['nickname'] == '작성자'
    assert {link['desc'] for link in q['_links']} >= {'self', 'update', 'delete'}
    seen_by_other = api.get(f"/quote/{q['id']}/", token=people['other']).json
    assert seen_by_other['user']['email'] == 'jm***@gmail.com'
    assert {link['desc'] for link in seen_by_other['_links']} == {'self', 'board'}
    seen_by_admin = api.get('/quote/' + q['id'], token=people['admin']).json
    assert {link['desc'] for link in seen_by_admin['_links']} >= {'delete', 'apply'}


@pytest.mark.parametrize('changes, field', [
    ({'title': ''}, 'title'), ({'title': 't' * 101}, 'title'), ({'content': None}, 'content'),
    ({'content': 'c' * 501}, 'content'), ({'description': 7}, 'description'), ({'scene': 17}, 'scene'),
    ({'scene': 'two'}, 'scene'), ({'speaker': 's' * 31}, 'speaker'),
])
def test_propose_rejects_bad_input_and_saves_nothing(api, people, changes, field):
    body = {k: v for k, v in dict(PROPOSAL, **changes).items() if v is not None}
    r = api.post('/quote', body, token=people['author'])
    assert r.status == 400, r
    assert field in r.json['Fields']
    assert api.get('/quote', token=people['author']).json['count'] == 0


def test_board_needs_login(api):
    assert api.get('/quote').status == 401


def test_edit_is_for_the_author_before_apply(api, people):
    q = propose(api, people['author'])
    path = '/quote/' + q['id']
    assert api.put(path, {'title': '남의 글'}, token=people['other']).status == 403
    assert api.put(path, {'title': '관리자'}, token=people['admin']).status == 403
    assert api.put(path, {}, token=people['author']).status == 400
    assert api.put(path, {'title': ''}, token=people['author']).status == 400
    r = api.put(path + '/', {'title': '고친 제목'}, token=people['author'])
    assert r.status == 200, r
    assert r.json['title'] == '고친 제목' and r.json['content'] == PROPOSAL['content']
    assert r.json['updated_at'] >= q['updated_at']
    assert api.post(path + '/apply', token=people['admin']).status == 200
    r = api.put(path, {'title': '반영 후 수정'}, token=people['author'])
    assert r.status == 409, r
    assert api.get(path, token=people['author']).json['title'] == '고친 제목'


def test_delete_is_for_the_author_or_an_admin(api, people):
    first, second = propose(api, people['author']), propose(api, people['author'])
    assert api.delete('/quote/' + first['id'], token=people['other']).status == 403
    assert api.delete('/quote/' + first['id'], token=people['author']).status == 204
    assert api.delete('/quote/' + second['id'], token=people['admin']).status == 204
    assert api.get('/quote/' + first['id'], token=people['author']).status == 404
    assert api.get('/quote', token=people['author']).json['count'] == 0


def test_unknown_ids_are_404(api, people):
    for path in ('/quote/00000000000000aaaaaaaa', '/quote/nope'):
        assert api.get(path, token=people['admin']).status == 404
        assert api.put(path, {'title': 'x'}, token=people['author']).status == 404
    assert api.post('/quote/nope/apply', token=people['admin']).status == 404
    assert api.post('/quote/00000000000000aaaaaaaa/apply', token=people['admin']).status == 404
    assert api.delete('/quote/00000000000000aaaaaaaa', token=people['admin']).status == 404


@pytest.mark.parametrize('body, field', [({'title': None}, 'title'), ({'content': None}, 'content'),
                                         ({'description': None}, 'description'), ({'scene': '²'}, 'scene')])
def test_edit_cannot_clear_required_fields(api, people, demo, body, field):
    q = propose(api, people['author'])
    r = api.put('/quote/' + q['id'], body, token=people['author'])
    assert r.status == 400, r
    assert field in r.json['Fields']
    assert api.post(f"/quote/{q['id']}/apply", token=people['admin']).status == 200
    assert api.post('/chat/api', {'input': '발품'}, token=people['other']).status == 200


def test_edit_may_clear_scene_and_speaker(api, people):
    q = propose(api, people['author'])
    r = api.put('/quote/' + q['id'], {'scene': None, 'speaker': None}, token=people['author'])
    assert r.status == 200, r
    assert (r.json['scene'], r.json['speaker']) == (None, None)
    applied = api.post(f"/quote/{q['id']}/apply", token=people['admin'])
    assert applied.status == 200 and applied.json['is_apply'] is True


def test_an_edit_racing_an_apply_wins_cleanly(api, people, store):
    q = propose(api, people['author'])
    seen = store.board.get(q['id'])
    assert api.put('/quote/' + q['id'], {'content': '고친 대사'}, token=people['author']).status == 200
    from chalicelib import storage
    from chalicelib.board import proposals
    with pytest.raises(storage.ConditionFailed):  # the admin's apply was based on the old text
        store.board.set_applied(q['id'], seen['updated_at'], proposals.corpus_line(seen), 'now')
    assert store.corpus.lines() == [] and store.board.get(q['id'])['is_apply'] is False


def test_proposals_need_a_living_account(api, people, store):
    from chalicelib import storage
    with pytest.raises(storage.ConditionFailed):
        store.board.put({'id': '0' * 22, 'user_id': 'gone', 'title': 't', 'content': 'c', 'description': 'd'})
    board = api.get('/quote', token=people['author']).json
    assert board['count'] == 0 and board['results'] == []  # neither written nor counted


def test_only_admins_apply_or_withdraw(api, people):
    q = propose(api, people['author'])
    for who in ('author', 'other'):
        assert api.post(f"/quote/{q['id']}/apply", token=people[who]).status == 403
        assert api.delete(f"/quote/{q['id']}/apply", token=people[who]).status == 403
    assert api.get('/quote/' + q['id'], token=people['author']).json['is_apply'] is False


def ask(api, token, text):
    r = api.post('/chat/api', {'input': text}, token=token)
    assert r.status == 200, r
    return r.json


def test_apply_joins_the_corpus_and_withdraw_leaves_it(api, people, demo):
    situation = '좋은 선수 찾으러 발품 팔며 스카우트하는 게 힘들어요'
    before = ask(api, people['other'], situation)
    assert before['quote'] != PROPOSAL['content']
    q = propose(api, people['author'])
    assert ask(api, people['other'], situation)['quote'] != PROPOSAL['content']  # proposed is not applied

    r = api.post(f"/quote/{q['id']}/apply/", token=people['admin'])
    assert r.status == 200, r
    assert r.json['is_apply'] is True and r.json['applied_at']
    after = ask(api, people['other'], situation)
    assert (after['quote'], after['scene'], after['speaker']) == (PROPOSAL['content'], 4, '고세혁')

    r = api.delete(f"/quote/{q['id']}/apply", token=people['admin'])
    assert r.status == 200 and r.json['is_apply'] is False and r.json['applied_at'] is None
    assert ask(api, people['other'], situation)['quote'] != PROPOSAL['content']

    api.post(f"/quote/{q['id']}/apply", token=people['admin'])
    assert ask(api, people['other'], situation)['quote'] == PROPOSAL['content']
    assert api.delete('/quote/' + q['id'], token=people['admin']).status == 204
    assert ask(api, people['other'], situation)['quote'] != PROPOSAL['content']


def test_board_pages_newest_first(api, people):
    ids = [propose(api, people['author'], title=f'제안 {i}')['id'] for i in range(7)]
    newest = list(reversed(ids))
    page1 = api.get('/quote?per-page=5', token=people['other']).json
    assert page1['count'] == 7 and [q['id'] for q in page1['results']] == newest[:5]
    assert all(q['user']['email'] == 'jm***@gmail.com' for q in page1['results'])
    page2 = api.get(page1['next'], token=people['other']).json
    assert [q['id'] for q in page2['results']] == newest[5:] and page2['next'] is None
    by_number = api.get('/quote/?per-page=5&page=2', token=people['other']).json
    assert [q['id'] for q in by_number['results']] == newest[5:]
    assert 'jm***' not in api.get('/quote', token=people['author']).raw.decode()


def test_account_deletion_keeps_applied_lines_without_the_author(api, people, store, demo):
    applied, pending = propose(api, people['author']), propose(api, people['author'], title='대기 중')
    api.post(f"/quote/{applied['id']}/apply", token=people['admin'])
    r = api.delete('/rest-auth/profile', {'password': 'correct horse 1'}, token=people['author'])
    assert r.status == 204, r
    # before the purge, the unapplied one is already shown to nobody
    assert api.get('/quote/' + pending['id'], token=people['other']).status == 404
    assert [q['id'] for q in api.get('/quote', token=people['other']).json['results']] == [applied['id']]
    purge.sweep(settle=0)
    assert api.get('/quote/' + pending['id'], token=people['other']).status == 404
    kept = api.get('/quote/' + applied['id'], token=people['other']).json
    assert kept['is_apply'] is True and kept['user'] is None
    assert 'jmkim' not in str(store.board.get(applied['id']))
    answer = ask(api, people['other'], '좋은 선수 찾으러 발품 팔며 스카우트하는 게 힘들어요')
    assert answer['quote'] == PROPOSAL['content']
    assert api.get('/quote', token=people['other']).json['count'] == 1


def test_admin_flag_shows_in_profile(api, people):
    assert api.get('/rest-auth/profile', token=people['admin']).json['is_admin'] is True
    assert api.get('/rest-auth/profile', token=people['other']).json['is_admin'] is False
