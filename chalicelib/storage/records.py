"""The stored items as the features see them (what the store hands out and takes)."""
from typing import TypedDict


class User(TypedDict, total=False):
    id: str
    email: str
    nickname: str
    password_hash: str
    created_at: str
    last_login: str | None
    ip_address: str | None
    is_admin: bool
    chat_count: int
    bookmark_count: int
    share_count: int


class Reply(TypedDict, total=False):
    id: str
    quote: str
    description: str
    line_description: str  # the line's own, when the model's explanation differs
    scene: int | None
    speaker: str | None
    source: str            # 'openai', 'local' or 'client'
    grounded: bool
    line_id: str | None
    sources: list[str]
    created_at: str


class Chat(TypedDict, total=False):
    chat_id: str
    user_id: str
    content: str
    created_at: str
    reply: Reply
    rating: int            # -1, 0 or 1
    shares: set[str]       # "<entry id>|<share id>" of its share links
    share_v: int


class Proposal(TypedDict, total=False):
    id: str
    user_id: str           # gone once its author deleted the account (an applied one stays)
    title: str
    content: str
    description: str
    scene: int | None
    speaker: str | None
    is_apply: bool
    created_at: str
    updated_at: str
    applied_at: str | None


class Line(TypedDict, total=False):
    id: str
    quote: str
    speaker: str
    scene: int | None
    description: str
    tags: list[str]
    sources: list[str]
    origin: str            # 'corpus' (shipped), 'board', 'import'…
    wording: str           # 'verbatim' (the dialogue as aired) or 'press' (a reporter's rendering)
    vector: str            # the description's e5 vector (base64 float16), made when the line was written


class SessionIndex(TypedDict, total=False):
    sids: set[str]
    n: int                 # changes so far: a write conditioned on it sees a login in between
    complete: bool         # known to list every session of the account
