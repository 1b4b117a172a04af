"""How well the answers fit: top-1/top-3 accuracy on the labelled situations, and how often
"no line fits" is said, to inputs that are no situation and to real situations.

`tools/data/relevance.jsonl` holds situations written the way people write (short, long,
slangy, with typos), each with the ids of the corpus lines that fit it, and a `split`:
retrieval is tuned on "tune" only; "heldout" is what we report. `tools/data/offtopic.jsonl`
holds inputs that are no situation (questions, greetings, keyboard mash, code), split the same
way. Run alone: `python -m tools.relevance` (local answerer; the OpenAI path too when
OPENAI_API_KEY is set).
"""
import json
import os
import sys
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SET_FILE = os.path.join(ROOT, 'tools', 'data', 'relevance.jsonl')
OFFTOPIC_FILE = os.path.join(ROOT, 'tools', 'data', 'offtopic.jsonl')
SPLITS = ('tune', 'heldout')


def load_set(split: str | None = None, path: str = SET_FILE) -> list[dict[str, Any]]:
    with open(path, encoding='utf-8') as f:
        cases = [json.loads(line) for line in f if line.strip()]
    return [c for c in cases if split is None or c['split'] == split]


def load_offtopic(split: str | None = None) -> list[dict[str, Any]]:
    return load_set(split, OFFTOPIC_FILE)


def shipped_index():
    from chalicelib.chat import corpus
    return corpus.Index(corpus.shipped_lines())


def judged(index, text: str) -> tuple[list[str], bool]:
    """The local answerer's lines for `text`, best first (the answer, then "another line"s), and
    whether it says a line fits at all."""
    from chalicelib.chat import model, ranking
    ranked = ranking.rank(text, index)
    return [line['id'] for line in model.fitting_of(ranked, index)], ranking.fits(ranked)


def local_accuracy(index, cases: list[dict[str, Any]]) -> dict[str, float]:
    """Share of cases whose first answer fits (top-1), and with a fitting line in the first three
    the answerer would give, i.e. the answer and two "another line"s (top-3); ranked as if every
    case were judged a situation. `no_fit`: the share told that no line fits."""
    top1 = top3 = no_fit = 0
    for case in cases:
        ranked, fits = judged(index, case['text'])
        wanted = set(case['fits'])
        top1 += bool(ranked[:1] and ranked[0] in wanted)
        top3 += bool(wanted & set(ranked[:3]))
        no_fit += not fits
    n = len(cases) or 1
    return {'n': len(cases), 'top1': top1 / n, 'top3': top3 / n, 'no_fit': no_fit / n}


def offtopic_no_fit(index, cases: list[dict[str, Any]]) -> dict[str, float]:
    said = sum(not judged(index, case['text'])[1] for case in cases)
    return {'n': len(cases), 'no_fit': said / (len(cases) or 1)}


def misses(index, cases: list[dict[str, Any]]) -> list[str]:
    """The cases whose first answer does not fit, to see what retrieval gets wrong (tune split)."""
    out = []
    for case in cases:
        ranked, _ = judged(index, case['text'])
        if not ranked or ranked[0] not in case['fits']:
            out.append(f"{case['id']} {case['text'][:40]} → {ranked[:3]} (want {case['fits']})")
    return out


def openai_accuracy(index, cases: list[dict[str, Any]]) -> dict[str, float]:
    """Top-1 of the OpenAI path (the model picks one line; "another line" asks it again)."""
    from chalicelib.chat import model
    top1 = top3 = 0
    for case in cases:
        shown: list[str] = []
        for _ in range(3):
            answer = model.openai_answer(case['text'], index, shown)
            shown.append(answer.line_id)
        top1 += shown[0] in case['fits']
        top3 += bool(set(case['fits']) & set(shown))
    n = len(cases) or 1
    return {'n': len(cases), 'top1': top1 / n, 'top3': top3 / n}


def prompt_size(index, cases: list[dict[str, Any]]) -> dict[str, float]:
    """What one OpenAI request carries: characters, and tokens estimated as one per Hangul syllable
    plus one per four other characters (no tokenizer ships offline; this rule overcounts Korean)."""
    from chalicelib.chat import model
    sizes = []
    for case in cases:
        msgs = model.messages(case['text'], model.candidates(case['text'], index))
        text = ''.join(m['content'] for m in msgs)
        hangul = sum('가' <= ch <= '힣' for ch in text)
        sizes.append((len(text), hangul + (len(text) - hangul) / 4))
    n = len(sizes) or 1
    return {'chars': sum(s[0] for s in sizes) / n, 'tokens': sum(s[1] for s in sizes) / n}


def report(index=None) -> None:
    index = index or shipped_index()
    for split in SPLITS:
        cases = load_set(split)
        acc = local_accuracy(index, cases)
        off = offtopic_no_fit(index, load_offtopic(split))
        print(f"relevance, local answerer, {split:<7} (n={acc['n']}): top-1 {acc['top1'] * 100:.1f} %, "
              f"top-3 {acc['top3'] * 100:.1f} %; no line fits: {off['no_fit'] * 100:.1f} % of "
              f"{off['n']} non-situations, {acc['no_fit'] * 100:.1f} % of the situations")
    size = prompt_size(index, load_set('heldout'))
    print(f'OpenAI prompt per request ({len(index)}-line corpus, every line a candidate up to 200): '
          f"{size['chars']:.0f} characters, ≈{size['tokens']:.0f} tokens (estimate)")
    from chalicelib.core import settings
    if settings.get().openai_api_key:
        acc = openai_accuracy(index, load_set('heldout'))
        print(f"relevance, OpenAI path ({settings.get().openai_model}), heldout (n={acc['n']}): "
              f"top-1 {acc['top1'] * 100:.1f} %, top-3 {acc['top3'] * 100:.1f} %")
    else:
        print('relevance, OpenAI path: not measured (set OPENAI_API_KEY to measure it)')


if __name__ == '__main__':
    os.environ.setdefault('JWT_SECRET', 'unused-by-relevance-' + 'x' * 32)  # settings insist on one
    if '--misses' in sys.argv:
        print('\n'.join(misses(shipped_index(), load_set('tune'))))
    else:
        report()
