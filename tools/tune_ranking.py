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
        'dense_description': (0.0, 0.25, 0.5, 1.0), 'gram_examples': (0.0, 0.5, 1.0), 'k': (1.0, 3.0, 10.0, 30.0)}
REFUSAL_COST = 5  # a situation refused costs as much as five non-situations answered with a line


def main() -> None:
    from chalicelib.chat import model, ranking
    index = relevance.shipped_index()
    start = time.perf_counter()
    cases = [(c, ranking.evidence(c['text'], index)) for c in relevance.load_set('tune')]
    offtopic = [ranking.evidence(c['text'], index) for c in relevance.load_offtopic('tune')]
    print(f'evidence for {len(cases)} tune situations and {len(offtopic)} tune non-situations in '
          f'{time.perf_counter() - start:.1f} s')

    def score(weights: ranking.Weights) -> tuple[float, float]:
        top1 = top3 = 0
        for case, seen in cases:
            ids = [ln['id'] for ln in model.fitting_of(ranking.fuse(index, seen, weights), index)]
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
    situations = [seen.signals for _, seen in cases] + shipped_examples_as_messages(index)
    non = [seen.signals for seen in offtopic] + shipped_non_situations(index)
    print(verdict_by_meaning(situations, non))
    print(verdict_by_spelling([seen.signals for _, seen in cases], [seen.signals for seen in offtopic]))


def shipped_non_situations(index) -> list:
    """The shipped no-situation inputs as messages, each matched with itself left out of the
    bank (leave-one-out): more non-situations to choose the verdict on than the tune split has."""
    import math

    import numpy as np

    from chalicelib.chat import meaning
    space = index.space
    examples = space.bank.vectors[space.kept]
    none = space.bank.none_vectors
    texts = meaning.not_situations()
    out = []
    for i in range(len(none)):
        to_examples, to_none = examples @ none[i], np.delete(none @ none[i], i)
        pooled = np.concatenate([to_examples, to_none])
        nearest = np.argsort(-pooled)[:meaning.NEIGHBOURS]
        out.append(meaning.Signals(None, None, None, float(to_examples.max()), float(to_none.max()),
                                   float(np.mean(nearest >= len(to_examples))), meaning.names_a_feeling(texts[i])))
    assert not any(math.isnan(s.nearest_line) for s in out)
    return out


def shipped_examples_as_messages(index, every: int = 3) -> list:
    """Every `every`-th shipped example as a message, matched with its own writer's examples of
    its line left out (they would flatter it): more situations to choose the verdict on."""
    import json
    import pathlib

    import numpy as np

    from chalicelib.chat import meaning
    space, bank = index.space, index.space.bank
    row_of = {(o, t): i for i, (o, t) in enumerate(zip(bank.owners, bank.texts, strict=True))}
    none = bank.none_vectors
    out = []
    for path in sorted(pathlib.Path(meaning.EXAMPLES_DIR).glob('*.jsonl')):
        for record in map(json.loads, path.read_text(encoding='utf-8').splitlines()):
            own = [row_of[(record['id'], t)] for t in record['examples']]
            for i in own[::every]:
                keep = space.kept.copy()
                keep[own] = False
                to_examples, to_none = bank.vectors[keep] @ bank.vectors[i], none @ bank.vectors[i]
                nearest = np.argsort(-np.concatenate([to_examples, to_none]))[:meaning.NEIGHBOURS]
                out.append(meaning.Signals(None, None, None, float(to_examples.max()), float(to_none.max()),
                                           float(np.mean(nearest >= len(to_examples))),
                                           meaning.names_a_feeling(bank.texts[i])))
    return out


def _rates(verdict, situations, non, semantic: bool) -> tuple[float, float]:
    from chalicelib.chat import ranking
    said = lambda s: not ranking.fits(ranking.Ranking([], s, semantic), verdict)  # noqa: E731
    return sum(map(said, non)) / len(non), sum(map(said, situations)) / len(situations)


def _best(candidates, situations, non, semantic: bool) -> str:
    """The verdict that catches most non-situations for the fewest refused situations (a refused
    situation counts REFUSAL_COST times a missed non-situation); of those tied, the middle one, so
    neither side's nearest case decides alone."""
    scored = []
    for verdict in candidates:
        right, wrong = _rates(verdict, situations, non, semantic)
        scored.append((right - REFUSAL_COST * wrong, right, wrong, verdict))
    top = max(s[0] for s in scored)
    tied = [s for s in scored if s[0] == top]
    _, right, wrong, verdict = tied[len(tied) // 2]
    return (f'{verdict} ({len(tied)} tied) → no fit for {right * 100:.1f} % of tune non-situations, '
            f'{wrong * 100:.1f} % of tune situations')


def verdict_by_meaning(situations, non) -> str:
    from chalicelib.chat import ranking
    grid = [ranking.Verdict(floor=round(0.85 + i * 0.0025, 4), margin=margin, none_share=share,
                            gram_floor=ranking.VERDICT.gram_floor)
            for i in range(29) for margin in (-1.0, -0.02, 0.0, 0.01, 0.02, 0.03, 0.04)
            for share in (0.2, 0.4, 0.6, 0.8, 1.01)]
    return 'verdict by meaning: ' + _best(grid, situations, non, True)


def verdict_by_spelling(situations, non) -> str:
    from chalicelib.chat import ranking
    grid = [ranking.Verdict(ranking.VERDICT.floor, ranking.VERDICT.margin, ranking.VERDICT.none_share,
                            gram_floor=round(i * 0.01, 2)) for i in range(60)]
    return 'verdict by spelling alone (no model): ' + _best(grid, situations, non, False)


if __name__ == '__main__':
    os.environ.setdefault('JWT_SECRET', 'unused-by-relevance-' + 'x' * 32)
    main()
