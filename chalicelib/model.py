"""Two answerers behind one call: OpenAI (with OPENAI_API_KEY) or local retrieval.

Either way the line comes from the corpus: the model only chooses among retrieved
candidates and explains the choice; an answer naming anything else is rejected.
"""
import functools
import json
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from . import settings
from .corpus import Index
from .errors import BadGateway, GatewayTimeout, ServiceUnavailable

CANDIDATES = 8
NONE_FITS = 'none'


@dataclass
class Answer:
    scene: Optional[int]
    speaker: str
    quote: str
    description: str
    source: str          # "openai" or "local"
    grounded: bool       # the line is one of the corpus's, not the model's own recollection
    line_id: Optional[str] = None


def _from_line(line: Dict[str, Any], source: str, description: Optional[str] = None) -> Answer:
    return Answer(scene=line.get('scene'), speaker=line['speaker'], quote=line['quote'],
                  description=description or line['description'], source=source, grounded=True,
                  line_id=line['id'])


def local_answer(text: str, index: Index) -> Answer:
    if not len(index):
        raise ServiceUnavailable('아직 알고 있는 대사가 없습니다. 운영자가 대사를 불러와야 합니다.')
    hits = index.search(text, 1)
    if hits:
        return _from_line(hits[0][1], 'local')
    # Nothing shares a syllable with the input: fall back to the lines meant for any situation.
    general = [l for l in index.lines if '기본' in (l.get('tags') or [])] or index.lines
    return _from_line(general[0], 'local')


def candidates(text: str, index: Index) -> List[Dict[str, Any]]:
    picked = [line for _, line in index.search(text, CANDIDATES)]
    seen = {l['id'] for l in picked}
    for line in index.lines:  # pad, so the model always has a real choice
        if len(picked) >= CANDIDATES:
            break
        if line['id'] not in seen:
            picked.append(line)
            seen.add(line['id'])
    return picked


SYSTEM_PROMPT = (
    '너는 드라마 <스토브리그>(SBS, 2019-2020, 16부작)의 대사로 사람을 위로하고 격려하는 도우미다. '
    '사용자의 상황이나 감정에 가장 잘 맞는 대사를 후보 목록에서 하나 골라, 왜 맞는지 한국어로 2~3문장 설명하라. '
    '대사는 후보의 quote를 한 글자도 바꾸지 말고 그대로 옮긴다. 어느 후보도 맞지 않으면 candidate_id를 "none"으로 한다. '
    '후보에 없는 대사를 지어내지 마라.'
)


def _schema(ids: List[str]) -> Dict[str, Any]:
    return {'name': 'stove_league_choice', 'strict': True, 'schema': {
        'type': 'object', 'additionalProperties': False,
        'required': ['candidate_id', 'quote', 'description'],
        'properties': {'candidate_id': {'type': 'string', 'enum': ids + [NONE_FITS]},
                       'quote': {'type': 'string'}, 'description': {'type': 'string'}}}}


_FREE_SCHEMA = {'name': 'stove_league_recollection', 'strict': True, 'schema': {
    'type': 'object', 'additionalProperties': False, 'required': ['scene', 'speaker', 'quote', 'description'],
    'properties': {'scene': {'type': 'integer'}, 'speaker': {'type': 'string'},
                   'quote': {'type': 'string'}, 'description': {'type': 'string'}}}}


@functools.lru_cache(maxsize=2)
def _client(api_key: str, base_url: Optional[str], timeout: float, max_retries: int):
    import openai  # heavy: only containers that talk to the model import it
    return openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)


