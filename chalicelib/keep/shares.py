"""Share links: a public, read-only snapshot of one answer card.

The card is copied when the link is made, so the page reads one item and shows what the owner
chose to share. Without the owner's question, "why it fits" is the line's own description:
the model's explanation may retell the question. Deleting the chat, or the account, revokes
its links.
"""
import re
import secrets
from collections.abc import Mapping
from typing import Any

from chalicelib import limits, storage
from chalicelib.chat import chats
from chalicelib.core.errors import Conflict, NotFound, ValidationError
from chalicelib.core.ids import new_id, now_iso
from chalicelib.core.pagination import Listing, PageRequest, fetch_page
from chalicelib.core.principal import Principal
from chalicelib.keep.contract import CARD, SHARE

SHARE_ID_RE = re.compile(r'^[A-Za-z0-9_-]{24}$')  # secrets.token_urlsafe(18): 144 random bits


def new_share_id() -> str:
    return secrets.token_urlsafe(18)


def _card(chat: Mapping[str, Any], include_input: bool) -> dict[str, Any]:
    reply = chat['reply']
    description = reply['description']
    if not include_input and reply.get('line_description'):
        description = reply['line_description']  # the line's own: the model's words may retell the input
    elif not include_input and reply.get('source') == 'openai' and reply.get('line_id'):
        # saved before chats kept the line's own description: read it (one more call, these only)
        line = storage.store().corpus.line(reply['line_id'])
        description = line['description'] if line else description
    card = {'scene': reply.get('scene'), 'speaker': reply.get('speaker'), 'quote': reply['quote'],
            'description': description, 'sources': list(reply.get('sources') or [])}
    if include_input:
        card['input'] = chat['content']
    return card


def create(principal: Principal, chat_id: str, data: dict[str, Any]) -> dict[str, Any]:
    include = data.get('include_input', False)
    if not isinstance(include, bool):
        raise ValidationError({'include_input': 'true 또는 false여야 합니다.'})
    limits.check('keep', principal.user_id)
    chat = chats.get(principal, chat_id)
    st = storage.store()
    if len(chat.get('shares') or ()) >= st.shares.PER_CHAT:
        raise _too_many()
    share = {'id': new_share_id(), 'entry': new_id(), 'chat_id': chat['chat_id'], 'include_input': include,
             'created_at': now_iso(), 'card': _card(chat, include)}
    try:
        st.shares.put(principal.user_id, share)
    except storage.ConditionFailed as exc:
        if (exc.detail or [None] * 3)[2] == 'ConditionalCheckFailed' and st.chats.get(principal.user_id, chat_id):
            raise _too_many() from exc  # links made in parallel filled it up
        raise NotFound('대화를 찾을 수 없습니다.') from exc  # the chat (or the account) was deleted meanwhile
    return shape(share)


def _too_many() -> Conflict:
    return Conflict(f'이 카드의 공유 링크가 {storage.Shares.PER_CHAT}개로 가득 찼습니다. '
                    '쓰지 않는 링크를 취소해 주세요.')


def shape(share: dict[str, Any]) -> dict[str, Any]:
    card = share['card']
    return SHARE.make(id=share['id'], chat_id=share['chat_id'], created_at=share['created_at'],
                      include_input=bool(share['include_input']), card=CARD.of(card))


def page(principal: Principal, asked: PageRequest) -> Listing:
    st, uid = storage.store(), principal.user_id
    count = lambda: st.shares.count(uid)  # noqa: E731
    got = fetch_page(asked, st.shares.of(uid), count)
    found = st.shares.get_many(e['share_id'] for e in got.items)
    results = [shape(found[e['share_id']]) for e in got.items if e['share_id'] in found]
    return Listing(got, results, got.count if got.count is not None else count())


def revoke(principal: Principal, share_id: str) -> None:
    if not SHARE_ID_RE.match(share_id or '') or not storage.store().shares.delete(principal.user_id, share_id):
        raise NotFound('공유 링크를 찾을 수 없습니다.')


def public(share_id: str) -> dict[str, Any]:
    """The card as anyone with the link sees it: never who made it."""
    st = storage.store()
    share = st.shares.get(share_id) if SHARE_ID_RE.match(share_id or '') else None
    # an account deleted a moment ago takes its links with it before the purge removes them
    if share is None or not st.users.exists(share['user_id']):
        raise NotFound('공유된 카드를 찾을 수 없습니다. 링크가 취소되었을 수 있습니다.')
    card = share['card']
    out = {'scene': card.get('scene'), 'speaker': card.get('speaker'), 'quote': card['quote'],
           'description': card['description'], 'sources': card.get('sources') or [],
           'created_at': share['created_at']}
    if share.get('include_input') and 'input' in card:
        out['input'] = card['input']
    return out

