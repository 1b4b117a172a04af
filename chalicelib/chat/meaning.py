"""Answers that fit by meaning: each line's example situations, matched nearest-neighbour.

For every shipped line, `data/examples/*.jsonl` holds messages people would write when that line
is the answer, one file per writer (each wrote without seeing the others or the labelled set).
A message is matched to the examples twice: by meaning (e5 sentence vectors, `embedding`) and
by spelling (character n-grams, which need no model), and each line scores by its nearest
example. `data/not_situations.jsonl` holds inputs that are no situation at all (questions,
greetings, keyboard mash, code): when a message is nearer to those than to any line's
examples, no line fits.

A line without examples (one an admin just applied from the board) still ranks by its
description's vector and by BM25F over its fields (`corpus.Index.search`).
"""
import functools
import json
import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.chat import embedding

DATA = os.path.join(os.path.dirname(__file__), 'data')
EXAMPLES_DIR = os.path.join(DATA, 'examples')
NOT_SITUATIONS_FILE = os.path.join(DATA, 'not_situations.jsonl')


def examples() -> dict[str, list[str]]:
    """Line id → its example situations, every writer's file together (file order kept)."""
    return {line_id: list(texts) for line_id, texts in _examples().items()}


@functools.cache
def _examples() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = defaultdict(list)
    for name in sorted(os.listdir(EXAMPLES_DIR)) if os.path.isdir(EXAMPLES_DIR) else ():
        if name.endswith('.jsonl'):
            with open(os.path.join(EXAMPLES_DIR, name), encoding='utf-8') as f:
                for row in f:
                    if row.strip():
                        record = json.loads(row)
                        out[record['id']].extend(record['examples'])
    return {line_id: tuple(texts) for line_id, texts in out.items()}


@functools.cache
def not_situations() -> tuple[str, ...]:
    try:
        with open(NOT_SITUATIONS_FILE, encoding='utf-8') as f:
            return tuple(json.loads(row) for row in f if row.strip())
    except FileNotFoundError:
        return ()


# -- spelling: character n-grams ------------------------------------------------------------
_TOKEN = re.compile(r'[0-9a-z가-힣ㄱ-ㅎㅏ-ㅣ]+')
GRAMS = (2, 3)


def grams(text: str) -> Counter[str]:
    """Character 2- and 3-grams inside each word (a one-syllable word counts whole)."""
    out: Counter[str] = Counter()
    for word in _TOKEN.findall(text.lower()):
        if len(word) == 1:
            out[word] += 1
        for n in GRAMS:
            out.update(word[i:i + n] for i in range(len(word) - n + 1))
    return out


