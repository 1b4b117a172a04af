"""The session index: a password change or an account deletion ends sessions listed beside the
account, without a Query, and ends every one of them however logins, logouts, old accounts
and a full index interleave with it. And the purge that removes what a deleted account owned."""
import contextlib
import time

import pytest
from boto3.dynamodb.conditions import Key

from chalicelib import storage
from chalicelib.accounts import purge
from chalicelib.storage import keys

PASSWORD = 'correct horse 1'
NEW_PASSWORD = 'new password 2'


def login(api, email='user@example.com', password=PASSWORD):
    r = api.post('/rest-auth/login', {'email': email, 'password': password})
    assert r.status == 200, r
    return r.json


def live_sessions(store, user_id):
    items = store.db.auth.query(KeyConditionExpression=Key('pk').eq(keys.account_pk(user_id)) & Key('sk').begins_with(
        keys.SESSION_PREFIX), ConsistentRead=True)['Items']
    return sorted(keys.sid_of(i['sk']) for i in items)


def index_of(store, user_id):
    return store.db.auth.get_item(Key=keys.session_index(user_id), ConsistentRead=True).get('Item')


def sid_of(tokens):
    import jwt
    return jwt.decode(tokens['access'], options={'verify_signature': False})['sid']


def change_password(api, token):
    return api.put('/rest-auth/profile', {'password': NEW_PASSWORD, 'current_password': PASSWORD}, token=token)


def test_the_index_lists_every_login_and_a_password_change_ends_all_but_the_callers(api, store):
    joined = api.join()
    uid = joined['user']['id']
    others = [login(api) for _ in range(3)]
    index = index_of(store, uid)
    assert index['complete'] is True and set(index['sids']) == set(live_sessions(store, uid))
    assert change_password(api, joined['access']).status == 200
    assert live_sessions(store, uid) == [sid_of(joined)]
    assert set(index_of(store, uid)['sids']) == {sid_of(joined)}
    assert all(api.get('/rest-auth/profile', token=o['access']).status == 401 for o in others)
    assert api.get('/rest-auth/profile', token=joined['access']).status == 200


def test_an_account_older_than_the_index_still_ends_every_session(api, store):
    joined = api.join()
    uid = joined['user']['id']
    other = login(api)
    store.db.auth.delete_item(Key=keys.session_index(uid))  # as before the index existed
    another = login(api)  # a login after the upgrade lists itself in an index not known complete
    assert index_of(store, uid).get('complete') is None
    assert change_password(api, joined['access']).status == 200
    assert live_sessions(store, uid) == [sid_of(joined)]
    assert api.get('/rest-auth/profile', token=other['access']).status == 401
    assert api.get('/rest-auth/profile', token=another['access']).status == 401
    assert index_of(store, uid)['complete'] is True  # read from the sessions themselves: complete now


def test_a_login_between_reading_the_index_and_the_change_is_ended_too(api, store):
    joined = api.join()
    uid = joined['user']['id']
    user, index = store.users.with_sessions(uid)
    late = login(api)  # lists itself after the index was read
    store.users.update_ending_sessions(uid, {'nickname': '바뀜'}, keep=sid_of(joined), email=user['email'], index=index)
    assert live_sessions(store, uid) == [sid_of(joined)]
    assert api.get('/rest-auth/profile', token=late['access']).status == 401


def test_a_login_between_reading_the_index_and_the_deletion_is_ended_too(api, store):
    joined = api.join()
    uid = joined['user']['id']
    user, index = store.users.with_sessions(uid)
    late = login(api)
    store.users.delete(uid, user['email'], index, storage.GiveBack([], [], 0, 0))
    assert live_sessions(store, uid) == [] and index_of(store, uid) is None
    assert api.get('/rest-auth/profile', token=late['access']).status == 401


def test_a_full_index_is_pruned_to_the_live_sessions(api, store, monkeypatch):
    monkeypatch.setattr(type(store.sessions), 'INDEX_MAX', 3)
    joined = api.join()
    uid = joined['user']['id']
    for _ in range(5):  # logins that log out leave their ids behind in the index
        assert api.post('/rest-auth/logout', token=login(api)['access']).status == 200
    kept = login(api)
    listed = set(index_of(store, uid)['sids'])
    assert len(listed) <= 3 and {sid_of(joined), sid_of(kept)} <= listed
    assert set(live_sessions(store, uid)) == {sid_of(joined), sid_of(kept)}


def test_more_live_sessions_than_the_index_holds_still_log_in_and_all_end(api, store, monkeypatch):
    monkeypatch.setattr(type(store.sessions), 'INDEX_MAX', 2)
    joined = api.join()
    uid = joined['user']['id']
    others = [login(api) for _ in range(4)]  # all alive: pruning frees nothing, the login still lists itself
    assert set(index_of(store, uid)['sids']) == set(live_sessions(store, uid))
    assert change_password(api, joined['access']).status == 200
    assert live_sessions(store, uid) == [sid_of(joined)]
    assert all(api.get('/rest-auth/profile', token=o['access']).status == 401 for o in others)


