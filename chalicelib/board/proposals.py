"""The quote request board: proposals, author/admin permissions, apply/withdraw into the corpus."""
import contextlib
from dataclasses import dataclass
from typing import Any, cast

from chalicelib import limits, storage
from chalicelib.board.contract import AUTHOR, FIELDS, PROPOSAL, REQUIRED
from chalicelib.chat import corpus
from chalicelib.core.errors import Conflict, Forbidden, NotFound
from chalicelib.core.ids import is_id, new_id, now_iso
from chalicelib.core.pagination import Page, PageRequest, fetch_page
from chalicelib.core.principal import Principal
from chalicelib.core.validation import Validator
from chalicelib.storage.records import Line, Proposal, User


def mask_email(email: str) -> str:
    """jmkim@gmail.com → jm***@gmail.com; a short local part shows less, never all of it."""
    local, _, domain = email.partition('@')
    return f'{local[:min(2, len(local) // 2)]}***@{domain}'


def _caller(principal: Principal) -> User:
    user = storage.store().users.get(principal.user_id)
    if user is None:
        raise NotFound('계정을 찾을 수 없습니다.')
    return user


def shape(q: Proposal, authors: dict[str, User], caller: User) -> dict[str, Any]:
    author = authors.get(q.get('user_id') or '')
    user = None
    if author:
        own = author['id'] == caller['id']
        user = AUTHOR.make(pk=author['id'], nickname=author['nickname'],
                           email=author['email'] if own else mask_email(author['email']))
    return PROPOSAL.make(id=q['id'], user=user, title=q['title'], content=q['content'], description=q['description'],
                         scene=q.get('scene'), speaker=q.get('speaker'), is_apply=bool(q.get('is_apply')),
                         created_at=q['created_at'], updated_at=q['updated_at'], applied_at=q.get('applied_at'))


def can_edit(q: Proposal, caller: User) -> bool:
    return q.get('user_id') == caller['id'] and not q.get('is_apply')


def can_delete(q: Proposal, caller: User) -> bool:
    return q.get('user_id') == caller['id'] or bool(caller.get('is_admin'))


@dataclass(frozen=True)
class ProposalView:
    """A proposal as one caller sees it: with its author's account (if it still exists) and
    what the caller may do with it."""
    proposal: Proposal
    authors: dict[str, User]
    caller: User

    @property
    def may_edit(self) -> bool:
        return can_edit(self.proposal, self.caller)

    @property
    def may_delete(self) -> bool:
        return can_delete(self.proposal, self.caller)

    @property
    def may_apply(self) -> bool:
        return bool(self.caller.get('is_admin'))

    def body(self) -> dict[str, Any]:
        return shape(self.proposal, self.authors, self.caller)


@dataclass(frozen=True)
class BoardPage:
    page: Page
    views: list[ProposalView]
    count: int


