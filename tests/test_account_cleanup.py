"""Deleting an account deletes what it kept: bookmarks, ratings (off the per-line counts),
share links (their public pages go 404) and its per-line counters."""
from boto3.dynamodb.conditions import Key

from chalicelib.accounts import auth, purge
from chalicelib.storage import keys

PASSWORD = 'correct horse 1'


def items_of(store, user_id):
    """Every item of the user in the quotes table's per-user partitions."""
    found = []
    for kind in keys.KEPT:
        found += store.db.quotes.query(KeyConditionExpression=Key('pk').eq(keys.kept_pk(user_id, kind)),
                                       ConsistentRead=True)['Items']
    return found


def test_deleting_the_account_deletes_its_bookmarks_ratings_and_links(api, store, demo):
    leaving = api.join(email='leaving@example.com')
    staying = api.join(email='staying@example.com')
    admin = api.join(email='admin@example.com')['access']
    auth.set_admin('admin@example.com')
    token, uid = leaving['access'], leaving['user']['id']

    mine = api.post('/chat/api', {'input': '상사가 부당한 일을 시켜요'}, token=token).json['chat']
    theirs = api.post('/chat/api', {'input': '상사가 부당한 일을 시켜요'}, token=staying['access']).json['chat']
    line_id = mine['chat_reply']['line_id']
    assert api.put(f"/chat/model/{mine['id']}/rating", {'value': -1}, token=token).status == 200
    assert api.put(f"/chat/model/{theirs['id']}/rating", {'value': 1}, token=staying['access']).status == 200
    assert api.put('/chat/bookmarks/' + line_id, token=token).status == 200
    assert api.put('/chat/bookmarks/' + line_id, token=staying['access']).status == 200
    link = api.post(f"/chat/model/{mine['id']}/share", {'include_input': True}, token=token).json['id']
    their_link = api.post(f"/chat/model/{theirs['id']}/share", token=staying['access']).json['id']
    assert api.get('/share/' + link).status == 200 and len(items_of(store, uid)) == 3

    assert api.delete('/rest-auth/profile', {'password': PASSWORD}, token=token).status == 204

    assert api.get('/share/' + link).status == 404  # at once, before the purge removes it
    assert store.shares.get(link) is not None
    assert purge.sweep(settle=0) == 1
    assert items_of(store, uid) == []
    assert store.shares.get(link) is None
    stats = next(r for r in api.get('/corpus/stats?per-page=50', token=admin).json['results']
                 if r['line']['id'] == line_id)
    assert (stats['up'], stats['down']) == (1, 0)  # the leaver's 👎 went with them
    # the other user's things are untouched
    assert api.get('/share/' + their_link).status == 200
    assert api.get('/chat/bookmarks', token=staying['access']).json['count'] == 1


def test_deleting_chats_of_a_vanished_account_makes_no_ghost_account(store):
    """A delete racing the account's deletion must not re-create the account item as a counter."""
    from tests.test_search_export import seed
    ids = seed(store, 'ghost-user', 3)
    store.db.users.delete_item(Key=keys.user('ghost-user'))  # chats.put_bulk counted on it: gone now
    assert store.chats.delete('ghost-user', ids[0]) is False
    assert store.chats.delete_all('ghost-user') == 0
    assert store.users.get('ghost-user') is None
