"""The chatbot's exchanges: answer and save, save what a client already has, history."""
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from chalicelib import limits, storage
from chalicelib.chat import corpus, links, model
from chalicelib.chat.contract import (
    CHAT,
    CHAT_REPLY,
    DESCRIPTION,
    EXCLUDE_MAX,
    INPUT,
    LINE_ID_MAX,
    QUOTE,
    SCENE,
    SEARCH,
    SEARCH_WORDS,
    SPEAKER,
)
from chalicelib.core.errors import BadRequest, NotFound, Unauthorized, ValidationError
from chalicelib.core.ids import is_id, new_id, now_iso
from chalicelib.core.pagination import AFTER, BEFORE, Cursor, Listing, Page, PageRequest, fetch_page
from chalicelib.core.principal import Principal
from chalicelib.core.validation import Validator
from chalicelib.storage.records import Chat, Reply

# Chats a search reads per request at most (~1 MB at typical sizes): a page that runs out of
# them ends early with a `next` link, so every request costs the same however long the history.
SEARCH_READ_BUDGET = 1000


def shape(chat: Mapping[str, Any]) -> dict[str, Any]:
    """A saved chat (a Chat, or a page's item) as the API shows it."""
    reply = chat['reply']
    return CHAT.make(id=chat['chat_id'], user=chat['user_id'], content=chat['content'], created_at=chat['created_at'],
                     chat_reply=CHAT_REPLY.make(
                         id=reply['id'], user=chat['user_id'], quote=reply['quote'],
                         description=reply['description'], scene=reply.get('scene'), speaker=reply.get('speaker'),
                         created_at=reply['created_at'], source=reply.get('source'),
                         grounded=bool(reply.get('grounded')), line_id=reply.get('line_id'),
                         sources=list(reply.get('sources') or []), rating=int(chat.get('rating', 0))))


def body(base: str, chat: Mapping[str, Any]) -> dict[str, Any]:
    """A saved chat as the API shows it, with its links."""
    return dict(shape(chat), _links=links.chat(base, chat['chat_id'], chat['reply'].get('line_id')))


def answer_body(base: str, exchange: 'Exchange') -> dict[str, Any]:
    """POST /chat/api's answer: the line and why, and the chat it was saved as; or, when no line
    fits, what to write instead."""
    answer, saved = exchange.answer, exchange.saved
    if isinstance(answer, model.NoFit):
        return {'fits': False, 'message': answer.message, 'suggestions': answer.suggestions,
                'source': answer.source, '_links': links.history(base)}
    assert saved is not None
    return {'fits': True, 'scene': answer.scene, 'quote': answer.quote, 'description': answer.description,
            'speaker': answer.speaker, 'line_id': answer.line_id, 'sources': answer.sources,
            'source': answer.source, 'grounded': answer.grounded, 'chat': body(base, saved),
            '_links': links.chat(base, saved['chat_id'], answer.line_id)}


def legacy_answer(exchange: 'Exchange') -> dict[str, Any]:
    """The original app's answer: the line alone (its client saves the exchange itself)."""
    answer = exchange.answer
    assert isinstance(answer, model.Answer)  # legacy mode never judges
    return {'scene': answer.scene, 'quote': answer.quote, 'description': answer.description}


def _save(principal: Principal, content: str, reply: dict[str, Any]) -> Chat:
    at = now_iso()
    chat: Chat = {'chat_id': new_id(), 'user_id': principal.user_id, 'content': content, 'created_at': at,
                  'reply': cast(Reply, dict(reply, id=new_id(), created_at=at))}
    try:
        storage.store().chats.put(principal.user_id, chat)
    except storage.ConditionFailed:
        raise Unauthorized('계정이 더 이상 없습니다.') from None
    return chat


@dataclass(frozen=True)
class Exchange:
    """An answer, and the chat it was saved as (None when not saved: legacy mode, no line fits)."""
    answer: model.Answer | model.NoFit
    saved: Chat | None


def ask(principal: Principal, data: dict[str, Any], legacy: bool = False) -> Exchange:
    """Answer the input and save the exchange; a failing model raises before anything is saved.
    `legacy` (the original client) only answers, and always with a line: that client saves
    through `record`. Input that is no situation gets NoFit, and nothing is saved."""
    v = Validator(data)
    text = v.field('input', INPUT)
    exclude = _line_ids(v, 'exclude')
    v.done()
    limits.check('chat', principal.user_id)  # each may be a billable model call
    index = corpus.current()
    answer = model.answer(text, index, exclude, judge=not legacy)
    if isinstance(answer, model.NoFit):
        return Exchange(answer, None)
    reply = {'quote': answer.quote, 'description': answer.description, 'scene': answer.scene,
             'speaker': answer.speaker, 'source': answer.source, 'grounded': answer.grounded,
             'line_id': answer.line_id, 'sources': answer.sources}
    line = index.get(answer.line_id) if answer.line_id else None
    if line and line['description'] != answer.description:
        # the model's own words may retell the input: a card shared without it shows the line's
        reply['line_description'] = line['description']
    return Exchange(answer, None if legacy else _save(principal, text, reply))


