"""Chooses the ranking's fusion weights and the no-fit verdict's thresholds on the TUNE splits
only (labelled situations and no-situation inputs), and prints the best; the held-out splits
are never read here. Every message is embedded once; the grid only re-fuses.

`make tune` (or `python -m tools.tune_ranking`); copy what it prints into chalicelib/chat/ranking.py.
"""
import itertools
import os
import time

from tools import relevance

GRID = {'bm25': (0.0, 0.5, 1.0, 1.5), 'dense_examples': (0.5, 1.0, 1.5, 2.0, 3.0),
        'dense_description': (0.0, 0.25, 0.5, 1.0), 'gram_examples': (0.0, 0.5, 1.0), 'k': (3.0, 10.0, 30.0, 60.0)}
SITUATIONS_NO_FIT_MAX = 0.01  # on tune; the goal is ≤ 3 % on held-out, so leave room


def main() -> None:
    from chalicelib.chat import model, ranking
    index = relevance.shipped_index()
    start = time.perf_counter()
    cases = [(c, ranking.evidence(c['text'], index)) for c in relevance.load_set('tune')]
    offtopic = [ranking.evidence(c['text'], index) for c in relevance.load_offtopic('tune')]
    print(f'evidence for {len(cases)} situations and {len(offtopic)} non-situations in '
          f'{time.perf_counter() - start:.1f} s')

    def score(weights: ranking.Weights) -> tuple[float, float]:
        top1 = top3 = 0
        for case, seen in cases:
            ids = [ln['id'] for ln in model._fitting(ranking.fuse(index, seen, weights), index)]
            top1 += bool(ids[:1] and ids[0] in case['fits'])
            top3 += bool(set(case['fits']) & set(ids[:3]))
        return top1 / len(cases), top3 / len(cases)

    results = []
    for values in itertools.product(*GRID.values()):
        weights = ranking.Weights(**dict(zip(GRID, values, strict=True)))
        top1, top3 = score(weights)
        results.append((top1 + 0.5 * top3, top1, top3, weights))
    results.sort(key=lambda r: -r[0])
    for _, top1, top3, weights in results[:8]:
        print(f'tune top-1 {top1 * 100:.1f} %  top-3 {top3 * 100:.1f} %  {weights}')
    print(f'current WEIGHTS: top-1/top-3 {[round(x * 100, 1) for x in score(ranking.WEIGHTS)]}')

    # the verdict reads only the signals, not the weights
    situations = [seen.signals for _, seen in cases]
    non = [seen.signals for seen in offtopic]
    best = None
    for floor in [0.70 + i * 0.005 for i in range(41)]:
        for margin in [-0.06 + i * 0.005 for i in range(25)]:
            verdict = ranking.Verdict(floor=round(floor, 3), margin=round(margin, 3),
                                      gram_floor=ranking.VERDICT.gram_floor)
            said = lambda s, v=verdict: not ranking.fits(ranking.Ranking([], s, True), v)  # noqa: E731
            wrong = sum(map(said, situations)) / len(situations)
            right = sum(map(said, non)) / len(non)
            if wrong <= SITUATIONS_NO_FIT_MAX:
                key = (right, -wrong, -floor, -margin)  # the laxest thresholds that catch as many
                if best is None or key > best[0]:
                    best = (key, verdict, right, wrong)
    if best:
        print(f'verdict: {best[1]} → no fit for {best[2] * 100:.1f} % of tune non-situations, '
              f'{best[3] * 100:.1f} % of tune situations')


if __name__ == '__main__':
    os.environ.setdefault('JWT_SECRET', 'unused-by-relevance-' + 'x' * 32)
    main()
