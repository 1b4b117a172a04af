def test_health(api):
    r = api.get('/health')
    assert r.status == 200, r
    assert r.json['status'] == 'ok'


def test_join_login_profile(api):
    joined = api.join()
    assert joined['user']['pk'] == joined['user']['id']
    r = api.post('/rest-auth/login/', {'email': 'USER@example.com', 'password': 'correct horse 1'})
    assert r.status == 200, r
    r = api.get('/rest-auth/profile', token=r.json['access'])
    assert r.status == 200, r
    assert r.json['email'] == 'user@example.com'
    assert 'password_hash' not in r.json