def _line_ids(v: Validator, name: str) -> frozenset[str]:
    """An optional list of corpus line ids (the lines already shown for this input)."""
    value = v.data.get(name)
    if value is None:
        return frozenset()
    if (not isinstance(value, list) or len(value) > EXCLUDE_MAX
            or not all(isinstance(i, str) and 0 < len(i) <= LINE_ID_MAX for i in value)):
        v.fail(name, f'대사 id(문자열) {EXCLUDE_MAX}개까지의 목록이어야 합니다.')
        return frozenset()
    return frozenset(value)


def record(principal: Principal, data: dict[str, Any]) -> Chat:
    """Save an exchange the client already holds (the original clients' second call)."""
    v = Validator(data)
    content = v.field('content', INPUT)
    reply_data = data.get('chat_reply')
    if not isinstance(reply_data, dict):
        v.fail('chat_reply', '{"scene", "quote", "description"} 객체여야 합니다.')
        v.done()
    r = Validator(cast(dict[str, Any], reply_data))
    quote = r.field('quote', QUOTE)
    description = r.field('description', DESCRIPTION)
    scene = r.field('scene', SCENE, required=False)
    speaker = r.field('speaker', SPEAKER, required=False)
    v.errors.update({'chat_reply.' + k: m for k, m in r.errors.items()})
    v.done()
    limits.check('chat', principal.user_id)  # a saved chat all the same
    return _save(principal, content, {'quote': quote, 'description': description, 'scene': scene,
                                      'speaker': speaker, 'source': 'client', 'grounded': False})


def search_words(q: str | None) -> list[str]:
    """The words of a history search (`?q=`); none means no search."""
    v = Validator({'q': q})
    text = v.field('q', SEARCH, required=False)
    v.done()
    words = list(dict.fromkeys((text or '').split()))
    if len(words) > SEARCH_WORDS:
        raise ValidationError({'q': f'검색어는 {SEARCH_WORDS}개 단어까지 쓸 수 있습니다.'})
    return words


def history(principal: Principal, asked: PageRequest, q: str | None = None) -> Listing:
    """A page of the caller's chats: one Query and the count (one GetItem). With `q`, only
    those whose input or line contains every word, and no count (see search)."""
    words = search_words(q)
    if words:
        page = search(principal, asked, words)
        return Listing(page, [shape(c) for c in page.items], None)
    st = storage.store()
    count = lambda: st.chats.count(principal.user_id)  # noqa: E731
    page = fetch_page(asked, st.chats.of(principal.user_id), count)
    return Listing(page, [shape(c) for c in page.items], page.count if page.count is not None else count())


def search(principal: Principal, asked: PageRequest, words: list[str]) -> Page:
    """A page of matches, read from the caller's own partition with a filter.

    Each request reads at most SEARCH_READ_BUDGET chats, so a page may come back short (even
    empty) with a link that continues from where the reading stopped, in either direction.
    Knowing how many match would mean reading the whole history: there is no count and no
    last page. A bare page number skips the matches before it.
    """
    st, uid, per_page, cursor = storage.store(), principal.user_id, asked.per_page, asked.cursor
    read = lambda start, newest_first: st.chats.search(  # noqa: E731
        uid, words, per_page, start, SEARCH_READ_BUDGET, newest_first)
    if cursor is None and asked.page > 1:
        after = st.chats.skip_search(uid, words, (asked.page - 1) * per_page)
        if after is None:
            return Page([], asked.page, past_end=True)
        cursor = Cursor(AFTER, asked.page, after)
    if cursor is None:
        items, more = read(None, True)
        return Page(items, 1, next_key=more)
    if cursor.kind == AFTER:
        items, more = read(cursor.key, True)
        return Page(items, cursor.page, next_key=more, prev_key=items[0]['chat_id'] if items else cursor.key,
                    here=cursor)
    if cursor.kind == BEFORE:  # newer matches, read oldest first from the key
        items, more = read(cursor.key, False)
        items.reverse()
        if more is None:  # reached the newest: this is the first page
            return Page(items, 1, next_key=items[-1]['chat_id'] if items else cursor.key)
        return Page(items, max(2, cursor.page), next_key=items[-1]['chat_id'] if items else cursor.key,
                    prev_key=more, here=cursor)
    raise BadRequest('검색 결과에는 마지막 페이지 링크가 없습니다.')


def get(principal: Principal, chat_id: str) -> Chat:
    chat = storage.store().chats.get(principal.user_id, chat_id) if is_id(chat_id) else None
    if chat is None:  # another user's chat looks exactly like a missing one
        raise NotFound('대화를 찾을 수 없습니다.')
    return chat


def delete(principal: Principal, chat_id: str) -> None:
    """Delete one chat; its rating leaves the line's counts and its share links stop working."""
    if not is_id(chat_id) or not storage.store().chats.delete(principal.user_id, chat_id):
        raise NotFound('대화를 찾을 수 없습니다.')


def delete_all(principal: Principal) -> int:
    return storage.store().chats.delete_all(principal.user_id)
