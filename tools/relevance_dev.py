"""Development check of retrieval's generalisation, never on the held-out split.

Reads the tune split of tools/data/relevance.jsonl and example-message files
(`{"id": <line id>, "examples": [...]}` per line, written for one line each) and prints
top-1/top-3 of the local answerer, counting the line a message was written for as its fit
(other lines may fit too, so this is a lower bound). Usage:
`python -m tools.relevance_dev [--misses] FILE...`
"""
import json
import os
import sys
import time

from tools import relevance


def example_cases(path):
    with open(path, encoding='utf-8') as f:
        records = [json.loads(row) for row in f if row.strip()]
    return [{'id': f"{r['id']}#{i}", 'text': text, 'fits': [r['id']]}
            for r in records for i, text in enumerate(r['examples'])]


def main(argv):
    show = '--misses' in argv
    files = [a for a in argv if not a.startswith('--')]
    index = relevance.shipped_index()
    sets = [('tune', relevance.load_set('tune'))] + [(os.path.basename(p), example_cases(p)) for p in files]
    for name, cases in sets:
        start = time.perf_counter()
        acc = relevance.local_accuracy(index, cases)
        ms = (time.perf_counter() - start) * 1000 / (len(cases) or 1)
        print(f"{name:<18} n={acc['n']:4}  top-1 {acc['top1'] * 100:5.1f} %  top-3 {acc['top3'] * 100:5.1f} %  "
              f'({ms:.2f} ms/query)')
        if show:
            print('\n'.join('  ' + m for m in relevance.misses(index, cases)))


if __name__ == '__main__':
    os.environ.setdefault('JWT_SECRET', 'unused-by-relevance-' + 'x' * 32)
    main(sys.argv[1:])
