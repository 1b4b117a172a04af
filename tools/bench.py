"""`make bench`: figures, not pass/fail. Runs against a fresh in-memory DynamoDB Local and the
API on Chalice's local server (loopback HTTP), with the local answerer, so the model's own
latency is left out. Each part is its own function:

- relevance: top-1/top-3 on the labelled situations and the two "no line fits" rates
  (tools/relevance.py), and how many lines have no example situations;
- the local answerer in a new process pinned to one core (tools/bench_answerer.py): a new
  container's cold start (imports, embedding model, index with vectors), the chat's own work
  per request besides any model call p50/p95, resident memory; and the embedding layer's size;
- chat route: p50/p95 of POST /chat/api with a 1,000-line corpus (local answerer, and the
  OpenAI path against a fake server that answers at once);
- corpus: what a new container pays to build the index of 1,000 lines, and what one that holds
  an index pays to catch up after one corpus change;
- pages: DynamoDB calls, read capacity and p50 of each page kind (first, next, previous,
  last, a bare page number) for history at 10 vs 10,000 chats and at page 1-2 vs page 2000,
  and for the board at page 1-2 vs page 2000 of 10,000, the columns measured interleaved;
- route calls: the DynamoDB calls of every route (tools/devkit/route_calls.py);
- local server: a kept-alive connection's latency and a burst of 16 new connections, against
  the server as chalice local ships it (Nagle on, backlog 5);
- the app's cold import time and whether it imports openai at start.
"""
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from tools import dynamodb_local
from tools.devkit.dynamo_calls import DynamoCalls
from tools.devkit.http import Api

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORDS = [
    '야구', '단장', '선수', '연봉', '계약', '트레이드', '시즌', '우승', '꼴찌', '드림즈',
    '프런트', '스카우트', '코치', '감독', '전지훈련', '팬', '회사', '상사', '동료', '시험',
    '합격', '불합격', '이별', '친구', '가족', '돈', '건강', '꿈', '도전', '실패', '성공',
    '용기', '위로', '책임', '정의', '원칙', '변화', '다짐', '후회', '자책', '의심', '억울',
    '불안', '두려움', '희망', '노력', '성실', '핑계', '무기', '환경', '여론', '시선',
]
INPUTS = ['회사 상사 때문에 너무 힘들어요', '시험에 떨어져서 불안해요', '새로운 도전을 앞두고 두려워요',
          '친구와 이별해서 후회돼요', '연봉 협상이 잘 안 됐어요']
BIG = 10_000   # chats of the large user, proposals on the board
PER_PAGE = 5   # so BIG items make 2,000 pages


def synthetic_corpus(n: int) -> str:
    rng = random.Random(7)
    lines = []
    for i in range(n):
        quote = ' '.join(rng.choice(WORDS) for _ in range(12)) + f' {i}'
        desc = ' '.join(rng.choice(WORDS) for _ in range(25))
        lines.append(json.dumps({'scene': 1 + i % 16, 'speaker': f'인물{i % 20}', 'quote': quote,
                                 'description': desc, 'tags': rng.sample(WORDS, 4)}, ensure_ascii=False))
    return '\n'.join(lines)


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def timed(fn, n):
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def interleaved(fns: list[Callable], n: int) -> list[float]:
    """p50 (ms) of each fn, calling them in turn (a, b, c, a, b, c…) so drift hits all alike."""
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(n):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            samples[i].append((time.perf_counter() - start) * 1000)
    return [statistics.median(s) for s in samples]


def cold_import() -> str:
    code = ('import time, sys; t=time.perf_counter(); import app; '
            'print("%.0f" % ((time.perf_counter()-t)*1000), "openai" in sys.modules)')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, JWT_SECRET='x' * 40), check=True).stdout.split()
    return f"{out[0]} ms (openai imported at start: {'yes' if out[1] == 'True' else 'no'})"


def start_api():
    from tools.local_api import make_server
    server = make_server('127.0.0.1', dynamodb_local.free_port(), quiet=True)
    threading.Thread(target=server.server.serve_forever, daemon=True).start()
    return server, f'http://127.0.0.1:{server.port}'


