"""Two answerers behind one call: OpenAI (with OPENAI_API_KEY) or local retrieval.

Either way the line comes from the corpus: the model only chooses among retrieved
candidates and explains the choice; an answer naming anything else is rejected.
"""
import functools
import json
import math
import re
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from types import SimpleNamespace
from typing import Any

from chalicelib.chat import embedding, ranking
from chalicelib.chat.corpus import Index
from chalicelib.core import deadline, observe, settings
from chalicelib.core.errors import BadGateway, GatewayTimeout, NotFound, ServiceUnavailable

CANDIDATES = 8          # lines retrieved for the model when the corpus is too large to send whole
ALL_LINES_UP_TO = 200   # up to this many lines the model sees every one, so retrieval misses nothing
FIT_RATIO = 0.35        # a line "fits" when it scores at least this share of the best line's score
FIT_MIN, FIT_MAX = 3, 10
NONE_FITS = 'none'
NO_FIT_MESSAGE = ('스토브리그 대사로 답할 만한 상황이나 마음을 찾지 못했어요. 요즘 겪은 일이나 지금 드는 마음을 '
                  '한두 문장으로 적어 주시면, 거기에 맞는 대사를 찾아 드릴게요.')
SUGGESTIONS = (
    '열심히 준비한 시험에 또 떨어져서 다 그만두고 싶어요',
    '팀장님이 제 아이디어를 자기 것처럼 발표했어요',
    '새 회사에 왔는데 다들 저를 못 믿는 눈치예요',
    '오래 사귄 사람과 헤어졌는데 자꾸 생각나요',
    '동아리 회장을 맡았는데 다들 예전 방식만 고집해요',
    '실수 하나로 팀 전체가 욕을 먹게 됐어요',
)
ALL_SHOWN = '이 이야기에 맞는 대사는 모두 보여 드렸어요. 상황을 조금 다르게 적어 보시면 다른 대사를 찾아 드릴게요.'


@dataclass
class Answer:
    scene: int | None
    speaker: str
    quote: str
    description: str
    source: str          # "openai" or "local"
    grounded: bool       # the line is one of the corpus's, not the model's own recollection
    line_id: str | None = None
    sources: list[str] = field(default_factory=list)


@dataclass
class NoFit:
    """No line answers the input: it is no situation or feeling (a question, a greeting,
    keyboard mash). Said plainly, with what to write instead; nothing is saved."""
    source: str          # who judged: "openai" or "local"
    message: str = NO_FIT_MESSAGE
    suggestions: list[str] = field(default_factory=list)


def no_fit(text: str, source: str) -> NoFit:
    """Three of the example prompts, chosen by the input so one input always gets the same."""
    start = sum(map(ord, text)) % len(SUGGESTIONS)
    return NoFit(source, suggestions=[SUGGESTIONS[(start + i) % len(SUGGESTIONS)] for i in range(3)])


def _from_line(line: dict[str, Any], source: str, description: str | None = None) -> Answer:
    return Answer(scene=line.get('scene'), speaker=line['speaker'], quote=line['quote'],
                  description=description or line['description'], source=source, grounded=True,
                  line_id=line['id'], sources=list(line.get('sources') or []))


def fitting(text: str, index: Index) -> list[dict[str, Any]]:
    """The lines that fit the input, best first by the fused ranking: those scoring near the
    best one, at least FIT_MIN; the general-purpose lines when no matcher finds any."""
    return fitting_of(ranking.rank(text, index), index)


def fitting_of(ranked: ranking.Ranking, index: Index) -> list[dict[str, Any]]:
    """`fitting` for a ranking already made (the answerers, and tools that rank once per case)."""
    hits = ranked.scored[:FIT_MAX]
    if not hits:
        return [ln for ln in index.lines if '기본' in (ln.get('tags') or [])] or index.lines[:FIT_MIN]
    floor = hits[0][0] * FIT_RATIO
    return [line for rank, (score, line) in enumerate(hits) if score >= floor or rank < FIT_MIN]


def _require_lines(index: Index) -> None:
    if not len(index):
        raise ServiceUnavailable('아직 알고 있는 대사가 없습니다. 운영자가 대사를 불러와야 합니다.', retry_after=60)