class GramIndex:
    """TF-IDF cosine between a message and each of many short texts, by an inverted index."""

    def __init__(self, texts: Sequence[str]):
        counted = [grams(t) for t in texts]
        df: Counter[str] = Counter(g for c in counted for g in c)
        n = len(texts)
        self.idf = {g: math.log((n + 1) / (d + 0.5)) for g, d in df.items()}
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for row, c in enumerate(counted):
            weights = {g: (1 + math.log(tf)) * self.idf[g] for g, tf in c.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for g, w in weights.items():
                self.postings[g].append((row, w / norm))
        self.size = n

    def scores(self, text: str) -> list[float]:
        weights = {g: (1 + math.log(tf)) * self.idf[g] for g, tf in grams(text).items() if g in self.idf}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        out = [0.0] * self.size
        for g, w in weights.items():
            w /= norm
            for row, v in self.postings[g]:
                out[row] += w * v
        return out


# -- the bank of examples, shared by every index of the process -------------------------------
@dataclass
class Bank:
    owners: list[str]         # the line id each example is for
    texts: list[str]
    grams: GramIndex
    vectors: Any              # (examples, DIM) float32, or None without the model
    none_vectors: Any         # (not-situations, DIM) float32, or None


@functools.cache
def bank() -> Bank:
    """Every shipped example, cut into n-grams and (with the model) embedded once per process."""
    pairs = [(line_id, text) for line_id, texts in _examples().items() for text in texts]
    owners, texts = [p[0] for p in pairs], [p[1] for p in pairs]
    vectors = none_vectors = None
    if embedding.available():
        vectors = embedding.vectors(embedding.QUERY, texts)
        none_vectors = embedding.vectors(embedding.QUERY, list(not_situations()))
    return Bank(owners, texts, GramIndex(texts), vectors, none_vectors)


NEIGHBOURS = 5
# Word stems that name how someone feels. A message saying how its writer feels is what the bot
# is for, however short ("지쳐요" is near few examples); questions of fact seldom hold one.
FEELINGS = (
    '힘들', '힘드', '지쳐', '지친', '지침', '우울', '슬퍼', '슬프', '외로', '외롭', '불안', '걱정', '무서',
    '두려', '두렵', '짜증', '빡치', '빡쳐', '빡침', '열받', '화나', '화난', '화가나', '속상', '억울', '답답',
    '서운', '섭섭', '후회', '괴로', '괴롭', '허무', '막막', '현타', '멘탈', '눈물', '울었', '울고싶', '창피',
    '부끄', '실망', '절망', '상처', '배신감', '자책', '자존감', '질투', '부러', '부럽', '긴장', '떨려',
    '설레', '미치겠', '죽겠', '죽고싶', '그만두고싶', '포기하고싶', '쪽팔', '민망', '서럽', '서러', '분하',
    '분해', '원망', '미안', '죄책', '무기력', '공허', '비참', '초조', '심란', '착잡', '서글프', '서글퍼',
)
_FEELING = re.compile('|'.join(sorted(set(FEELINGS), key=len, reverse=True)))


def names_a_feeling(text: str) -> bool:
    return bool(_FEELING.search(re.sub(r'\s+', '', text)))


# -- per index: the lines it holds ------------------------------------------------------------
@dataclass
class Signals:
    """Per line of the index (in its order): how near the message is to it, by each matcher;
    NaN where a matcher has nothing for that line. And how near it is to any line at all."""
    dense_examples: Any       # best cosine to one of the line's examples
    dense_description: Any    # cosine to the line's description (query → passage)
    gram_examples: Any        # best n-gram cosine to one of the line's examples
    nearest_line: float       # best cosine to any line's example (NaN without the model)
    nearest_none: float       # best cosine to any no-situation input (NaN without the model)
    none_share: float         # of the message's NEIGHBOURS nearest texts, the share that are no situation
    feeling: bool             # the message names a feeling (지쳐요, 억울해): a feeling is always for a line


class Space:
    """The lines of one corpus index as the meaning matchers see them."""

    def __init__(self, lines: Sequence[dict[str, Any]]):
        import numpy as np
        self.ids = [line['id'] for line in lines]
        self.position = {line_id: i for i, line_id in enumerate(self.ids)}
        self.bank = bank()
        self.owner = np.array([self.position.get(o, -1) for o in self.bank.owners], dtype=np.int64)
        self.kept = self.owner >= 0           # examples of lines withdrawn from the corpus don't count
        self.has_examples = np.zeros(len(self.ids), dtype=bool)
        self.has_examples[self.owner[self.kept]] = True
        self.with_examples = int(self.has_examples.sum())
        self.descriptions = None
        if self.bank.vectors is not None:
            self.descriptions = np.zeros((len(lines), embedding.DIM), dtype=np.float32)
            # a line written with its vector (imported, applied) brings it; a shipped line's was
            # shipped; any other (written while the model was down) is embedded now, once
            bare = [i for i, line in enumerate(lines) if not line.get('vector')]
            for i, line in enumerate(lines):
                if line.get('vector'):
                    self.descriptions[i] = embedding.decode(line['vector'])
            if bare:
                self.descriptions[bare] = embedding.vectors(embedding.PASSAGE, [lines[i]['description'] for i in bare])

    @property
    def semantic(self) -> bool:
        return self.descriptions is not None

    def _per_line(self, per_example: Any) -> Any:
        import numpy as np
        out = np.full(len(self.ids), -np.inf, dtype=np.float32)
        np.maximum.at(out, self.owner[self.kept], per_example[self.kept])
        out[np.isneginf(out)] = np.nan
        return out

    def signals(self, text: str) -> Signals:
        import numpy as np
        gram = self._per_line(np.asarray(self.bank.grams.scores(text), dtype=np.float32))
        nan = np.full(len(self.ids), np.nan, dtype=np.float32)
        feeling = names_a_feeling(text)
        if not self.semantic:
            return Signals(nan, nan, gram, math.nan, math.nan, math.nan, feeling)
        q = embedding.query(text)
        sims = self.bank.vectors @ q
        to_examples = sims[self.kept]
        dense = self._per_line(sims)
        near_line = float(to_examples.max()) if len(to_examples) else math.nan
        none = self.bank.none_vectors
        to_none = none @ q if none is not None else np.zeros(0, dtype=np.float32)
        near_none = float(to_none.max()) if len(to_none) else math.nan
        pooled = np.concatenate([to_examples, to_none])
        nearest = np.argsort(-pooled)[:NEIGHBOURS]
        share = float(np.mean(nearest >= len(to_examples))) if len(nearest) else math.nan
        return Signals(dense, self.descriptions @ q, gram, near_line, near_none, share, feeling)
