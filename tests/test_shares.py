"""Share links through the real HTTP server: a public read-only card, unguessable ids, the
owner's list and revocation, and what the card never shows."""
import pytest

from chalicelib.storage import keys
from tools.devkit.fake_openai import choose

ORIGIN = {'Origin': 'http://localhost:8080'}
BOSS = '팀장님이 부당한 일을 자꾸 저한테만 떠넘겨요'


@pytest.fixture
def owner(api, demo):
    return api.join(email='owner@example.com', nickname='비밀닉네임')


def ask(api, token, text=BOSS):
    r = api.post('/chat/api', {'input': text}, token=token)
    assert r.status == 200, r
    return r.json['chat']


def share(api, token, chat_id, body=None, **kw):
    return api.post(f'/chat/model/{chat_id}/share', body, token=token, **kw)


def test_a_share_link_shows_the_card_to_anyone_and_nothing_of_the_owner(api, demo, owner):
    token = owner['access']
    chat = ask(api, token)
    r = share(api, token, chat['id'], {'include_input': False})
    assert r.status == 201, r
    made = r.json
    assert set(made) >= {'id', 'created_at', 'include_input', '_links'} and made['include_input'] is False
    assert len(made['id']) == 24
    public_link = next(link for link in made['_links'] if link['desc'] == 'public')['href']
    assert public_link.endswith('/share/' + made['id'])

    card = api.get('/share/' + made['id'], headers=ORIGIN)  # no token
    assert card.status == 200, card
    line = demo.get(chat['chat_reply']['line_id'])
    assert card.json == {'scene': line['scene'], 'speaker': line['speaker'], 'quote': line['quote'],
                         'description': line['description'], 'sources': line.get('sources') or [],
                         'created_at': made['created_at']}
    assert card.headers['access-control-allow-origin'] == 'http://localhost:8080'
    raw = card.raw.decode('utf-8')
    for secret in (BOSS, owner['user']['id'], 'owner@example.com', '비밀닉네임', chat['id']):
        assert secret not in raw
    assert api.get(f"/share/{made['id']}/").status == 200


def test_the_question_is_shown_only_when_the_owner_includes_it(api, demo, owner):
    token = owner['access']
    chat = ask(api, token)
    made = share(api, token, chat['id'], {'include_input': True}).json
    assert made['include_input'] is True
    card = api.get('/share/' + made['id']).json
    assert card['input'] == BOSS and card['quote'] == chat['chat_reply']['quote']
    without = share(api, token, chat['id']).json  # no body: the question stays out
    assert without['include_input'] is False and 'input' not in api.get('/share/' + without['id']).json


def test_the_models_explanation_stays_private_unless_the_question_is_shared(api, demo, owner, fake_openai):
    """The model's "why it fits" retells the question; without it the card shows the line's own."""
    tailored = '팀장님이 일을 떠넘기는 지금, 부당한 일은 거절해도 된다는 말이 힘이 됩니다.'
    fake_openai.behaviour = choose(lambda cands: next(c for c in cands if c['scene'] == 10), description=tailored)
    token = owner['access']
    chat = ask(api, token)
    assert chat['chat_reply']['description'] == tailored
    private = api.get('/share/' + share(api, token, chat['id']).json['id']).json
    assert private['description'] == demo.get(chat['chat_reply']['line_id'])['description']
    assert '팀장' not in str(private)
    public = api.get('/share/' + share(api, token, chat['id'], {'include_input': True}).json['id']).json
    assert public['description'] == tailored and public['input'] == BOSS


@pytest.mark.parametrize('body', [{'include_input': 'yes'}, {'include_input': 1}, {'include_input': None}, []])
def test_bad_share_requests_are_400_and_make_nothing(api, demo, owner, body):
    token = owner['access']
    chat = ask(api, token)
    r = share(api, token, chat['id'], body)
    assert r.status == 400, r
    assert api.get('/chat/shares', token=token).json['count'] == 0


def test_links_are_the_owners_to_list_and_revoke(api, demo, owner):
    token = owner['access']
    chats = [ask(api, token) for _ in range(3)]
    made = [share(api, token, c['id']).json for c in chats]
    other = api.join(email='other@example.com')['access']
    assert share(api, other, chats[0]['id']).status == 404  # someone else's chat
    assert api.get('/chat/shares', token=other).json['count'] == 0
    assert api.delete('/chat/shares/' + made[0]['id'], token=other).status == 404
    assert api.get('/share/' + made[0]['id']).status == 200

    listed = api.get('/chat/shares', token=token).json
    assert listed['count'] == 3 and [s['id'] for s in listed['results']] == [m['id'] for m in made[::-1]]
    assert listed['results'][0]['card']['quote'] == chats[2]['chat_reply']['quote']
    assert {link['desc'] for link in listed['results'][0]['_links']} >= {'public', 'revoke'}

    r = api.delete('/chat/shares/' + made[0]['id'], token=token)
    assert r.status == 204, r
    gone = api.get('/share/' + made[0]['id'], headers=ORIGIN)
    assert gone.status == 404 and gone.json['Code'] == 'NotFoundError'
    assert gone.headers['access-control-allow-origin'] == 'http://localhost:8080'
    assert api.delete('/chat/shares/' + made[0]['id'], token=token).status == 404
    assert api.get('/chat/shares', token=token).json['count'] == 2


