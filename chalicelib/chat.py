"""The chatbot's exchanges: answer and save, save what a client already has, history."""
from typing import Any, Dict, List, Optional, Tuple

from . import corpus, limits, model, storage
from .auth import Principal
from .errors import NotFound, Unauthorized
from .ids import is_id, new_id, now_iso
from .pagination import PageRequest, fetch_page
from .validation import Validator

INPUT_MAX = 1000


def shape(chat: Dict[str, Any]) -> Dict[str, Any]:
    reply = chat['reply']
    return {'id': chat['chat_id'], 'user': chat['user_id'], 'content': chat['content'],
            'created_at': chat['created_at'],
            'chat_reply': {'id': reply['id'], 'user': chat['user_id'], 'quote': reply['quote'],
                           'description': reply['description'], 'scene': reply.get('scene'),
                           'speaker': reply.get('speaker'), 'created_at': reply['created_at'],
                           'source': reply.get('source'), 'grounded': bool(reply.get('grounded'))}}


def _save(principal: Principal, content: str, reply: Dict[str, Any]) -> Dict[str, Any]:
    at = now_iso()
    chat = {'chat_id': new_id(), 'user_id': principal.user_id, 'content': content, 'created_at': at,
            'reply': dict(reply, id=new_id(), created_at=at)}
    try:
        storage.store().put_chat(principal.user_id, chat)
    except storage.ConditionFailed:
        raise Unauthorized('계정이 더 이상 없습니다.')
    return chat


def ask(principal: Principal, data: Dict[str, Any]) -> Tuple[model.Answer, Dict[str, Any]]:
    """Answer the input and save the exchange; a failing model raises before anything is saved."""
    v = Validator(data)
    text = v.text('input', max_len=INPUT_MAX, multiline=True)
    v.done()
    limits.check('chat', principal.user_id)  # each may be a billable model call
    answer = model.answer(text, corpus.current())
    reply = {'quote': answer.quote, 'description': answer.description, 'scene': answer.scene,
             'speaker': answer.speaker, 'source': answer.source, 'grounded': answer.grounded,
             'line_id': answer.line_id}
    return answer, _save(principal, text, reply)


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


def history(principal: Principal, req: PageRequest) -> Tuple[List[Dict[str, Any]], Optional[str], int]:
    st = storage.store()
    items, next_after = fetch_page(req, lambda limit, after: st.list_chats(principal.user_id, limit, after),
                                   lambda n: st.skip_chats(principal.user_id, n))
    return [shape(c) for c in items], next_after, st.chat_count(principal.user_id)


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
