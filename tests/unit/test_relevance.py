"""The labelled situations and non-situations: well-formed, naming real lines, split into a tune
and a held-out part (the answerer's figures on the tune part: tests/test_relevance.py)."""
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
    assert len(cases) >= 200 and splits['heldout'] >= 80 and splits['tune'] >= 80, splits


def test_the_non_situations_are_our_own_and_split_too():
    cases = relevance.load_offtopic()
    assert len(cases) >= 40 and len({c['text'] for c in cases}) == len(cases)
    splits = Counter(c['split'] for c in cases)
    assert splits['heldout'] >= 40 and splits['tune'] >= 10, splits
