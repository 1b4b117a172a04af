"""The chatbot's exchanges: answer and save, save what a client already has, history."""
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

from . import corpus, limits, model, storage
from .auth import Principal
from .errors import NotFound, Unauthorized
from .ids import is_id, new_id, now_iso
from .pagination import Page, PageRequest, fetch_page
from .validation import Validator

INPUT_MAX = 1000
EXCLUDE_MAX = 50


def shape(chat: Dict[str, Any]) -> Dict[str, Any]:
    reply = chat['reply']
    return {'id': chat['chat_id'], 'user': chat['user_id'], 'content': chat['content'],
            'created_at': chat['created_at'],
            'chat_reply': {'id': reply['id'], 'user': chat['user_id'], 'quote': reply['quote'],
                           'description': reply['description'], 'scene': reply.get('scene'),
                           'speaker': reply.get('speaker'), 'created_at': reply['created_at'],
                           'source': reply.get('source'), 'grounded': bool(reply.get('grounded')),
                           'line_id': reply.get('line_id'), 'sources': list(reply.get('sources') or [])}}


def _save(principal: Principal, content: str, reply: Dict[str, Any]) -> Dict[str, Any]:
    at = now_iso()
    chat = {'chat_id': new_id(), 'user_id': principal.user_id, 'content': content, 'created_at': at,
            'reply': dict(reply, id=new_id(), created_at=at)}
    try:
        storage.store().put_chat(principal.user_id, chat)
    except storage.ConditionFailed:
        raise Unauthorized('계정이 더 이상 없습니다.')
    return chat


def ask(principal: Principal, data: Dict[str, Any],
        save: bool = True) -> Tuple[model.Answer, Optional[Dict[str, Any]]]:
    """Answer the input and save the exchange; a failing model raises before anything is saved.
    `save=False` (legacy mode) only answers: the original client saves through `record`."""
    v = Validator(data)
    text = v.text('input', max_len=INPUT_MAX, multiline=True)
    exclude = _line_ids(v, 'exclude')
    v.done()
    limits.check('chat', principal.user_id)  # each may be a billable model call
    answer = model.answer(text, corpus.current(), exclude)
    reply = {'quote': answer.quote, 'description': answer.description, 'scene': answer.scene,
             'speaker': answer.speaker, 'source': answer.source, 'grounded': answer.grounded,
             'line_id': answer.line_id, 'sources': answer.sources}
    return answer, _save(principal, text, reply) if save else None


def _line_ids(v: Validator, name: str) -> FrozenSet[str]:
    """An optional list of corpus line ids (the lines already shown for this input)."""
    value = v.data.get(name)
    if value is None:
        return frozenset()
    if (not isinstance(value, list) or len(value) > EXCLUDE_MAX
            or not all(isinstance(i, str) and 0 < len(i) <= 100 for i in value)):
        v.fail(name, '대사 id(문자열) %d개까지의 목록이어야 합니다.' % EXCLUDE_MAX)
        return frozenset()
    return frozenset(value)


def record(principal: Principal, data: Dict[str, Any]) -> Dict[str, Any]:
    """Save an exchange the client already holds (the original clients' second call)."""
    v = Validator(data)
    content = v.text('content', max_len=INPUT_MAX, multiline=True)
    reply_data = data.get('chat_reply')
    if not isinstance(reply_data, dict):
        v.fail('chat_reply', '{"scene", "quote", "description"} 객체여야 합니다.')
        v.done()
    r = Validator(reply_data)
    quote = r.text('quote', max_len=corpus.LIMITS['quote'], multiline=True)
    description = r.text('description', max_len=corpus.LIMITS['description'], multiline=True)
    scene = r.integer('scene', 1, corpus.EPISODES, required=False)
    speaker = r.text('speaker', max_len=corpus.LIMITS['speaker'], required=False)
    v.errors.update({'chat_reply.' + k: m for k, m in r.errors.items()})
    v.done()
    limits.check('chat', principal.user_id)  # a saved chat all the same
    return _save(principal, content, {'quote': quote, 'description': description, 'scene': scene,
                                      'speaker': speaker, 'source': 'client', 'grounded': False})


def history(principal: Principal, req: PageRequest) -> Tuple[Page, List[Dict[str, Any]], int]:
    """A page of the caller's chats: one Query and the count (one GetItem)."""
    st = storage.store()
    count = lambda: st.chat_count(principal.user_id)  # noqa: E731
    page = fetch_page(req, st.chats_of(principal.user_id), count)
    return page, [shape(c) for c in page.items], page.count if page.count is not None else count()


def get(principal: Principal, chat_id: str) -> Dict[str, Any]:
    chat = storage.store().get_chat(principal.user_id, chat_id) if is_id(chat_id) else None
    if chat is None:  # another user's chat looks exactly like a missing one
        raise NotFound('대화를 찾을 수 없습니다.')
    return chat


def delete(principal: Principal, chat_id: str) -> None:
    if not is_id(chat_id):
        raise NotFound('대화를 찾을 수 없습니다.')
    try:
        storage.store().delete_chat(principal.user_id, chat_id)
    except storage.ConditionFailed:
        raise NotFound('대화를 찾을 수 없습니다.')


def delete_all(principal: Principal) -> int:
    return storage.store().delete_chats(principal.user_id)