def _validate(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    v = Validator(data)
    if partial:  # a field sent as null is not "unchanged": the required ones must stay set
        for name in REQUIRED:
            if name in data and data[name] is None:
                v.fail(name, '비울 수 없습니다.')
    fields = {name: v.field(name, spec, required=name in REQUIRED and not partial) for name, spec in FIELDS.items()}
    if partial and all(name not in data for name in fields):
        v.fail('title', '바꿀 항목이 하나는 있어야 합니다.')
    v.done()
    return {k: val for k, val in fields.items() if k in data}


def _get(quote_id: str) -> Proposal:
    q = storage.store().board.get(quote_id) if is_id(quote_id) else None
    if q is None:
        raise NotFound('제안을 찾을 수 없습니다.')
    return q


def _caller_and(principal: Principal, quote_id: str) -> tuple[User, Proposal | None]:
    """The caller's account and the proposal (None if there is none), read in one call."""
    if not is_id(quote_id):
        return _caller(principal), None
    caller, q = storage.store().board.user_and_proposal(principal.user_id, quote_id)
    if caller is None:
        raise NotFound('계정을 찾을 수 없습니다.')
    return caller, q


def _found(q: Proposal | None) -> Proposal:
    if q is None:
        raise NotFound('제안을 찾을 수 없습니다.')
    return q


def create(principal: Principal, data: dict[str, Any]) -> ProposalView:
    caller = _caller(principal)
    fields = _validate(data, partial=False)
    limits.check('board_post', caller['id'])
    at = now_iso()
    q = cast(Proposal, dict({'scene': None, 'speaker': None}, **fields, id=new_id(), user_id=caller['id'],
                            is_apply=False, created_at=at, updated_at=at, applied_at=None))
    try:
        storage.store().board.put(q)
    except storage.ConditionFailed:
        raise NotFound('계정을 찾을 수 없습니다.') from None
    return ProposalView(q, {caller['id']: caller}, caller)


def board(principal: Principal, asked: PageRequest) -> BoardPage:
    """A page of proposals with their authors and the caller: one Query and one BatchGetItem
    (the caller, the authors and the count together). A page that needs the count first
    (the last, or a bare page number) reads the caller with it and the other authors after."""
    st = storage.store()
    ahead: dict[str, Any] = {}

    def count() -> int:
        ahead['users'], ahead['count'] = st.board.users_and_count([principal.user_id])
        return ahead['count']

    page = fetch_page(asked, st.board.proposals(), count)
    wanted = {q['user_id'] for q in page.items if q.get('user_id')}
    if ahead:
        users, total = ahead['users'], ahead['count']
        users.update(st.users.get_many(wanted - users.keys()))
    else:
        users, total = st.board.users_and_count(wanted | {principal.user_id})
    caller = users.get(principal.user_id)
    if caller is None:
        raise NotFound('계정을 찾을 수 없습니다.')
    items = cast(list[Proposal], page.items)
    return BoardPage(page, [ProposalView(q, users, caller) for q in items if not _orphaned(q, users)], total)


def _orphaned(q: Proposal, authors: dict[str, User]) -> bool:
    """An unapplied proposal whose author deleted the account: the purge removes it soon;
    until then it is shown to nobody."""
    return bool(q.get('user_id')) and not q.get('is_apply') and q['user_id'] not in authors


def read(principal: Principal, quote_id: str) -> ProposalView:
    caller, q = _caller_and(principal, quote_id)
    q = _found(q)
    authors = _authors_of(q, caller)
    if _orphaned(q, authors):
        raise NotFound('제안을 찾을 수 없습니다.')
    return ProposalView(q, authors, caller)


def _authors_of(q: Proposal, caller: User) -> dict[str, User]:
    if q.get('user_id') == caller['id']:
        return {caller['id']: caller}
    return storage.store().users.get_many([q['user_id']]) if q.get('user_id') else {}


def update(principal: Principal, quote_id: str, data: dict[str, Any]) -> ProposalView:
    caller, q = _caller_and(principal, quote_id)
    q = _found(q)
    if q.get('user_id') != caller['id']:
        raise Forbidden('작성자만 수정할 수 있습니다.')
    fields = _validate(data, partial=True)
    try:
        q = storage.store().board.update(quote_id, dict(fields, updated_at=now_iso()), unapplied_only=True)
    except storage.ConditionFailed:
        _get(quote_id)  # 404 if it was deleted meanwhile
        raise Conflict('이미 반영된 제안은 수정할 수 없습니다. 관리자에게 반영 취소를 요청해 주세요.') from None
    return ProposalView(q, {caller['id']: caller}, caller)


def delete(principal: Principal, quote_id: str) -> None:
    caller, q = _caller_and(principal, quote_id)
    q = _found(q)
    if not can_delete(q, caller):
        raise Forbidden('작성자나 관리자만 삭제할 수 있습니다.')
    try:
        storage.store().board.delete(quote_id, applied=bool(q.get('is_apply')))
    except storage.ConditionFailed:
        _get(quote_id)  # 404 if it is gone; otherwise it was just applied or withdrawn
        raise Conflict('제안이 방금 반영되거나 취소되었습니다. 다시 시도해 주세요.') from None


def corpus_line(q: Proposal) -> Line:
    """The chatbot's line for an applied proposal, checked like any imported line."""
    line = corpus.validate_line({'quote': q['content'], 'description': q['description'], 'scene': q.get('scene'),
                                 'speaker': q.get('speaker') or '미상', 'tags': [q['title'][:30]]},
                                scene_required=False)
    return corpus.as_lines(corpus.with_vectors([dict(line, origin='board')]))[0]


def set_applied(principal: Principal, quote_id: str, applied: bool) -> ProposalView:
    caller, q = _caller_and(principal, quote_id)
    if not caller.get('is_admin'):
        raise Forbidden('관리자만 반영하거나 취소할 수 있습니다.')
    q = _found(q)
    if bool(q.get('is_apply')) != applied:  # already so: nothing to do (idempotent)
        at = now_iso() if applied else None
        try:
            line = cast(dict[str, Any], corpus_line(q)) if applied else None
            storage.store().board.set_applied(quote_id, q['updated_at'], line, at)
            # what the transaction wrote, given its condition (unchanged since read)
            q = cast(Proposal, dict(q, is_apply=applied, applied_at=at))
        except storage.ConditionFailed:
            q = _get(quote_id)
            if bool(q.get('is_apply')) != applied:
                raise Conflict('제안이 방금 수정되었습니다. 내용을 확인하고 다시 시도해 주세요.') from None
    return ProposalView(q, _authors_of(q, caller), caller)


def forget_author(user_id: str) -> None:
    """On account deletion: unapplied proposals go; applied ones stay, without their author."""
    st = storage.store()
    for quote_id in st.board.ids_of(user_id):
        q = st.board.get(quote_id)
        if q and q.get('is_apply'):
            st.board.anonymize(quote_id)
        elif q:
            with contextlib.suppress(storage.ConditionFailed):  # deleted or applied meanwhile
                st.board.delete(quote_id, applied=False)