def test_paging_my_links(api, demo, owner):
    token = owner['access']
    chat = ask(api, token)
    made = [share(api, token, chat['id']).json['id'] for _ in range(7)]
    first = api.get('/chat/shares', token=token).json
    assert first['count'] == 7 and [s['id'] for s in first['results']] == made[::-1][:5]
    second = api.get(first['next'], token=token).json
    assert [s['id'] for s in second['results']] == made[::-1][5:] and second['next'] is None


def test_deleting_the_chat_revokes_its_links(api, demo, owner):
    token = owner['access']
    kept, doomed = ask(api, token), ask(api, token)
    keep_link = share(api, token, kept['id']).json['id']
    doomed_links = [share(api, token, doomed['id']).json['id'] for _ in range(2)]
    assert api.delete('/chat/model/' + doomed['id'], token=token).status == 204
    for share_id in doomed_links:
        assert api.get('/share/' + share_id).status == 404
    assert api.get('/share/' + keep_link).status == 200
    assert [s['id'] for s in api.get('/chat/shares', token=token).json['results']] == [keep_link]
    assert share(api, token, doomed['id']).status == 404  # a deleted chat cannot be shared
    assert api.delete('/chat/model', token=token).status == 204  # delete all: every link goes
    assert api.get('/share/' + keep_link).status == 404
    assert api.get('/chat/shares', token=token).json['count'] == 0


def test_sharing_while_the_chat_is_deleted_leaves_no_live_link(api, demo, owner):
    token = owner['access']
    for _ in range(3):
        chat = ask(api, token)
        made, deleted = api.at_once([('POST', f"/chat/model/{chat['id']}/share", None, token),
                                     ('DELETE', '/chat/model/' + chat['id'], None, token)])
        assert deleted.status == 204, deleted
        assert made.status in (201, 404), made
        if made.status == 201:
            assert api.get('/share/' + made.json['id']).status == 404
    assert api.get('/chat/shares', token=token).json['count'] == 0


@pytest.mark.parametrize('share_id', ['A' * 24, 'short', 'x' * 300, '..%2F..%2Fchat', '%00' * 3])
def test_unknown_or_malformed_share_ids_are_404(api, demo, share_id):
    r = api.get('/share/' + share_id)
    assert r.status == 404, r
    assert r.json['Code'] == 'NotFoundError'


def test_a_card_holds_at_most_ten_links(api, demo, owner, configure):
    configure(KEEP_LIMIT_PER_MINUTE=100)
    token = owner['access']
    chat = ask(api, token)
    made = [share(api, token, chat['id']).json['id'] for _ in range(10)]
    r = share(api, token, chat['id'])
    assert r.status == 409 and '10' in r.json['Message'], r
    assert api.delete('/chat/shares/' + made[0], token=token).status == 204
    assert share(api, token, chat['id']).status == 201
    assert api.get('/chat/shares', token=token).json['count'] == 10


def test_deleting_every_chat_takes_every_link_even_many(api, demo, owner, configure):
    """Chats with ten links each: their deletes span several transactions of at most 100 items."""
    configure(KEEP_LIMIT_PER_MINUTE=100)
    token = owner['access']
    links = []
    for _ in range(6):
        chat = ask(api, token)
        links += [share(api, token, chat['id']).json['id'] for _ in range(10)]
    assert api.get('/chat/shares', token=token).json['count'] == 60
    assert api.delete('/chat/model', token=token).status == 204
    assert all(api.get('/share/' + share_id).status == 404 for share_id in links)
    assert api.get('/chat/shares', token=token).json['count'] == 0
    assert api.get('/chat/model', token=token).json['count'] == 0


def test_a_chat_saved_without_the_lines_own_description_still_keeps_the_models_words_private(
        api, store, demo, owner):
    """Chats saved before the reply kept the line's own description: the card reads it instead."""
    token, uid = owner['access'], owner['user']['id']
    line = demo.lines[0]
    from tests.test_search_export import seed
    [chat_id] = seed(store, uid, 1, content=lambda k: '비밀스러운 내 고민')
    store.db.chats.update_item(Key=keys.chat(uid, chat_id),
                               UpdateExpression='SET reply.line_id = :l, reply.#s = :o, reply.description = :d',
                               ExpressionAttributeNames={'#s': 'source'},
                               ExpressionAttributeValues={':l': line['id'], ':o': 'openai',
                                                          ':d': '비밀스러운 고민에 맞춘 설명'})
    card = api.get('/share/' + share(api, token, chat_id).json['id']).json
    assert card['description'] == line['description']
