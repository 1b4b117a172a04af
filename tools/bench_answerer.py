"""The local answerer in a new process, as a new Lambda container meets it: `make bench` runs
this pinned to one core (`taskset -c 0`), the share of a CPU Lambda gives the API function.

Prints what a new container pays before its first answer (imports, loading the embedding
model, building the corpus index with its vectors), the chat's own work per request besides
any model call (embedding the message, every matcher, fusion, the verdict) as p50/p95 over the
labelled situations, and the process's resident memory.
"""
import os
import statistics
import time


def rss_mib() -> float:
    with open('/proc/self/status', encoding='ascii') as f:
        line = next(row for row in f if row.startswith('VmRSS:'))
    return int(line.split()[1]) / 1024


def main() -> None:
    os.environ.setdefault('JWT_SECRET', 'bench-' + 'x' * 40)
    t0 = time.perf_counter()
    import app  # noqa: F401  (what a container imports before its first request)
    from chalicelib.chat import corpus, embedding, model
    t1 = time.perf_counter()
    embedding.model()
    t2 = time.perf_counter()
    index = corpus.Index(corpus.shipped_lines())  # the bank of examples and every vector with it
    t3 = time.perf_counter()
    model.local_answer('회사에서 파벌 싸움 때문에 지쳐요', index)
    t4 = time.perf_counter()
    ms = lambda a, b: (b - a) * 1000  # noqa: E731
    print(f'new container, one core: {ms(t0, t4):.0f} ms to its first answer = imports {ms(t0, t1):.0f} ms '
          f'+ embedding model load {ms(t1, t2):.0f} ms + corpus index with vectors {ms(t2, t3):.0f} ms '
          f'({len(index)} lines, {len(index.space.bank.texts)} examples) + first answer {ms(t3, t4):.0f} ms; '
          f'resident {rss_mib():.0f} MiB')

    from tools import relevance
    texts = [c['text'] for c in relevance.load_set()] + [c['text'] for c in relevance.load_offtopic()]
    answer, embed = [], []
    for text in texts * 2:
        start = time.perf_counter()
        model.local_answer(text, index)
        answer.append(ms(start, time.perf_counter()))
        start = time.perf_counter()
        embedding.query(text)
        embed.append(ms(start, time.perf_counter()))
    p95 = lambda s: sorted(s)[int(len(s) * 0.95) - 1]  # noqa: E731
    print(f'chat overhead besides the model, one core (n={len(answer)}): p50 {statistics.median(answer):.1f} ms, '
          f'p95 {p95(answer):.1f} ms; of which embedding the message p50 {statistics.median(embed):.1f} ms, '
          f'p95 {p95(embed):.1f} ms; resident after {len(answer)} answers {rss_mib():.0f} MiB')


if __name__ == '__main__':
    main()
