"""`make bench`: figures, not pass/fail. Runs against a fresh in-memory DynamoDB Local and the
API on Chalice's local server (loopback HTTP), with the local answerer, so the model's own
latency is left out.

Prints: p50/p95 of POST /chat/api with a 1,000-line corpus (local answerer, and the OpenAI path
against a fake server that answers at once); p50 of a history page at 10 and
at 10,000 chats (first page, and a page reached by following `next` deep in), and their ratio;
the app's cold import time and whether it imports openai at start.
"""
import os
import random
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools import dynamodb_local  # noqa: E402
from tests.http import Api  # noqa: E402

WORDS = ('야구 단장 선수 연봉 계약 트레이드 시즌 우승 꼴찌 드림즈 프런트 스카우트 코치 감독 전지훈련 팬 '
         '회사 상사 동료 시험 합격 불합격 이별 친구 가족 돈 건강 꿈 도전 실패 성공 용기 위로 책임 정의 '
         '원칙 변화 다짐 후회 자책 의심 억울 불안 두려움 희망 노력 성실 핑계 무기 환경 여론 시선').split()


def synthetic_corpus(n: int) -> str:
    import json
    rng = random.Random(7)
    lines = []
    for i in range(n):
        quote = ' '.join(rng.choice(WORDS) for _ in range(12)) + ' %d' % i
        desc = ' '.join(rng.choice(WORDS) for _ in range(25))
        lines.append(json.dumps({'scene': 1 + i % 16, 'speaker': '인물%d' % (i % 20), 'quote': quote,
                                 'description': desc, 'tags': rng.sample(WORDS, 4)}, ensure_ascii=False))
    return '\n'.join(lines)


def timed(fn, n):
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def cold_import() -> str:
    code = ('import time, sys; t=time.perf_counter(); import app; '
            'print("%.0f" % ((time.perf_counter()-t)*1000), "openai" in sys.modules)')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, JWT_SECRET='x' * 40), check=True).stdout.split()
    return '%s ms (openai imported at start: %s)' % (out[0], 'yes' if out[1] == 'True' else 'no')


def main() -> None:
    port = dynamodb_local.free_port()
    ddb = dynamodb_local.start(port)
    try:
        os.environ.update(dynamodb_local.local_aws_env(port))
        os.environ.update({'JWT_SECRET': 'bench-' + 'x' * 40, 'BCRYPT_ROUNDS': '4'})
        os.environ.update({'CHAT_LIMIT_PER_MINUTE': '0', 'CHAT_LIMIT_PER_DAY': '0'})  # speed, not abuse limits
        os.environ.pop('OPENAI_API_KEY', None)
        from chalicelib import corpus, settings, storage
        from chalicelib.ids import new_id, now_iso
        from tools.local_api import make_server
        settings.reload()
        st = storage.store()
        st.create_tables()
        corpus.import_text(synthetic_corpus(1000), origin='bench')
        api_port = dynamodb_local.free_port()
        server = make_server('127.0.0.1', api_port, quiet=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        api = Api('http://127.0.0.1:%d' % api_port)

        token = api.join(email='bench@example.com')['access']
        inputs = ['회사 상사 때문에 너무 힘들어요', '시험에 떨어져서 불안해요', '새로운 도전을 앞두고 두려워요',
                  '친구와 이별해서 후회돼요', '연봉 협상이 잘 안 됐어요']
        api.post('/chat/api', {'input': inputs[0]}, token=token)  # warm the corpus index
        i = iter(range(10 ** 6))
        p50, p95 = timed(lambda: api.post('/chat/api', {'input': inputs[next(i) % len(inputs)]}, token=token), 100)
        print('chat route, 1,000-line corpus, local answerer: p50 %.1f ms, p95 %.1f ms (n=100)' % (p50, p95))
        index = corpus.current()
        rp50, _ = timed(lambda: index.search(inputs[1], 8), 200)
        print('  of which retrieval alone: p50 %.2f ms' % rp50)

        from tests.fake_openai import FakeOpenAI
        from chalicelib import model
        fake = FakeOpenAI()  # answers at once: what remains is our side of the OpenAI path
        os.environ.update({'OPENAI_API_KEY': 'bench', 'OPENAI_BASE_URL': fake.url})
        settings.reload()
        api.post('/chat/api', {'input': inputs[0]}, token=token)  # first client creation
        p50, p95 = timed(lambda: api.post('/chat/api', {'input': inputs[next(i) % len(inputs)]}, token=token), 100)
        print('chat route, 1,000-line corpus, OpenAI path to a zero-latency fake: p50 %.1f ms, p95 %.1f ms' % (p50, p95))
        for name in ('OPENAI_API_KEY', 'OPENAI_BASE_URL'):
            os.environ.pop(name)
        settings.reload()
        model._client.cache_clear()
        fake.close()

        figures = {}
        for n in (10, 10_000):
            joined = api.join(email='hist%d@example.com' % n)
            uid, tok = joined['user']['id'], joined['access']
            at = now_iso()
            chats = [{'chat_id': new_id(), 'content': 'chat %d' % k, 'created_at': at,
                      'reply': {'id': new_id(), 'quote': 'q', 'description': 'd', 'scene': 1, 'speaker': 's',
                                'created_at': at}} for k in range(n)]
            st.put_chats_bulk(uid, chats)
            first, _ = timed(lambda: api.get('/chat/model?per-page=5', token=tok), 100)
            early = api.get('/chat/model?per-page=5', token=tok).json['next']
            early_ms, _ = timed(lambda: api.get(early, token=tok), 100)
            deep_page = max(1, n // 5 - 2)
            deep = api.get('/chat/model?per-page=5&page=%d' % deep_page, token=tok).json['next']
            deep_ms, _ = timed(lambda: api.get(deep, token=tok), 100)
            figures[n] = (first, deep_ms)
            print('history at %6d chats: first page p50 %.1f ms; `next` to page 2 p50 %.1f ms; '
                  '`next` to page %d p50 %.1f ms' % (n, first, early_ms, deep_page + 1, deep_ms))
        print('ratio 10,000 / 10 chats: first page %.2fx, deepest `next` %.2fx'
              % (figures[10_000][0] / figures[10][0], figures[10_000][1] / figures[10][1]))
        calls = []  # what one deep `next` asks of DynamoDB (the server runs in this process)
        record = lambda model, params, **_: calls.append('%s(Limit=%s)' % (model.name, params.get('Limit', '-')))
        client = storage.store().client
        client.meta.events.register('provide-client-params.dynamodb', record)
        api.get(deep, token=tok)
        client.meta.events.unregister('provide-client-params.dynamodb', record)
        print('DynamoDB calls for that deepest `next` (incl. the authorizer): %s' % ', '.join(calls))
        print('cold import of app.py: %s' % cold_import())
        import resource
        print('peak RSS of this benchmark process: %.0f MiB' % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
        server.shutdown()
    finally:
        ddb.terminate()
        ddb.wait(10)


if __name__ == '__main__':
    main()
