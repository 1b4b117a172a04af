"""One ranking of the corpus's lines for a message, fused from every matcher, and whether any
line fits at all.

The matchers: BM25F over the lines' fields (`corpus.Index.search`), and by the lines' example
situations and descriptions (`meaning.Space`). Each ranks the lines; reciprocal-rank fusion adds
weight / (K + rank) per matcher, so matchers whose scores live on different scales combine
without calibration. Every number here was chosen on the tune split of the labelled set and of
the no-situation set (`make tune`); the held-out splits only report.
"""
import math
from dataclasses import dataclass
from typing import Any

from chalicelib.chat import meaning


@dataclass(frozen=True)
class Weights:
    bm25: float
    dense_examples: float
    dense_description: float
    gram_examples: float
    k: float


WEIGHTS = Weights(bm25=1.0, dense_examples=1.0, dense_description=0.5, gram_examples=1.0, k=1.0)
BM25_DEPTH = 30  # BM25F's ranks below this add nothing a fused ranking needs


@dataclass(frozen=True)
class Verdict:
    """Whether the message is a situation any line answers. One that names a feeling always is.
    Else, by meaning: near enough to some line's example (floor), nearer to the lines' examples
    than to the inputs that are no situation (margin), and among its nearest texts fewer than
    `none_share` of those inputs. By spelling alone: enough n-grams shared with some example."""
    floor: float
    margin: float
    none_share: float
    gram_floor: float


VERDICT = Verdict(floor=0.885, margin=0.0, none_share=0.4, gram_floor=0.18)


@dataclass
class Ranking:
    scored: list[tuple[float, dict[str, Any]]]   # fused score and line, best first
    signals: meaning.Signals
    semantic: bool

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [line for _, line in self.scored]


def _ranks(values: Any) -> dict[int, int]:
    """Position (0-based) → rank (1-based) by descending value; NaN and non-positive left out."""
    order = sorted((i for i, v in enumerate(values) if not math.isnan(v) and v > 0), key=lambda i: -values[i])
    return {i: r for r, i in enumerate(order, start=1)}


@dataclass
class Evidence:
    """What every matcher says of one message: computed once, fused under any weights."""
    signals: meaning.Signals
    bm25: list[tuple[float, dict[str, Any]]]


def evidence(text: str, index: Any) -> Evidence:
    return Evidence(index.space.signals(text), index.search(text, BM25_DEPTH))


def fuse(index: Any, seen: Evidence, weights: Weights = WEIGHTS) -> Ranking:
    space, signals = index.space, seen.signals
    bm25 = {space.position[line['id']]: r for r, (_, line) in enumerate(seen.bm25, start=1)}
    by_description = _ranks(signals.dense_description)
    fused = [0.0] * len(space.ids)
    for weight, ranks in ((weights.bm25, bm25), (weights.gram_examples, _ranks(signals.gram_examples)),
                          (weights.dense_examples, _ranks(signals.dense_examples)),
                          (weights.dense_description, by_description)):
        for i, r in ranks.items():
            fused[i] += weight / (weights.k + r)
    # A line without examples (just applied from the board) takes, for each example matcher, its
    # rank by the matcher of its own fields, so it can come first as a line with examples can.
    for i in (i for i, has in enumerate(space.has_examples) if not has):
        for weight, ranks in ((weights.dense_examples, by_description), (weights.gram_examples, bm25)):
            if i in ranks:
                fused[i] += weight / (weights.k + ranks[i])
    order = sorted((i for i, s in enumerate(fused) if s > 0), key=lambda i: (-fused[i], space.ids[i]))
    lines = index.lines  # in the space's order: both are the index's lines by id
    return Ranking([(fused[i], lines[i]) for i in order], signals, space.semantic)


def rank(text: str, index: Any) -> Ranking:
    return fuse(index, evidence(text, index))


def fits(ranking: Ranking, verdict: Verdict = VERDICT) -> bool:
    s = ranking.signals
    if s.feeling:
        return True
    if ranking.semantic and not math.isnan(s.nearest_line):
        near_none = -1.0 if math.isnan(s.nearest_none) else s.nearest_none
        return (s.nearest_line >= verdict.floor and s.nearest_line - near_none >= verdict.margin
                and not s.none_share >= verdict.none_share)
    grams = [v for v in s.gram_examples if not math.isnan(v)]
    if grams:
        return max(grams) >= verdict.gram_floor
    return bool(ranking.scored)  # no examples at all: whatever BM25F finds
