"""Writes chalicelib/chat/data/vectors.npz: the e5 vectors of every shipped text the answerer
matches against (example situations and no-situation inputs as `query: `, line descriptions as
`passage: `), so a container embeds only the person's message per request.

Run after changing examples, no-situation inputs or shipped descriptions: `make vectors`
(tests/unit check the file covers every shipped text).
"""
import os
import time

from chalicelib.chat import corpus, embedding, meaning


def shipped_texts() -> set[tuple[str, str]]:
    texts = {(embedding.QUERY, t) for ts in meaning.examples().values() for t in ts}
    texts |= {(embedding.QUERY, t) for t in meaning.not_situations()}
    texts |= {(embedding.PASSAGE, line['description']) for line in corpus.shipped_lines()}
    return texts


def main() -> None:
    embedding.THREADS = os.cpu_count() or 1  # a batch job: every core
    if embedding.model() is None:
        raise SystemExit(f'the embedding model did not load: {embedding.unavailable_reason()}')
    start = time.perf_counter()
    n = embedding.save(shipped_texts())
    size = os.path.getsize(embedding.VECTORS_FILE) / 1e6
    print(f'{n} vectors → {embedding.VECTORS_FILE} ({size:.1f} MB) in {time.perf_counter() - start:.1f} s')


if __name__ == '__main__':
    main()