def _complete(messages: List[Dict[str, str]], schema: Dict[str, Any]) -> Dict[str, Any]:
    import openai
    cfg = settings.get()
    client = _client(cfg.openai_api_key, cfg.openai_base_url, cfg.openai_timeout, cfg.openai_max_retries)
    try:
        resp = client.chat.completions.create(
            model=cfg.openai_model, messages=messages, temperature=0.2, max_tokens=600,
            response_format={'type': 'json_schema', 'json_schema': schema})
    except openai.APITimeoutError:
        raise GatewayTimeout('모델이 제때 답하지 않았습니다. 잠시 후 다시 시도해 주세요.')
    except openai.RateLimitError as exc:
        retry = exc.response.headers.get('retry-after') if exc.response is not None else None
        raise ServiceUnavailable('모델 사용량이 많아 잠시 답할 수 없습니다.',
                                 retry_after=int(float(retry)) + 1 if retry and re.match(r'^\d+(\.\d+)?$', retry) else 5)
    except openai.APIConnectionError:
        raise ServiceUnavailable('모델 서버에 연결할 수 없습니다.', retry_after=5)
    except openai.APIStatusError as exc:
        raise BadGateway('모델 서버가 오류로 답했습니다 (HTTP %d).' % exc.status_code)
    except (openai.APIError, ValueError) as exc:  # e.g. a body that is not JSON at all
        raise BadGateway('모델의 응답을 읽을 수 없습니다: %s' % type(exc).__name__)
    try:
        content = resp.choices[0].message.content
        data = json.loads(content)
    except (AttributeError, IndexError, TypeError, ValueError):
        raise BadGateway('모델이 약속된 형식(JSON)으로 답하지 않았습니다.')
    if not isinstance(data, dict):
        raise BadGateway('모델이 약속된 형식(JSON)으로 답하지 않았습니다.')
    return data


def _same(a: str, b: str) -> bool:
    squash = lambda s: re.sub(r'\s+', ' ', s).strip()
    return squash(a) == squash(b)


def _description(data: Dict[str, Any]) -> str:
    text = data.get('description')
    if not isinstance(text, str) or not text.strip():
        raise BadGateway('모델이 설명(description)을 주지 않았습니다.')
    return text.strip()[:1000]


def openai_answer(text: str, index: Index) -> Answer:
    if not len(index):
        data = _complete([{'role': 'system', 'content': SYSTEM_PROMPT + ' 후보가 없으니 네가 확실히 아는 대사만 답하라.'},
                          {'role': 'user', 'content': text}], _FREE_SCHEMA)
        quote, speaker, scene = data.get('quote'), data.get('speaker'), data.get('scene')
        if not (isinstance(quote, str) and quote.strip() and isinstance(speaker, str) and speaker.strip()):
            raise BadGateway('모델이 약속된 형식으로 답하지 않았습니다.')
        scene = scene if isinstance(scene, int) and 1 <= scene <= 16 else None
        return Answer(scene, speaker.strip()[:30], quote.strip()[:500], _description(data), 'openai', False)
    cands = candidates(text, index)
    listing = [{'candidate_id': l['id'], 'scene': l.get('scene'), 'speaker': l['speaker'], 'quote': l['quote'],
                'when': l['description']} for l in cands]
    data = _complete([
        {'role': 'system', 'content': SYSTEM_PROMPT},
        {'role': 'user', 'content': '후보:\n%s\n\n사용자:\n%s' % (json.dumps(listing, ensure_ascii=False), text)},
    ], _schema([l['id'] for l in cands]))
    chosen = data.get('candidate_id')
    if chosen == NONE_FITS:
        return local_answer(text, index)  # said plainly by source="local": no model-made line
    line = next((l for l in cands if l['id'] == chosen), None)
    if line is None or not isinstance(data.get('quote'), str) or not _same(data['quote'], line['quote']):
        raise BadGateway('모델이 후보에 없는 대사를 답해 버렸습니다. 지어낸 대사는 보여 드리지 않습니다.')
    return _from_line(line, 'openai', _description(data))


def answer(text: str, index: Index) -> Answer:
    return openai_answer(text, index) if settings.get().openai_api_key else local_answer(text, index)


def describe() -> Dict[str, Any]:
    cfg = settings.get()
    if cfg.openai_api_key:
        return {'answerer': 'openai', 'model': cfg.openai_model}
    return {'answerer': 'local', 'model': 'bm25-char-ngrams'}