def local_answer(text: str, index: Index, exclude: Collection[str] = (), judge: bool = True) -> Answer | NoFit:
    """The best line not yet shown; NoFit when the input is no situation (unless `judge` is off:
    the original client expects a line whatever it sends)."""
    _require_lines(index)
    ranked = ranking.rank(text, index)
    if judge and not ranking.fits(ranked):
        return no_fit(text, 'local')
    for line in fitting_of(ranked, index):
        if line['id'] not in exclude:
            return _from_line(line, 'local')
    raise NotFound(ALL_SHOWN)


def candidates(text: str, index: Index, exclude: Collection[str] = ()) -> list[dict[str, Any]]:
    """What the model chooses from, in the fused ranking's order: every line of a small corpus
    (retrieval can't hide the right one), else the best CANDIDATES."""
    ranked = ranking.rank(text, index)
    order = [ln for ln in fitting_of(ranked, index) + ranked.lines if ln['id'] not in exclude]
    if len(index) <= ALL_LINES_UP_TO:
        order += [ln for ln in index.lines if ln['id'] not in exclude]
    seen: set[str] = set()
    picked = []
    for ln in order:  # each line the first time it comes
        if ln['id'] not in seen:
            seen.add(ln['id'])
            picked.append(ln)
    return picked if len(index) <= ALL_LINES_UP_TO else picked[:CANDIDATES]


def _when(line: dict[str, Any]) -> str:
    """A short 'when it fits' for the prompt: the description's first sentence."""
    first = re.split(r'(?<=[.!?。])\s', line['description'], maxsplit=1)[0]
    return first[:80]


def prompt_listing(cands: list[dict[str, Any]]) -> str:
    return json.dumps([{'candidate_id': ln['id'], 'scene': ln.get('scene'), 'speaker': ln['speaker'],
                        'quote': ln['quote'], 'when': _when(ln)} for ln in cands],
                      ensure_ascii=False, separators=(',', ':'))


SYSTEM_PROMPT = (
    '너는 드라마 <스토브리그>(SBS, 2019-2020, 16부작)의 대사로 사람을 위로하고 격려하는 도우미다. '
    '사용자의 상황이나 감정에 가장 잘 맞는 대사를 후보 목록에서 하나 골라, 왜 맞는지 한국어로 2~3문장 설명하라. '
    '대사는 후보의 quote를 한 글자도 바꾸지 말고 그대로 옮긴다. '
    '어느 후보도 맞지 않으면 candidate_id를 "none"으로 한다. '
    '후보에 없는 대사를 지어내지 마라.'
)


def _schema(ids: list[str]) -> dict[str, Any]:
    return {'name': 'stove_league_choice', 'strict': True, 'schema': {
        'type': 'object', 'additionalProperties': False,
        'required': ['candidate_id', 'quote', 'description'],
        'properties': {'candidate_id': {'type': 'string', 'enum': ids + [NONE_FITS]},
                       'quote': {'type': 'string'}, 'description': {'type': 'string'}}}}


_FREE_SCHEMA = {'name': 'stove_league_recollection', 'strict': True, 'schema': {
    'type': 'object', 'additionalProperties': False, 'required': ['scene', 'speaker', 'quote', 'description'],
    'properties': {'scene': {'type': 'integer'}, 'speaker': {'type': 'string'},
                   'quote': {'type': 'string'}, 'description': {'type': 'string'}}}}


MIN_ATTEMPT_SECONDS = 1.0    # an attempt with less time than this left is not worth starting
SAVE_RESERVE_SECONDS = 1.5   # of the request's budget, kept for saving the exchange afterwards
MAX_RESPONSE_BYTES = 1_000_000


@functools.lru_cache(maxsize=2)
def _client(api_key: str, base_url: str | None) -> Any:  # an openai.OpenAI (imported here only)
    import openai  # heavy: only containers that talk to the model import it
    # Retries are ours: the SDK would sleep out a Retry-After of up to 60 s, past any deadline.
    return openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0)


def _retry_after(response) -> float | None:
    """Seconds a Retry-After (or retry-after-ms) header asks for, if it says."""
    if response is None:
        return None
    headers = response.headers
    try:
        if headers.get('retry-after-ms'):
            return max(0.0, float(headers['retry-after-ms']) / 1000)
        value = (headers.get('retry-after') or '').strip()
        if re.fullmatch(r'\d+(\.\d+)?', value):
            return float(value)
        if value:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        pass
    return None


def _json(raw) -> Any:
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError('nested too deeply') from None