def test_a_password_change_with_many_sessions_ends_past_one_transaction(api, store):
    joined = api.join()
    uid = joined['user']['id']
    user = store.users.get(uid)
    for k in range(120):  # more than one transaction holds (an index grown before its size limit)
        sid = f'extra{k:03}'
        store.db.transact([{'Put': {'TableName': store.cfg.auth_table,
                                    'Item': store.sessions.item(uid, sid, 'jti', int(time.time()) + 600)}},
                           store.sessions.listing_op(uid, sid, bounded=False)])
    _, index = store.users.with_sessions(uid)
    store.users.update_ending_sessions(uid, {'nickname': '바뀜'}, keep=sid_of(joined), email=user['email'], index=index)
    assert live_sessions(store, uid) == [sid_of(joined)]


# -- the purge ------------------------------------------------------------------------------------
def deleted_with_chats(api, n):
    """An account with n chats, deleted: its id."""
    joined = api.join(email='leaving@example.com')
    for i in range(n):
        api.post('/chat/model', {'content': f'대화 {i}', 'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}},
                 token=joined['access'])
    assert api.delete('/rest-auth/profile', {'password': PASSWORD}, token=joined['access']).status == 204
    return joined['user']['id']


def test_the_sweep_waits_for_the_index_to_settle_and_purges_once(api, store):
    uid = deleted_with_chats(api, 3)
    assert purge.sweep(settle=60) == 0  # deleted just now: not yet
    assert len(store.chats.of(uid).page(50)) == 3
    assert purge.sweep(settle=0) == 1
    assert store.chats.of(uid).page(50) == [] and store.purges.jobs(older_than=time.time()) == []
    assert purge.sweep(settle=0) == 0


def test_a_sweep_cut_short_is_finished_by_the_next(api, store, monkeypatch):
    uid = deleted_with_chats(api, 3)

    def cut(user_id):
        raise RuntimeError('Lambda timed out here')
    with monkeypatch.context() as m:
        m.setattr(type(store.shares), 'delete_all', lambda self, user_id: cut(user_id))  # right after the chats
        with contextlib.suppress(RuntimeError):
            purge.sweep(settle=0)
    assert store.chats.of(uid).page(50) == []  # done before the cut
    assert store.purges.jobs(older_than=time.time()) == [uid]  # the job stays until the end
    assert purge.sweep(settle=0) == 1 and store.purges.jobs(older_than=time.time()) == []


def test_the_email_can_sign_up_again_before_the_purge(api, store):
    joined = api.join(email='leaving@example.com')
    api.post('/chat/model', {'content': '옛 대화', 'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}},
             token=joined['access'])
    assert api.delete('/rest-auth/profile', {'password': PASSWORD}, token=joined['access']).status == 204
    again = api.join(email='leaving@example.com')
    purge.sweep(settle=0)
    assert api.get('/chat/model', token=again['access']).json['count'] == 0
    assert api.post('/chat/model', {'content': '새 대화', 'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}},
                    token=again['access']).status == 201
    assert api.get('/chat/model', token=again['access']).json['count'] == 1


def test_the_purge_removes_sessions_a_crash_left_behind(api, store):
    uid = deleted_with_chats(api, 1)
    store.db.auth.put_item(Item=store.sessions.item(uid, 'left-behind', 'jti', int(time.time()) + 600))
    assert purge.sweep(settle=0) == 1
    assert live_sessions(store, uid) == []


def test_one_failing_purge_does_not_hold_up_the_others(api, store, monkeypatch):
    first = deleted_with_chats(api, 1)
    joined = api.join(email='second@example.com')
    api.post('/chat/model', {'content': '둘째', 'chat_reply': {'scene': 1, 'quote': 'q', 'description': 'd'}},
             token=joined['access'])
    assert api.delete('/rest-auth/profile', {'password': PASSWORD}, token=joined['access']).status == 204
    real = type(store.shares).delete_all

    def broken_for_the_first(self, user_id):
        if user_id == first:
            raise RuntimeError('a bug in one account')
        return real(self, user_id)
    monkeypatch.setattr(type(store.shares), 'delete_all', broken_for_the_first)
    with pytest.raises(RuntimeError, match='purge failed for 1 of 2'):  # so its Lambda counts an error
        purge.sweep(settle=0)
    assert store.purges.jobs(older_than=time.time()) == [first]  # the other one is done
    monkeypatch.setattr(type(store.shares), 'delete_all', real)
    assert purge.sweep(settle=0) == 1 and store.purges.jobs(older_than=time.time()) == []