# -- the answerer, as a new container on one core --------------------------------------------------
def bench_answerer() -> None:
    from chalicelib.chat import corpus, meaning
    lines = corpus.shipped_lines()
    bare = [ln['id'] for ln in lines if ln['id'] not in meaning.examples()]
    named = f' ({", ".join(bare)})' if bare else ''
    print(f'lines without example situations: {len(bare)} of {len(lines)} shipped{named}')
    pin = ['taskset', '-c', '0'] if shutil.which('taskset') else []
    subprocess.run([*pin, sys.executable, '-m', 'tools.bench_answerer'], cwd=ROOT, check=True,
                   env=dict(os.environ, JWT_SECRET='x' * 40))
    with tempfile.TemporaryDirectory() as out:
        runtime = f'python{sys.version_info[0]}.{sys.version_info[1]}'
        built = subprocess.run([os.path.join(ROOT, 'deploy', 'build_layer.sh'), out, runtime], cwd=ROOT,
                               capture_output=True, text=True)
        if built.returncode:
            print(f'embedding layer: not built ({built.stderr.strip()[-300:]})')
            return
        with zipfile.ZipFile(os.path.join(out, 'embedding-layer.zip')) as zf:
            unzipped = sum(i.file_size for i in zf.infolist())
        zipped = os.path.getsize(os.path.join(out, 'embedding-layer.zip'))
        print(f'embedding layer ({runtime}): {zipped / 1e6:.1f} MB zipped, {unzipped / 1e6:.1f} MB unzipped '
              f'(Lambda: function and layers at most 250 MiB unzipped)')


# -- chat route ---------------------------------------------------------------------------------
def bench_chat_route(api: Api, token: str) -> None:
    from chalicelib.chat import corpus, model
    from chalicelib.core import settings
    from tools.devkit.fake_openai import FakeOpenAI
    api.post('/chat/api', {'input': INPUTS[0]}, token=token)  # warm the corpus index
    i = iter(range(10 ** 6))
    p50, p95 = timed(lambda: api.post('/chat/api', {'input': INPUTS[next(i) % len(INPUTS)]}, token=token), 100)
    print(f'chat route, 1,000-line corpus, local answerer: p50 {p50:.1f} ms, p95 {p95:.1f} ms (n=100)')
    index = corpus.current()
    rp50, _ = timed(lambda: index.search(INPUTS[1], 8), 200)
    print(f'  of which retrieval alone: p50 {rp50:.2f} ms')

    fake = FakeOpenAI()  # answers at once: what remains is our side of the OpenAI path
    os.environ.update({'OPENAI_API_KEY': 'bench', 'OPENAI_BASE_URL': fake.url})
    settings.reload()
    try:
        api.post('/chat/api', {'input': INPUTS[0]}, token=token)  # first client creation
        p50, p95 = timed(lambda: api.post('/chat/api', {'input': INPUTS[next(i) % len(INPUTS)]}, token=token), 100)
        print(f'chat route, 1,000-line corpus, OpenAI path to a zero-latency fake: p50 {p50:.1f} ms, p95 {p95:.1f} ms')
    finally:
        for name in ('OPENAI_API_KEY', 'OPENAI_BASE_URL'):
            os.environ.pop(name)
        settings.reload()
        model._client.cache_clear()
        fake.close()


# -- corpus -------------------------------------------------------------------------------------
def _calls_and_items(calls) -> str:
    return ', '.join(f"{c} ({c.items} item{'' if c.items == 1 else 's'})" for c in calls.calls)


def bench_corpus_rebuild(n: int = 20, changes: int = 40) -> None:
    """What a container pays for the corpus index: a new one reads every line and indexes them;
    one that holds an index catches up after a corpus change by reading only what changed."""
    from chalicelib import storage
    from chalicelib.chat import corpus
    from tools.devkit.dynamo_calls import calls_of
    st = storage.store()

    def cold():
        corpus.forget_cache()
        return corpus.current()
    total, _ = timed(cold, n)
    index, calls = calls_of(cold)
    lines = st.corpus.lines()
    read, _ = timed(st.corpus.lines, n)
    build = getattr(corpus, 'Index', None)  # the index class, if it is still called so
    built = f', building: {timed(lambda: build(lines), n)[0]:.1f} ms' if build else ''
    print(f'corpus index at {len(index)} lines, a new container: p50 {total:.1f} ms (reading every line: '
          f'{read:.1f} ms{built})\n  DynamoDB calls: {_calls_and_items(calls)}')

    # one line edited (what an import or an apply does), then the next request's current()
    line, samples, cpu = dict(lines[0]), [], []
    for i in range(changes + 1):
        st.corpus.put([dict(line, quote=f"{line['quote']} ({i})")])
        start, start_cpu = time.perf_counter(), time.process_time()
        index, calls = calls_of(corpus.current)
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    st.corpus.put([line])
    corpus.current()
    p50, p95 = percentiles(samples[1:])
    # CPU time is what a busy machine stretches least: our side's cost, DynamoDB Local's left out
    print(f'corpus index at {len(index)} lines, catch-up after one change (goal ≤ 50 ms): p50 {p50:.1f} ms, '
          f'p95 {p95:.1f} ms (n={changes}; CPU time of this process p50 {statistics.median(cpu[1:]):.1f} ms)\n'
          f'  DynamoDB calls: {_calls_and_items(calls)}')


