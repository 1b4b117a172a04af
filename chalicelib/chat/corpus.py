"""The lines the chatbot may answer with, and local retrieval over them.

Lines come from the shipped demo set, operator imports (JSON Lines) and applied board
proposals. Retrieval is BM25 over character n-grams, which suits Korean: a word's stem
matches whatever particle or ending follows it.
"""
import functools
import hashlib
import json
import math
import os
import re
import threading
from collections import Counter, defaultdict
from typing import Any, cast

from chalicelib import storage
from chalicelib.chat import embedding, meaning
from chalicelib.chat.contract import DESCRIPTION, EPISODES, QUOTE, SPEAKER
from chalicelib.storage.records import Line

SHIPPED_FILE = os.path.join(os.path.dirname(__file__), 'data', 'corpus.jsonl')
SHIPPED = 'corpus'
SHIPPED_ORIGINS = ('corpus', 'demo')  # 'demo': the 8-line corpus shipped before
LIMITS = {'speaker': SPEAKER.max_len, 'quote': QUOTE.max_len, 'description': DESCRIPTION.max_len}


class CorpusError(ValueError):
    pass


LINE_ID = re.compile(r'^[a-z0-9][a-z0-9-]{0,63}$')
SOURCES_MAX = 5
# How sure we are of a line's words: 'verbatim' when a cited page quotes the dialogue as spoken,
# 'press' when it gives a reporter's rendering (condensed, or turned into the press's plain style).
WORDINGS = ('verbatim', 'press')


