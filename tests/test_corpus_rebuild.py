"""The corpus index after a corpus change: a container that holds an index catches up by reading
the change log and the changed lines only, and ends with the index a full rebuild gives; a gap
in the log, a change too large to list, or a new container reads every line."""
import json
import threading
from decimal import Decimal

import pytest

from chalicelib import storage
from chalicelib.accounts import auth
from chalicelib.chat import corpus
from chalicelib.storage import corpus as corpus_log
from tools.devkit.dynamo_calls import DynamoCalls

QUERIES = ['야구 단장', '회사 상사 때문에 힘들어요', '이별 후회', '시험 불합격', '새로운 도전', '스카우트 발품']
CATCH_UP = ['GetItem', 'Query']  # the version, the log after it (a few changed lines travel in it)
PROPOSAL = {'title': '발품', 'content': '스카우트는 발로 뛰는 겁니다.', 'description': '현장을 직접 뛰어다니는 성실함',
            'scene': 4, 'speaker': '고세혁'}


def record(i: int, quote: str = '') -> dict:
    return {'id': f'line-{i:03d}', 'scene': 1 + i % 16, 'speaker': f'인물{i % 7}',
            'quote': quote or f"야구 단장 {i}번째 대사 {'회사 상사' if i % 3 else '이별 후회'}",
            'description': f'시험 도전 설명 {i}', 'tags': [f'태그{i % 5}']}


def load(n: int) -> None:
    corpus.import_text('\n'.join(json.dumps(record(i), ensure_ascii=False) for i in range(n)))


def answers(index):
    return [[(round(score, 9), line['id']) for score, line in index.search(q, 10)] for q in QUERIES]


def assert_same_as_full_rebuild(index, store):
    full = corpus.Index(store.corpus.lines())
    assert index.lines == full.lines
    assert answers(index) == answers(full)


def catch_up(store):
    with DynamoCalls() as calls:
        index = corpus.current()
    return index, calls


@pytest.fixture
def admin(api):
    token = api.join(email='admin@example.com', nickname='관리자')['access']
    auth.set_admin('admin@example.com')
    return token


def test_each_kind_of_change_is_caught_up_to_the_index_a_full_rebuild_gives(api, store, admin):
    load(40)
    corpus.current()
    q = api.post('/quote', PROPOSAL, token=admin).json
    other = api.post('/quote', dict(PROPOSAL, content='두 번째 제안된 대사입니다.'), token=admin).json
    changes = {
        'import (a new line and an edited one)': lambda: corpus.import_text('\n'.join(
            json.dumps(r, ensure_ascii=False) for r in (record(40), record(3, quote='고쳐 쓴 대사: 스카우트 발품')))),
        'delete': lambda: store.corpus.delete(['line-007', 'line-008']),
        'apply': lambda: api.post('/quote/{}/apply'.format(q['id']), token=admin),
        'apply another': lambda: api.post('/quote/{}/apply'.format(other['id']), token=admin),
        'unapply': lambda: api.delete('/quote/{}/apply'.format(q['id']), token=admin),
        'delete an applied proposal': lambda: api.delete('/quote/{}'.format(other['id']), token=admin),
    }
    for name, change in changes.items():
        before = {line['id'] for line in corpus.current().lines}
        r = change()
        assert not hasattr(r, 'status') or r.status in (200, 204), (name, r)
        index, calls = catch_up(store)
        assert calls.names == CATCH_UP, (name, calls)
        assert {line['id'] for line in index.lines} != before, name  # each change adds or removes a line
        assert_same_as_full_rebuild(index, store)
    ids = {line['id'] for line in corpus.current().lines}
    assert 'line-040' in ids and 'line-007' not in ids
    assert storage.board_line_id(q['id']) not in ids and storage.board_line_id(other['id']) not in ids
    assert corpus.current().get('line-003')['quote'] == '고쳐 쓴 대사: 스카우트 발품'


def test_a_catch_up_reads_only_the_changed_lines(store):
    load(300)
    with DynamoCalls() as cold:
        corpus.current()
    assert [c.items for c in cold.calls] == [1, 300]  # a new container reads every line
    store.corpus.put([dict(record(5, quote='바뀐 대사'), origin='import')])
    index, calls = catch_up(store)
    assert calls.names == CATCH_UP
    assert [c.items for c in calls.calls] == [1, 1]  # the version, one log item (with the line)
    assert index.get('line-005')['quote'] == '바뀐 대사' and len(index) == 300
    assert_same_as_full_rebuild(index, store)
    with DynamoCalls() as steady:  # no change since: the one GetItem of every call
        assert corpus.current() is index
    assert steady.names == ['GetItem']


def test_several_versions_behind_is_one_catch_up(store):
    load(50)
    corpus.current()
    for i in range(5):
        store.corpus.put([dict(record(50 + i), origin='import')])
    store.corpus.delete(['line-050', 'line-001'])
    index, calls = catch_up(store)
    assert calls.names == CATCH_UP
    assert [c.items for c in calls.calls] == [1, 6]  # six log items: 51-54 put, 50 and 1 gone
    assert_same_as_full_rebuild(index, store)