# -- pages --------------------------------------------------------------------------------------
def _link(body, desc: str) -> str:
    return next(link['href'] for link in body['_links'] if link['desc'] == desc)


def _cost(api: Api, token: str, url: str) -> tuple[str, float]:
    with DynamoCalls(capacity=True) as calls:
        r = api.get(url, token=token)
    assert r.status == 200, r
    return str(calls), calls.total_capacity


def _urls(api: Api, token: str, path: str, near: bool) -> dict[str, str]:
    """The URL of each page kind, near the start (pages 1-2) or deep in (pages 1999-2000)."""
    get = lambda url: api.get(url, token=token).json  # noqa: E731
    first = get(f'{path}?per-page={PER_PAGE}')
    last = get(_link(first, 'last'))
    if near or last['previous'] is None:
        second = get(first['next']) if first['next'] else first
        return {'first page': f'{path}?per-page={PER_PAGE}', 'next': first['next'] or first['previous'],
                'previous': second['previous'] or _link(first, 'self'), 'last page': _link(first, 'last'),
                'bare page=N': f'{path}?per-page={PER_PAGE}&page=2'}
    before_last = get(last['previous'])
    return {'first page': f'{path}?per-page={PER_PAGE}', 'next': before_last['next'],
            'previous': last['previous'], 'last page': _link(first, 'last'),
            'bare page=N': f'{path}?per-page={PER_PAGE}&page={BIG // PER_PAGE}'}


