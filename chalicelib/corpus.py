"""The lines the chatbot may answer with, and local retrieval over them.

Lines come from the shipped demo set, operator imports (JSON Lines) and applied board
proposals. Retrieval is BM25 over character n-grams, which suits Korean: a word's stem
matches whatever particle or ending follows it.
"""
import hashlib
import json
import math
import os
import re
import threading
from collections import Counter, defaultdict
from typing import Any, Dict, List, Optional, Tuple

from . import storage

EPISODES = 16  # 스토브리그 ran for 16 episodes
DEMO_FILE = os.path.join(os.path.dirname(__file__), 'data', 'demo_quotes.jsonl')
LIMITS = {'speaker': 30, 'quote': 500, 'description': 1000}


class CorpusError(ValueError):
    pass


def validate_line(obj: Any, scene_required: bool = True) -> Dict[str, Any]:
    """A clean corpus line from a raw record, or CorpusError saying what is wrong."""
    if not isinstance(obj, dict):
        raise CorpusError('JSON 객체가 아닙니다')
    line: Dict[str, Any] = {}
    for name, limit in LIMITS.items():
        value = obj.get(name)
        if not isinstance(value, str) or not value.strip():
            raise CorpusError('%s: 비어 있지 않은 문자열이어야 합니다' % name)
        if len(value.strip()) > limit:
            raise CorpusError('%s: %d자 이하여야 합니다' % (name, limit))
        line[name] = value.strip()
    scene = obj.get('scene', obj.get('episode'))
    if scene is None and not scene_required:
        line['scene'] = None
    elif isinstance(scene, bool) or not isinstance(scene, int) or not 1 <= scene <= EPISODES:
        raise CorpusError('scene(episode): 1에서 %d 사이의 정수여야 합니다' % EPISODES)
    else:
        line['scene'] = scene
    tags = obj.get('tags', [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and len(t) <= 30 for t in tags) or len(tags) > 20:
        raise CorpusError('tags: 30자 이하 문자열 20개까지의 목록이어야 합니다')
    line['tags'] = [t.strip() for t in tags if t.strip()]
    return line


def parse_jsonl(text: str, origin: str) -> List[Dict[str, Any]]:
    """Every line of a JSON Lines text, validated; the first bad one is named and nothing is kept."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = validate_line(json.loads(raw))
        except ValueError as exc:  # json's errors and ours alike
            raise CorpusError('%d번째 줄: %s' % (number, exc)) from None
        digest = hashlib.sha1(('%s|%s|%s' % (line['scene'], line['speaker'], line['quote'])).encode()).hexdigest()
        lines.append(dict(line, id='%s-%s' % (origin, digest[:16]), origin=origin))
    return lines


def import_text(text: str, origin: str = 'import') -> int:
    """Validate all, then write all: a malformed record leaves the corpus untouched."""
    lines = parse_jsonl(text, origin)
    if lines:
        storage.store().put_corpus_lines(lines)
    return len(lines)


def load_demo() -> int:
    with open(DEMO_FILE, encoding='utf-8') as f:
        return import_text(f.read(), origin='demo')


# -- retrieval --------------------------------------------------------------------------------
_WORD = re.compile(r'[0-9a-z가-힣]+')


def terms(text: str) -> List[str]:
    out: List[str] = []
    for word in _WORD.findall(text.lower()):
        out.append(word)
        for n in (2, 3):
            out.extend(word[i:i + n] for i in range(len(word) - n + 1))
    return out


def _document(line: Dict[str, Any]) -> str:
    return ' '.join([line['quote'], line['description'], line['speaker'], ' '.join(line.get('tags') or [])])


class Index:
    K1, B = 1.2, 0.75

    def __init__(self, lines: List[Dict[str, Any]]):
        self.lines = sorted(lines, key=lambda l: l['id'])
        self.postings: Dict[str, List[Tuple[int, int]]] = defaultdict(list)
        self.lengths = []
        for doc, line in enumerate(self.lines):
            counts = Counter(terms(_document(line)))
            self.lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                self.postings[term].append((doc, tf))
        self.avg_len = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        self._by_id = {line['id']: line for line in self.lines}

    def get(self, line_id: str) -> Optional[Dict[str, Any]]:
        """The line with that id, or None (a line withdrawn from the corpus is gone)."""
        return self._by_id.get(line_id)

    def __len__(self) -> int:
        return len(self.lines)

    def search(self, query: str, k: int = 5) -> List[Tuple[float, Dict[str, Any]]]:
        n = len(self.lines)
        scores: Dict[int, float] = defaultdict(float)
        for term, qtf in Counter(terms(query)).items():
            posting = self.postings.get(term)
            if not posting:
                continue
            idf = math.log(1 + (n - len(posting) + 0.5) / (len(posting) + 0.5))
            for doc, tf in posting:
                norm = tf + self.K1 * (1 - self.B + self.B * self.lengths[doc] / self.avg_len)
                scores[doc] += qtf * idf * tf * (self.K1 + 1) / norm
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [(score, self.lines[doc]) for doc, score in best]


_lock = threading.Lock()
_cached: Tuple[Optional[int], Optional[Index]] = (None, None)


def current() -> Index:
    """The corpus index, rebuilt only when the stored version moved (one GetItem per call)."""
    global _cached
    st = storage.store()
    version = st.corpus_version()
    cached_version, index = _cached
    if index is not None and cached_version == version:
        return index
    with _lock:
        if _cached[1] is None or _cached[0] != version:
            _cached = (version, Index(st.corpus_lines()))
        return _cached[1]


def forget_cache() -> None:
    global _cached
    _cached = (None, None)