def _attempt(client, request: dict[str, Any], timeout: float, cancelled) -> dict[str, Any] | None:
    """One HTTP call to the model; the body is read chunk by chunk so a cancelled call stops."""
    body = bytearray()
    with client.chat.completions.with_streaming_response.create(**request, timeout=timeout) as resp:
        for chunk in resp.iter_bytes():
            if cancelled.is_set():
                return None  # nobody waits for this answer any more
            body += chunk
            if len(body) > MAX_RESPONSE_BYTES:
                raise ValueError('answer too large')
    return _json(bytes(body))


def _error_kind(exc: BaseException) -> str:
    """timeout / rate_limited / unreachable / http_error / bad_answer, from the OpenAI error the
    app's error was raised from (by class name: openai is imported only where it is used)."""
    cause = exc.__cause__ or exc.__context__
    names = [c.__name__ for c in type(cause).__mro__] if cause is not None else []
    for name, kind in (('APITimeoutError', 'timeout'), ('RateLimitError', 'rate_limited'),
                       ('APIConnectionError', 'unreachable'), ('APIStatusError', 'http_error')):
        if name in names:
            return kind
    status = getattr(exc, 'status', 502)
    return {504: 'timeout', 503: 'unreachable'}.get(status, 'bad_answer')


@observe.model_call(_error_kind)
def _complete(messages: list[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON answer, within what is left of the request's budget.

    Each attempt gets min(OPENAI_TIMEOUT, budget left) as a hard limit, a slow dribble of bytes
    included; a retry happens only if its wait (Retry-After, or a short backoff) still leaves
    time for it. Otherwise the failure is answered at once, with the server's Retry-After.
    """
    import openai
    cfg = settings.get()
    client = _client(cfg.openai_api_key, cfg.openai_base_url)
    request = dict(model=cfg.openai_model, messages=messages, temperature=0.2, max_tokens=600,
                   response_format={'type': 'json_schema', 'json_schema': schema})
    attempts = cfg.openai_max_retries + 1
    failure: Exception = GatewayTimeout('모델이 제때 답하지 않았습니다. 잠시 후 다시 시도해 주세요.')
    for attempt in range(attempts):
        left = deadline.remaining() - SAVE_RESERVE_SECONDS
        if left < MIN_ATTEMPT_SECONDS:
            raise failure
        timeout = min(cfg.openai_timeout, left)
        retryable, wait = True, 0.5 * 2 ** attempt
        try:
            # A silent server trips the client's own timeout first; a dribbling one, this hard limit.
            resp = deadline.run_within(functools.partial(_attempt, client, request, timeout), timeout + 0.25)
        except (TimeoutError, openai.APITimeoutError) as exc:
            failure = GatewayTimeout('모델이 제때 답하지 않았습니다. 잠시 후 다시 시도해 주세요.')
            failure.__cause__, wait = exc, 0  # observe reads the kind of failure from its cause
        except openai.APIConnectionError as exc:
            failure = ServiceUnavailable('모델 서버에 연결할 수 없습니다.', retry_after=5)
            failure.__cause__ = exc
        except openai.APIStatusError as exc:
            status, asked = exc.status_code, _retry_after(exc.response)
            wait = asked if asked is not None else wait
            retry_after = math.ceil(min(asked, 3600)) if asked is not None else 5
            retryable = status in (408, 409, 429) or status >= 500
            if status == 429:
                failure = ServiceUnavailable('모델 사용량이 많아 잠시 답할 수 없습니다.', retry_after=retry_after)
            elif status == 503:
                failure = ServiceUnavailable('모델 서버가 잠시 답할 수 없습니다.', retry_after=retry_after)
            else:
                failure = BadGateway(f'모델 서버가 오류로 답했습니다 (HTTP {status}).')
            failure.__cause__ = exc
        except (openai.APIError, ValueError) as exc:  # e.g. a body that is not JSON at all
            raise BadGateway(f'모델의 응답을 읽을 수 없습니다: {type(exc).__name__}') from exc
        else:
            observe.model_usage(_usage(resp))
            return _content(resp)
        if not retryable or attempt == attempts - 1 or \
                deadline.remaining() - SAVE_RESERVE_SECONDS - wait < MIN_ATTEMPT_SECONDS:
            raise failure
        time.sleep(wait)
    raise failure


def _usage(resp: Any) -> SimpleNamespace:
    """The answer's model and token counts, shaped as observe.model_usage reads an SDK response."""
    body = resp if isinstance(resp, dict) else {}
    usage = body.get('usage') if isinstance(body.get('usage'), dict) else None
    count = lambda name: usage[name] if usage is not None and type(usage.get(name)) is int else 0  # noqa: E731
    return SimpleNamespace(model=body.get('model'), usage=None if usage is None else SimpleNamespace(
        prompt_tokens=count('prompt_tokens'), completion_tokens=count('completion_tokens')))


def _content(resp: Any) -> dict[str, Any]:
    try:
        data = _json(resp['choices'][0]['message']['content'])
    except (KeyError, IndexError, TypeError, ValueError):
        raise BadGateway('모델이 약속된 형식(JSON)으로 답하지 않았습니다.') from None
    if not isinstance(data, dict):
        raise BadGateway('모델이 약속된 형식(JSON)으로 답하지 않았습니다.')
    return data


def _same(a: str, b: str) -> bool:
    def squash(s: str) -> str:
        return re.sub(r'\s+', ' ', s).strip()
    return squash(a) == squash(b)


def _description(data: dict[str, Any]) -> str:
    text = data.get('description')
    if not isinstance(text, str) or not text.strip():
        raise BadGateway('모델이 설명(description)을 주지 않았습니다.')
    return text.strip()[:1000]


def openai_answer(text: str, index: Index, exclude: Collection[str] = (), judge: bool = True) -> Answer | NoFit:
    if not len(index):
        system = SYSTEM_PROMPT + ' 후보가 없으니 네가 확실히 아는 대사만 답하라.'
        data = _complete([{'role': 'system', 'content': system},
                          {'role': 'user', 'content': text}], _FREE_SCHEMA)
        quote, speaker, scene = data.get('quote'), data.get('speaker'), data.get('scene')
        if not (isinstance(quote, str) and quote.strip() and isinstance(speaker, str) and speaker.strip()):
            raise BadGateway('모델이 약속된 형식으로 답하지 않았습니다.')
        scene = scene if isinstance(scene, int) and 1 <= scene <= 16 else None
        return Answer(scene, speaker.strip()[:30], quote.strip()[:500], _description(data), 'openai', False)
    cands = candidates(text, index, exclude)
    if not cands:
        raise NotFound(ALL_SHOWN)
    data = _complete(messages(text, cands), _schema([ln['id'] for ln in cands]))
    chosen = data.get('candidate_id')
    if chosen == NONE_FITS:
        if judge:
            return no_fit(text, 'openai')
        return local_answer(text, index, exclude, judge=False)  # said plainly by source="local"
    line = next((ln for ln in cands if ln['id'] == chosen), None)
    if line is None or not isinstance(data.get('quote'), str) or not _same(data['quote'], line['quote']):
        raise BadGateway('모델이 후보에 없는 대사를 답해 버렸습니다. 지어낸 대사는 보여 드리지 않습니다.')
    return _from_line(line, 'openai', _description(data))


def messages(text: str, cands: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{'role': 'system', 'content': SYSTEM_PROMPT},
            {'role': 'user', 'content': f'후보:\n{prompt_listing(cands)}\n\n사용자:\n{text}'}]


@observe.answerer
def answer(text: str, index: Index, exclude: Collection[str] = (), judge: bool = True) -> Answer | NoFit:
    """The line for `text`, never one of `exclude` (lines already shown for it): NotFound
    once every fitting line has been shown; NoFit when the input is no situation at all."""
    if settings.get().openai_api_key:
        return openai_answer(text, index, exclude, judge)
    return local_answer(text, index, exclude, judge)


def matcher() -> str:
    """What ranks the lines: by meaning and spelling, or (the model down) by spelling only."""
    if embedding.available():
        return f'meaning: {embedding.MODEL_NAME} + example n-grams + bm25f'
    return f'spelling only (embedding model unavailable: {embedding.unavailable_reason()}): example n-grams + bm25f'


def describe() -> dict[str, Any]:
    cfg = settings.get()
    matcher_now = matcher()
    if cfg.openai_api_key:
        return {'answerer': 'openai', 'model': cfg.openai_model, 'matcher': matcher_now}
    return {'answerer': 'local', 'model': 'ranked retrieval', 'matcher': matcher_now}