def _page_table(api: Api, title: str, columns: list[tuple[str, str, dict[str, str]]], n: int) -> None:
    """One row per page kind: calls and capacity of each column, then p50s measured interleaved."""
    print(title)
    for kind in ('first page', 'next', 'previous', 'last page', 'bare page=N'):
        costs = [_cost(api, token, urls[kind]) for _, token, urls in columns]
        p50s = interleaved([lambda t=token, u=urls[kind]: api.get(u, token=t) for _, token, urls in columns], n)
        pages = ['p' + parse_qs(urlsplit(urls[kind]).query).get('page', ['1'])[0] for _, _, urls in columns]
        same = all(c[0] == costs[0][0] for c in costs)
        print(f"  {kind:12} {' vs '.join(pages):21} {costs[0][0] if same else '(calls differ, below)'}")
        rcus, times = ' vs '.join(f'{c[1]:.1f}' for c in costs), ' vs '.join(f'{p:.1f}' for p in p50s)
        print(f"  {'':12} {'':21} RCU {rcus}; p50 {times} ms (last/first column {p50s[-1] / p50s[0]:.2f}x)")
        if not same:
            for number, (calls, _) in zip(pages, costs, strict=False):
                print(f"  {'':12} {'':21} {number}: {calls}")
    middle = columns[-1]
    path = middle[2]['first page'].split('?')[0]
    url = f'{path}?per-page={PER_PAGE}&page={BIG // PER_PAGE // 2}'
    calls, rcu = _cost(api, middle[1], url)
    p50, _ = timed(lambda: api.get(url, token=middle[1]), max(5, n // 5))
    which = f'p{BIG // PER_PAGE // 2} of {BIG // PER_PAGE}'
    print(f"  {'bare page=N':12} {which:21} {calls}\n"
          f"  {'':12} {'':21} RCU {rcu:.1f}; p50 {p50:.1f} ms (the middle: the costliest skip)")


def bench_pages(api: Api, n: int = 60) -> None:
    from chalicelib import storage
    from chalicelib.core.ids import new_id, now_iso
    st = storage.store()
    at = now_iso()

    def chats(k):
        return [{'chat_id': new_id(), 'content': f'대화 {i:05}', 'created_at': at,
                 'reply': {'id': new_id(), 'quote': 'q', 'description': 'd', 'scene': 1, 'speaker': 's',
                           'created_at': at}} for i in range(k)]
    small = api.join(email='small@example.com')
    large = api.join(email='large@example.com')
    st.chats.put_bulk(small['user']['id'], chats(10))
    st.chats.put_bulk(large['user']['id'], chats(BIG))
    author = api.join(email='author@example.com')
    st.board.put_bulk([{'id': new_id(), 'user_id': author['user']['id'], 'title': f'제안 {i:05}',
                            'content': '대사', 'description': '설명', 'scene': 1, 'speaker': '백승수',
                            'is_apply': False, 'created_at': at, 'updated_at': at, 'applied_at': None}
                           for i in range(BIG)])
    reader = api.join(email='reader@example.com')['access']

    few, many = small['access'], large['access']
    _page_table(api, f"history, per-page {PER_PAGE}: DynamoDB calls (the authorizer's GetItem first), read capacity "
                f'(RCU) and p50, columns interleaved (n={n}):\n  10 chats | 10,000 chats near the start | '
                '10,000 chats deep in',
                [('10', few, _urls(api, few, '/chat/model', True)),
                 ('10k near', many, _urls(api, many, '/chat/model', True)),
                 ('10k deep', many, _urls(api, many, '/chat/model', False))], n)
    _page_table(api, f'board, per-page {PER_PAGE}, 10,000 proposals, same figures:\n  near the start | deep in',
                [('near', reader, _urls(api, reader, '/quote', True)),
                 ('deep', reader, _urls(api, reader, '/quote', False))], n)


# -- route calls --------------------------------------------------------------------------------
def bench_route_calls(api: Api) -> None:
    from tools.devkit import route_calls
    measured = route_calls.measure(api)
    print('DynamoDB calls per route (a logged-in route\'s first GetItem is the authorizer\'s):')
    for name, calls in measured.items():
        print(f"  {name:36} {len(calls)}  {', '.join(calls)}")
    # deleting an account costs the same whatever it owns; the purge sweep pays for that, off the request path
    from chalicelib import storage
    from chalicelib.accounts import purge
    from chalicelib.core.ids import new_id, now_iso
    purge.sweep(settle=0)  # the account measure() deleted: the sweep timed below is this one's alone
    joined = api.join(email='leaving@example.com', password=route_calls.PASSWORD)
    at = now_iso()
    storage.store().chats.put_bulk(joined['user']['id'], [
        {'chat_id': new_id(), 'content': f'대화 {k}', 'created_at': at,
         'reply': dict(route_calls.REPLY, id=new_id(), created_at=at)} for k in range(1000)])
    with DynamoCalls() as calls:
        r = api.delete('/rest-auth/profile', {'password': route_calls.PASSWORD}, token=joined['access'])
    assert r.status == 204, r
    started = time.perf_counter()
    with DynamoCalls() as swept:
        assert purge.sweep(settle=0) == 1
    print(f"  {'DELETE /rest-auth/profile':36} {len(calls)}  {', '.join(calls.names)}  (an account with 1,000 chats; "
          f'then the purge sweep: {len(swept.names)} calls, {(time.perf_counter() - started) * 1000:.0f} ms)')


# -- local server -------------------------------------------------------------------------------
def _burst(port: int, n: int = 16) -> list[float]:
    """n new connections at once, each sending GET /health; the seconds each took."""
    barrier, took = threading.Barrier(n), [0.0] * n

    def one(i):
        barrier.wait()
        start = time.perf_counter()
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
        conn.request('GET', '/health')
        conn.getresponse().read()
        conn.close()
        took[i] = time.perf_counter() - start
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return took


def bench_local_server(n: int = 100, bursts: int = 5) -> None:
    from tools.local_api import make_server
    for label, stock in (('tools/local_api.py', False), ('as chalice local ships it (Nagle on, backlog 5)', True)):
        server = make_server('127.0.0.1', dynamodb_local.free_port(), quiet=True)
        if stock:
            server._wrapped_handler.func.disable_nagle_algorithm = False  # this server's own handler class
            server.server.socket.listen(5)
        threading.Thread(target=server.server.serve_forever, daemon=True).start()
        try:
            conn = http.client.HTTPConnection('127.0.0.1', server.port, timeout=10)

            def kept_alive(conn: http.client.HTTPConnection = conn) -> None:
                conn.request('GET', '/health')
                conn.getresponse().read()
            kept_alive()
            kept, _ = timed(kept_alive, n)
            conn.close()
            took = [t for _ in range(bursts) for t in _burst(server.port)]
            waited = sum(t >= 1 for t in took)
            print(f'local server, {label}: kept-alive GET /health p50 {kept:.1f} ms; {bursts} bursts of 16 new '
                  f'connections: slowest {max(took) * 1000:.0f} ms, {waited} of {len(took)} waited ≥ 1 s '
                  '(a dropped SYN retried)')
        finally:
            server.shutdown()
            server.server.server_close()


def bench_keep(api: Api, n: int = 10_000) -> None:
    """Export and search over a 10,000-chat history: every part, every page."""
    import time as clock

    from chalicelib import storage
    from chalicelib.core.ids import new_id, now_iso
    joined = api.join(email='keep@example.com')
    tok, at = joined['access'], now_iso()
    storage.store().chats.put_bulk(joined['user']['id'], [
        {'chat_id': new_id(), 'content': f'오늘의 고민 {k}번', 'created_at': at,
         'reply': {'id': new_id(), 'quote': f'대사 {k}', 'description': '설명', 'scene': 1, 'speaker': '백승수',
                   'created_at': at}} for k in range(n)])
    for fmt in ('json', 'csv'):
        url, took, sizes = '/chat/export?format=' + fmt, [], []
        while url:
            start = clock.perf_counter()
            r = api.get(url, token=tok)
            took.append((clock.perf_counter() - start) * 1000)
            sizes.append(len(r.raw))
            link = r.headers.get('link')
            url = r.json['next'] if fmt == 'json' else (link[1:link.index('>')] if link else None)
        print(f'export of 10,000 chats as {fmt.upper()}: {len(took)} parts, per part p50 '
              f'{statistics.median(took):.0f} ms, max {max(took):.0f} ms, largest {max(sizes) / 1000:.0f} kB')
    url, took = '/chat/model?q=%EC%97%86%EB%8A%94%EB%A7%90', []  # a word no chat has: the worst case
    while url:
        start = clock.perf_counter()
        url = api.get(url, token=tok).json['next']
        took.append((clock.perf_counter() - start) * 1000)
    print(f'search of 10,000 chats for an absent word: {len(took)} requests to the end, each p50 '
          f'{statistics.median(took):.0f} ms, max {max(took):.0f} ms')


def main() -> None:
    port = dynamodb_local.free_port()
    ddb = dynamodb_local.start(port)
    try:
        os.environ.update(dynamodb_local.local_aws_env(port))
        os.environ.update({'JWT_SECRET': 'bench-' + 'x' * 40, 'BCRYPT_ROUNDS': '4'})
        # speed, not abuse limits: high enough never to refuse, so their calls still count
        os.environ.update({'CHAT_LIMIT_PER_MINUTE': '1000000', 'CHAT_LIMIT_PER_DAY': '1000000',
                           'BOARD_POST_LIMIT_PER_HOUR': '1000000', 'SIGNUP_LIMIT_PER_HOUR': '1000000',
                           'DYNAMODB_READ_TIMEOUT': '10'})  # DynamoDB Local, as in tests
        os.environ.pop('OPENAI_API_KEY', None)
        from chalicelib import storage
        from chalicelib.chat import corpus
        from chalicelib.core import observe, settings
        observe.output = open(os.devnull, 'w')  # noqa: SIM115 (for the whole run) the lines are written and timed, not shown
        settings.reload()
        from tools import relevance
        relevance.report()
        bench_answerer()
        storage.store().tables.create()
        corpus.import_text(synthetic_corpus(1000), origin='bench')
        server, url = start_api()
        api = Api(url)

        bench_chat_route(api, api.join(email='bench@example.com')['access'])
        bench_corpus_rebuild()
        bench_pages(api)
        bench_route_calls(api)
        bench_local_server()
        bench_keep(api)
        print(f'cold import of app.py: {cold_import()}')
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f'peak RSS of this benchmark process: {peak:.0f} MiB')
        server.shutdown()
    finally:
        ddb.terminate()
        ddb.wait(10)


if __name__ == '__main__':
    main()
