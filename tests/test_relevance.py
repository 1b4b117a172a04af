"""The labelled situations: well-formed, and the local answerer holds its figures on the part
it was tuned on (the held-out part is reported by `make bench`, never tuned against here)."""
from collections import Counter

import pytest

from chalicelib.chat import corpus
from tools import relevance


@pytest.fixture(scope='module')
def index():
    return corpus.Index(corpus.shipped_lines())


def test_the_labelled_set_names_only_real_lines_and_keeps_a_held_out_part(index):
    cases = relevance.load_set()
    assert len(cases) >= 80
    assert len({c['id'] for c in cases}) == len(cases)
    assert len({c['text'] for c in cases}) == len(cases)
    for case in cases:
        assert case['split'] in relevance.SPLITS and case['text'].strip(), case
        assert case['fits'] and all(index.get(i) for i in case['fits']), case
    splits = Counter(c['split'] for c in cases)
    assert splits['heldout'] >= 40 and splits['tune'] >= 40, splits
def test_local_answerer_meets_its_goals_on_the_tune_split(index):
    acc = relevance.local_accuracy(index, relevance.load_set('tune'))
    misses = relevance.misses(index, relevance.load_set('tune'))
    assert acc['top1'] >= 0.85, '\n'.join(misses)
    assert acc['top3'] >= 0.95, acc