def test_a_larger_import_is_caught_up_by_reading_the_lines_it_names(store):
    load(200)
    corpus.current()
    n = storage.CORPUS_LOG_LINES + 5  # too many to travel in the log item, few enough to list
    corpus.import_text('\n'.join(json.dumps(record(i, quote=f'새로 쓴 대사 {i}'), ensure_ascii=False)
                                  for i in range(190, 190 + n)))
    index, calls = catch_up(store)
    assert calls.names == CATCH_UP + ['BatchGetItem']
    assert [c.items for c in calls.calls] == [1, 1, n]  # 190-199 rewritten, 200-204 new
    assert len(index) == 190 + n and index.get('line-204')['quote'] == '새로 쓴 대사 204'
    assert_same_as_full_rebuild(index, store)


def full_read(calls, lines: int) -> bool:
    last = calls.calls[-1]  # every line, in one Query at these sizes
    return calls.names[0] == 'GetItem' and last.operation == 'Query' and last.items == lines


def test_a_gap_in_the_log_falls_back_to_reading_every_line(store, monkeypatch):
    monkeypatch.setattr(corpus_log, 'CORPUS_LOG_KEEP', 3)  # where the store reads it
    load(60)
    corpus.current()
    for i in range(4):  # one version more than the log keeps
        store.corpus.put([dict(record(60 + i), origin='import')])
    index, calls = catch_up(store)
    assert full_read(calls, 64), calls
    assert_same_as_full_rebuild(index, store)
    store.corpus.put([dict(record(70), origin='import')])  # and from there, caught up again
    index, calls = catch_up(store)
    assert calls.names == CATCH_UP
    assert_same_as_full_rebuild(index, store)


def test_a_change_too_large_to_list_falls_back_to_reading_every_line(store):
    load(20)
    corpus.current()
    corpus.import_text('\n'.join(json.dumps(record(i), ensure_ascii=False)
                                  for i in range(100, 100 + storage.CORPUS_LOG_IDS + 1)))
    index, calls = catch_up(store)
    assert full_read(calls, 20 + storage.CORPUS_LOG_IDS + 1), calls
    assert_same_as_full_rebuild(index, store)


def test_a_new_container_reads_every_line(store):
    load(30)
    corpus.current()
    corpus.forget_cache()
    index, calls = catch_up(store)
    assert full_read(calls, 30), calls
    assert_same_as_full_rebuild(index, store)


def test_loading_an_unchanged_shipped_file_moves_no_version(store):
    corpus.load_shipped()
    version = store.corpus.version()
    corpus.load_shipped()
    assert store.corpus.version() == version


def test_racing_writers_each_get_their_own_version_and_log_item(api, store, admin):
    load(10)
    corpus.current()
    since = store.corpus.version()
    proposals = [api.post('/quote', dict(PROPOSAL, content=f'경쟁하는 제안 {i}'), token=admin).json for i in range(3)]
    writers = 6
    jobs = [lambda i=i: store.corpus.put([dict(record(200 + i), origin='import')]) for i in range(writers)]
    # through the server's threads
    jobs += [lambda p=p: api.post(f"/quote/{p['id']}/apply", token=admin) for p in proposals]
    barrier, results = threading.Barrier(len(jobs)), [None] * len(jobs)

    def run(n):
        barrier.wait()
        try:
            results[n] = jobs[n]()
        except Exception as exc:  # a lost write fails the test below
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[:writers] == [None] * writers
    assert [r.status for r in results[writers:]] == [200] * len(proposals)
    total = writers + len(proposals)
    assert store.corpus.version() == since + total
    expected = {f'line-{200 + i:03d}' for i in range(writers)} | {storage.board_line_id(p['id']) for p in proposals}
    assert set(store.corpus.changes(since, since + total)) == expected
    for v in range(since, since + total):  # one log item per version, none shared
        assert len(store.corpus.changes(v, v + 1)) == 1
    index, calls = catch_up(store)
    assert calls.names == CATCH_UP
    assert_same_as_full_rebuild(index, store)


def test_reading_every_line_gives_back_exactly_what_was_written(store):
    lines = [dict(record(1), origin='import'),
             {'id': 'board-x', 'scene': None, 'speaker': '미상', 'quote': '대사', 'description': '설명', 'tags': [],
              'sources': [], 'origin': 'board', 'weight': -3, 'ratio': Decimal('1.5'), 'flag': True,
              'nested': {'a': [1, '둘']}}]
    store.corpus.put(lines)
    assert sorted(store.corpus.lines(), key=lambda ln: ln['id']) == sorted(lines, key=lambda ln: ln['id'])
    read = {ln['id']: ln for ln in store.corpus.lines()}
    assert type(read['line-001']['scene']) is int and type(read['board-x']['ratio']) is float  # no Decimals


def test_reading_every_line_spans_query_pages(store):
    big = [dict(record(i), quote='대사' * 250, description=f'설명{i} ' + '긴 설명' * 330, origin='import')
           for i in range(260)]  # ~4.5 kB each: more than one 1 MB page
    for start in range(0, len(big), 100):
        store.corpus.put(big[start:start + 100])
    with DynamoCalls() as calls:
        lines = store.corpus.lines()
    assert calls.names == ['Query', 'Query']
    assert sorted(lines, key=lambda ln: ln['id']) == big