def validate_line(obj: Any, scene_required: bool = True) -> dict[str, Any]:
    """A clean corpus line from a raw record, or CorpusError saying what is wrong."""
    if not isinstance(obj, dict):
        raise CorpusError('JSON 객체가 아닙니다')
    line: dict[str, Any] = {}
    if obj.get('id') is not None:
        if not isinstance(obj['id'], str) or not LINE_ID.match(obj['id']):
            raise CorpusError('id: 영문 소문자·숫자·하이픈으로 된 64자 이하 문자열이어야 합니다')
        line['id'] = obj['id']
    for name, limit in LIMITS.items():
        value = obj.get(name)
        if not isinstance(value, str) or not value.strip():
            raise CorpusError(f'{name}: 비어 있지 않은 문자열이어야 합니다')
        if len(value.strip()) > limit:
            raise CorpusError(f'{name}: {limit}자 이하여야 합니다')
        line[name] = value.strip()
    scene = obj.get('scene', obj.get('episode'))
    if scene is None and not scene_required:
        line['scene'] = None
    elif isinstance(scene, bool) or not isinstance(scene, int) or not 1 <= scene <= EPISODES:
        raise CorpusError(f'scene(episode): 1에서 {EPISODES} 사이의 정수여야 합니다')
    else:
        line['scene'] = scene
    tags = obj.get('tags', [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and len(t) <= 30 for t in tags) or len(tags) > 20:
        raise CorpusError('tags: 30자 이하 문자열 20개까지의 목록이어야 합니다')
    line['tags'] = [t.strip() for t in tags if t.strip()]
    sources = obj.get('sources', [])
    if (not isinstance(sources, list) or len(sources) > SOURCES_MAX
            or not all(isinstance(u, str) and len(u) <= 500 and re.match(r'^https?://[^\s]+$', u) for u in sources)):
        raise CorpusError(f'sources: http(s) 주소 {SOURCES_MAX}개까지의 목록이어야 합니다')
    line['sources'] = list(sources)
    wording = obj.get('wording')
    if wording is not None:
        if wording not in WORDINGS:
            raise CorpusError(f"wording: {' 또는 '.join(WORDINGS)}여야 합니다")
        line['wording'] = wording
    return line


def parse_jsonl(text: str, origin: str) -> list[dict[str, Any]]:
    """Every line of a JSON Lines text, validated; the first bad one is named and nothing is kept."""
    lines: list[dict[str, Any]] = []
    seen = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = validate_line(json.loads(raw))
        except ValueError as exc:  # json's errors and ours alike
            raise CorpusError(f'{number}번째 줄: {exc}') from None
        if 'id' not in line:  # keyed by content, so re-importing the same record rewrites it
            digest = hashlib.sha1(f"{line['scene']}|{line['speaker']}|{line['quote']}".encode()).hexdigest()
            line['id'] = f'{origin}-{digest[:16]}'
        if line['id'] in seen:
            raise CorpusError(f"{number}번째 줄: id {line['id']}가 앞에서 이미 쓰였습니다")
        seen.add(line['id'])
        lines.append(dict(line, origin=origin))
    return lines


def with_vectors(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines with their descriptions' e5 vectors, made once as they are written, so no
    container embeds them when it builds its index. Without the model, as they are."""
    if not lines or not embedding.available():
        return lines
    vectors = embedding.vectors(embedding.PASSAGE, [line['description'] for line in lines], cache={})
    return [dict(line, vector=embedding.encode(v)) for line, v in zip(lines, vectors, strict=True)]


def as_lines(lines: list[dict[str, Any]]) -> list[Line]:
    """Checked lines (validate_line, with_vectors) as the store takes them."""
    return cast(list[Line], lines)


def import_text(text: str, origin: str = 'import') -> int:
    """Validate all, then write all: a malformed record leaves the corpus untouched."""
    lines = parse_jsonl(text, origin)
    if lines:
        storage.store().corpus.put(as_lines(with_vectors(lines)))
    return len(lines)


def shipped_lines() -> list[dict[str, Any]]:
    with open(SHIPPED_FILE, encoding='utf-8') as f:
        return parse_jsonl(f.read(), origin=SHIPPED)


def load_shipped() -> int:
    """Write the corpus shipped with the app, and drop shipped lines it no longer has.

    Idempotent, so `make run` can call it at every start; imported and board lines are kept.
    """
    lines = shipped_lines()
    st = storage.store()
    stored = {line['id']: line for line in st.corpus.lines()}
    keep = {line['id'] for line in lines}
    # only what differs is written, so an unchanged file moves no version and costs no rebuild
    st.corpus.put(as_lines([line for line in lines if stored.get(line['id']) != line]))
    st.corpus.delete([i for i, line in stored.items() if line.get('origin') in SHIPPED_ORIGINS and i not in keep])
    return len(lines)


# -- retrieval --------------------------------------------------------------------------------
# BM25F over character n-grams of word stems: a stem matches whatever particle or ending follows it.
# Each field's term counts are length-normalised and weighted before one saturation, so a word
# in the tags (the situations a line is for) counts for more than the same word in the line.
_WORD = re.compile(r'[0-9a-z가-힣]+')
FIELD_WEIGHTS = {'tags': 3.0, 'description': 1.5, 'quote': 1.0, 'speaker': 0.5}
FIELD_B = 0.75
K1 = 1.2
# The lexicon's situation words count a fifth of the person's own words, and not as single
# syllables: at full weight they outvoted what was written (chosen on the dev signals).
EXPANSION_WEIGHT = 0.2
EXPANSION_MIN = 2
NGRAMS = (1, 2)  # chosen on the dev signals: single syllables catch stems that 2/3-grams miss
STEM_MIN = 2     # an ending is cut only when a stem of at least this many syllables remains
LEXICON_FILE = os.path.join(os.path.dirname(__file__), 'data', 'lexicon.json')
# Particles (조사) and endings (어미) people end words with, cut before the word is split into
# n-grams, so 바꾸기가 무서워요 and 바꾸기 무서움 give the same terms and the ending adds no noise.
_SUFFIXES = frozenset([
    '은', '는', '이', '가', '을', '를', '에', '에서', '에게', '한테', '께', '께서', '으로', '로',
    '와', '과', '랑', '이랑', '하고', '도', '만', '까지', '부터', '의', '처럼', '보다', '요',
    '이요', '이나', '나', '든', '이든', '라도', '이라도', '마다', '밖에', '뿐', '조차', '마저', '한테서',
    '에게서', '더러', '이라', '라', '이라고', '라고', '이란', '란', '어요', '아요', '여요', '해요',
    '했어요', '했어', '했다', '했음', '했는데', '했고', '했지', '했네', '했죠', '해서', '해도', '하는',
    '하는데', '하다', '한다', '한', '할', '함', '합니다', '했습니다', '하네', '하죠', '하지', '하니',
    '하면', '해', '했', '는데', '은데', '인데', '던데', '었는데', '았는데', '였는데', '어서', '아서',
    '여서', '어도', '아도', '었어', '았어', '였어', '었다', '았다', '였다', '었음', '았음', '였음',
    '었고', '았고', '었지', '았지', '었네', '았네', '었어요', '았어요', '였어요', '습니다', '니다', '네요',
    '네', '죠', '지요', '지', '다', '고', '서', '면', '으면', '니', '으니', '니까', '으니까',
    '거든', '거든요', '잖아', '잖아요', '는지', '은지', '인지', '나요', '까요', '을까요', '을까', '까',
    '래', '래요', '대', '대요', '같아', '같아요', '같음', '같은', '같다', '같네', '싶어', '싶어요',
    '싶다', '싶음', '싶은', '싶네', '있어', '있어요', '있음', '있는', '있다', '있고', '있는데', '없어',
    '없어요', '없음', '없는', '없다', '없고', '없는데', '임', '음', '됨', '됐어', '됐어요', '돼요',
    '됐다', '되는', '되나', '될까', '될까요', '된', '될', '어', '아', '여', '게', '기', '기가',
    '기도', '기는', '기를', '기에', '거', '건', '게요', '거야', '거예요', '건데', '것', '듯', '듯요',
    '중', '중이에요', '중임', '이에요', '예요', '이야', '야', '이다', '였', '었', '았', '더니', '했더니',
    '었더니', '았더니', '였더니', '라서', '이라서', '해서요', '는데요', '인데요', '은데요', '었는데요', '았는데요',
    '했는데요', '해야', '해야지', '할까', '할까요', '하나', '하나요', '되네', '되고', '돼서', '됐는데',
    '당했', '당함', '당해', '당하', '받았', '받음', '받고', '시켜', '시킴', '해줘', '해주', '싶은데',
    '싶었',
])
_SUFFIX_MAX = max(map(len, _SUFFIXES))


def _stem(word: str) -> str:
    """The word without its longest known particle or ending (돈봉투를 → 돈봉투)."""
    for n in range(min(_SUFFIX_MAX, len(word) - STEM_MIN), 0, -1):
        if word[-n:] in _SUFFIXES:
            return word[:-n]
    return word


@functools.lru_cache(maxsize=65536)
def _word_terms(word: str) -> tuple[str, ...]:
    """A word's stem and the stem's n-grams; words recur, so each is cut once."""
    stem = _stem(word)
    out = [stem]
    for n in NGRAMS:
        out.extend(stem[i:i + n] for i in range(len(stem) - n + 1))
    return tuple(out)


def terms(text: str) -> list[str]:
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        out.extend(_word_terms(word))
    return out


def _field_text(line: dict[str, Any], field: str) -> str:
    value = line.get(field) or ''
    return ' '.join(value) if isinstance(value, list) else value


def _load_lexicon() -> list[tuple[str, str]]:
    """(everyday wording, situation words it means)."""
    try:
        with open(LEXICON_FILE, encoding='utf-8') as f:
            data = json.load(f)
    except FileNotFoundError:
        return []
    return [(variant, meaning) for meaning, variants in data.items() for variant in variants]


_LEXICON = _load_lexicon()
# Wordings by their first two characters (a one-character wording by itself), so a message is
# checked only against the wordings that could start somewhere in it, not all few thousand.
_LEXICON_BY_START: dict[str, list[tuple[str, str]]] = defaultdict(list)
for _variant, _meaning in _LEXICON:
    _LEXICON_BY_START[_variant[:2]].append((_variant, _meaning))


def situations(query: str) -> list[str]:
    """The situation words the query's everyday wording stands for (차였어요 → 이별 …), spaces
    ignored; one entry per wording found."""
    text = query.lower()
    squashed = re.sub(r'\s+', '', text)
    starts = {t[i:i + n] for t in (text, squashed) for i in range(len(t)) for n in (1, 2)}
    # in sorted order: a set's order varies between processes, and with it the order the
    # scores' floats are summed in, which can break a near-tie differently in each container
    return [meaning for start in sorted(starts) for variant, meaning in _LEXICON_BY_START.get(start, ())
            if variant in text or variant in squashed]


FIELDS = tuple(FIELD_WEIGHTS)
# A line's terms: its field lengths, and per term its count in each field (in FIELDS order).
LineTerms = tuple[tuple[int, ...], dict[str, tuple[int, ...]]]
_terms_cache: dict[tuple[str, ...], LineTerms] = {}


def _line_key(line: dict[str, Any]) -> tuple[str, ...]:
    """A line's id and the text of its fields: what its terms depend on."""
    return (line['id'],) + tuple(_field_text(line, f) for f in FIELDS)


def _line_terms(key: tuple[str, ...]) -> LineTerms:
    """Kept across rebuilds: only new or edited lines are cut into terms again."""
    found = _terms_cache.get(key)
    if found is None:
        per_field = [terms(text) for text in key[1:]]
        counts: dict[str, list[int]] = {}
        for i, field_terms in enumerate(per_field):
            for term, tf in Counter(field_terms).items():
                counts.setdefault(term, [0] * len(FIELDS))[i] = tf
        found = (tuple(map(len, per_field)), {term: tuple(row) for term, row in counts.items()})
        _terms_cache[key] = found
    return found


class Index:
    """BM25F over the lines' fields. Postings hold raw counts per field; what depends on the
    whole corpus (each line's length normalisation, a term's idf) is applied per line and at
    query time, so a corpus change makes a new index by patching only the changed lines'
    postings (`updated`) and scores exactly as one built from scratch."""

    def __init__(self, lines: list[dict[str, Any]]):
        terms_of = {}
        for line in lines:  # _finish keeps them in id order
            key = _line_key(line)
            terms_of[line['id']] = (line, key, _line_terms(key))
        postings: dict[str, list[tuple[str, tuple[int, ...]]]] = defaultdict(list)
        for line_id, (_, _, (_, counts)) in terms_of.items():
            for term, tfs in counts.items():
                postings[term].append((line_id, tfs))
        live = {key for _, key, _ in terms_of.values()}
        for key in [k for k in _terms_cache if k not in live]:  # withdrawn or edited lines
            del _terms_cache[key]
        self._finish(terms_of, dict(postings))

    def _finish(self, terms_of: dict[str, tuple[dict[str, Any], tuple[str, ...], LineTerms]],
                postings: dict[str, list[tuple[str, tuple[int, ...]]]]) -> None:
        self._terms_of, self.postings = terms_of, postings
        self.lines = [terms_of[line_id][0] for line_id in sorted(terms_of)]
        n = len(terms_of)
        totals = [sum(lengths[i] for _, _, (lengths, _) in terms_of.values()) for i in range(len(FIELDS))]
        avg = [total / n if n else 0.0 for total in totals]
        weights = [FIELD_WEIGHTS[f] for f in FIELDS]
        # per line and field: the field's weight over its length normalisation (BM25F)
        self._scales = {line_id: tuple(w / (1 - FIELD_B + FIELD_B * (length / a if a else 1))
                                       for w, length, a in zip(weights, lengths, avg, strict=True))
                        for line_id, (_, _, (lengths, _)) in terms_of.items()}
        self.space = meaning.Space(self.lines)

    def updated(self, changes: dict[str, dict[str, Any] | None]) -> 'Index':
        """A new index with `changes` applied (line id → the line, or None: gone); this one
        stays as it was for whoever still holds it."""
        terms_of = {i: v for i, v in self._terms_of.items() if i not in changes}
        touched: set[str] = set()
        for line_id in changes.keys() & self._terms_of.keys():
            touched.update(self._terms_of[line_id][2][1])
            _terms_cache.pop(self._terms_of[line_id][1], None)
        added = {}
        for line_id, line in changes.items():
            if line is not None:
                key = _line_key(line)
                added[line_id] = (line, key, _line_terms(key))
                touched.update(added[line_id][2][1])
        terms_of.update(added)
        postings = dict(self.postings)
        for term in touched:
            kept = [entry for entry in postings.get(term, ()) if entry[0] not in changes]
            kept += [(line_id, counts[term]) for line_id, (_, _, (_, counts)) in added.items() if term in counts]
            if kept:
                postings[term] = kept
            else:
                postings.pop(term, None)
        new = Index.__new__(Index)
        new._finish(terms_of, postings)
        return new

    def __len__(self) -> int:
        return len(self.lines)

    def get(self, line_id: str) -> dict[str, Any] | None:
        """The line with that id, or None (a line withdrawn from the corpus is gone)."""
        found = self._terms_of.get(line_id)
        return found[0] if found else None

    def search(self, query: str, k: int = 5) -> list[tuple[float, dict[str, Any]]]:
        scores: dict[str, float] = defaultdict(float)
        weights: dict[str, float] = dict(Counter(terms(query)))
        for term, n in Counter(terms(' '.join(situations(query)))).items():
            if len(term) >= EXPANSION_MIN:
                weights[term] = weights.get(term, 0) + EXPANSION_WEIGHT * n
        total, scales = len(self.lines), self._scales
        for term, qtf in weights.items():
            posting = self.postings.get(term)
            if not posting:
                continue
            df = len(posting)
            weight = qtf * math.log(1 + (total - df + 0.5) / (df + 0.5))
            for line_id, (t0, t1, t2, t3) in posting:  # the four FIELDS, spelt out: this loop is the hot one
                s0, s1, s2, s3 = scales[line_id]
                tf = s0 * t0 + s1 * t1 + s2 * t2 + s3 * t3
                scores[line_id] += weight * tf * (K1 + 1) / (tf + K1)
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [(score, self._terms_of[line_id][0]) for line_id, score in best]


_lock = threading.Lock()
_cached: tuple[int | None, Index | None] = (None, None)


def current() -> Index:
    """The corpus index, rebuilt only when the stored version moved (one GetItem per call).

    A container that holds the index of an older version catches up by reading only the lines
    changed since (the change log, then those lines); a new one, or one further behind than the
    log reaches, reads every line. Either way only new or changed lines are cut into n-grams.
    """
    global _cached
    st = storage.store()
    version = st.corpus.version()
    cached_version, index = _cached
    if index is not None and cached_version == version:
        return index
    with _lock:
        cached_version, index = _cached
        if index is None or cached_version != version:  # behind, or tables made anew (then a full read)
            index = _rebuilt(st, index, cached_version, version)
            _cached = (version, index)
        return index


def _rebuilt(st: storage.Store, index: Index | None, since: int | None, version: int) -> Index:
    changes = st.corpus.changes(since, version) if index is not None and since is not None else None
    if changes is None or index is None:
        return Index(cast(list[dict[str, Any]], st.corpus.lines()))
    return index.updated(cast(dict[str, dict[str, Any] | None], changes))


def forget_cache() -> None:
    global _cached
    _cached = (None, None)
