"""Accounts and tokens: sign-up, login (throttled), refresh with rotation, logout, profile."""
import functools
import time
import uuid
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

import bcrypt
import jwt

from . import settings, storage
from .errors import Conflict, NotFound, TooManyRequests, Unauthorized, ValidationError
from .ids import new_id, now_iso
from .validation import Validator

ALGORITHM = 'HS256'  # pinned: tokens naming another algorithm are refused


@dataclass(frozen=True)
class Principal:
    user_id: str
    session_id: str


# -- passwords --------------------------------------------------------------------------------
def hash_password(password: str) -> str:
    rounds = settings.get().bcrypt_rounds
    return bcrypt.hashpw(password.encode('utf-8'), bcrypt.gensalt(rounds)).decode()


def check_password(password: str, hashed: str) -> bool:
    raw = password.encode('utf-8')
    if len(raw) > 72:  # never a valid password here; bcrypt 5 refuses it, so pay the cost on a stand-in
        bcrypt.checkpw(b'x', hashed.encode())
        return False
    return bcrypt.checkpw(raw, hashed.encode())


@functools.lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> str:
    """A hash to check unknown emails against, so they cost what a wrong password costs."""
    return bcrypt.hashpw(b'not-a-real-password', bcrypt.gensalt(rounds)).decode()


# -- tokens -----------------------------------------------------------------------------------
def _encode(claims: Dict[str, Any]) -> str:
    return jwt.encode(claims, settings.get().jwt_secret, algorithm=ALGORITHM)


def _issue(user_id: str, session_id: str, legacy: bool = False) -> Tuple[str, str, str, int]:
    cfg, now = settings.get(), int(time.time())
    refresh_jti = uuid.uuid4().hex
    access = _encode({'sub': user_id, 'user_id': user_id, 'sid': session_id, 'jti': uuid.uuid4().hex,
                      'type': 'access', 'iat': now, 'exp': now + cfg.access_ttl})
    refresh_exp = now + cfg.refresh_ttl
    refresh_claims = {'sub': user_id, 'sid': session_id, 'jti': refresh_jti, 'type': 'refresh',
                      'iat': now, 'exp': refresh_exp}
    if legacy:
        refresh_claims['legacy'] = True  # begun by the original web client: see _refresh_in_place
    refresh = _encode(refresh_claims)
    return access, refresh, refresh_jti, refresh_exp


def _decode(token: str, kind: str) -> Dict[str, Any]:
    try:
        claims = jwt.decode(token, settings.get().jwt_secret, algorithms=[ALGORITHM],
                            options={'require': ['exp', 'sub', 'sid', 'jti', 'type']})
    except jwt.ExpiredSignatureError:
        raise Unauthorized('토큰이 만료되었습니다.')
    except jwt.PyJWTError:
        raise Unauthorized('토큰이 올바르지 않습니다.')
    if claims.get('type') != kind:
        raise Unauthorized('토큰 종류가 올바르지 않습니다.')
    return claims


def bearer_token(header: Optional[str]) -> str:
    """The token of an `Authorization: Bearer …` header (scheme case-insensitive)."""
    parts = (header or '').split()
    if len(parts) != 2 or parts[0].lower() != 'bearer':
        raise Unauthorized('Authorization 헤더는 "Bearer <토큰>" 형식이어야 합니다.')
    return parts[1]


def authenticate(header: Optional[str]) -> Principal:
    """Verify an access token and that its session is still alive (not logged out or deleted)."""
    claims = _decode(bearer_token(header), 'access')
    if storage.store().get_session(claims['sub'], claims['sid']) is None:
        raise Unauthorized('로그아웃되었거나 만료된 세션입니다.')
    return Principal(claims['sub'], claims['sid'])


def _start_session(user_id: str, legacy: bool = False) -> Dict[str, Any]:
    sid = new_id()
    access, refresh, jti, exp = _issue(user_id, sid, legacy)
    storage.store().put_session(user_id, sid, jti, exp)
    return {'access': access, 'refresh': refresh}


# -- accounts ---------------------------------------------------------------------------------
def public_user(user: Dict[str, Any]) -> Dict[str, Any]:
    return {'id': user['id'], 'pk': user['id'], 'email': user['email'], 'nickname': user['nickname'],
            'created_at': user['created_at'], 'last_login': user.get('last_login'),
            'is_admin': bool(user.get('is_admin', False))}


def join(data: Dict[str, Any], legacy: bool = False) -> Dict[str, Any]:
    v = Validator(data)
    email = v.email()
    nickname = v.text('nickname', max_len=30)
    if 'password' not in data and ('password1' in data or 'password2' in data):
        password = v.password('password1')  # the original sign-up form's two fields
        confirm = v.text('password2', max_len=1000, min_len=0, strip=False)
        if password is not None and confirm is not None and password != confirm:
            v.fail('password2', '두 비밀번호가 일치하지 않습니다.')
    else:
        password = v.password('password')
    v.done()
    user = {'id': new_id(), 'email': email, 'nickname': nickname, 'password_hash': hash_password(password),
            'created_at': now_iso(), 'last_login': None, 'ip_address': None, 'is_admin': False}
    try:
        storage.store().create_user(user)
    except storage.EmailTaken:
        raise Conflict('이미 가입된 이메일입니다.', fields={'email': '이미 가입된 이메일입니다.'})
    return dict(_start_session(user['id'], legacy), user=public_user(user))


def _window(now: float) -> Tuple[int, int]:
    size = settings.get().login_window_seconds
    start = int(now // size) * size
    return start, start + size


def login(data: Dict[str, Any], ip: str, legacy: bool = False) -> Dict[str, Any]:
    v = Validator(data)
    email = v.email()
    password = v.text('password', max_len=1000, strip=False)
    v.done()
    cfg, st, now = settings.get(), storage.store(), time.time()
    window, window_end = _window(now)
    account, address = 'email#' + email, 'ip#' + ip
    reserved = []
    for key in (account, address):  # counted up front, so parallel guesses cannot overrun the limit
        if not st.reserve_attempt(key, window, cfg.login_max_failures, window_end + 60):
            for k in reserved:
                st.release_attempt(k, window)
            raise TooManyRequests('로그인 실패가 너무 많습니다. 잠시 후 다시 시도해 주세요.', int(window_end - now) + 1)
        reserved.append(key)
    user_id = st.user_id_for_email(email)
    user = st.get_user(user_id) if user_id else None
    hashed = user['password_hash'] if user else _dummy_hash(cfg.bcrypt_rounds)
    if not check_password(password, hashed) or user is None:
        raise Unauthorized('이메일 또는 비밀번호가 올바르지 않습니다.')  # the reserved counts stand as failures
    st.clear_failures(account, window)
    st.release_attempt(address, window)
    try:
        user = st.update_user(user['id'], {'last_login': now_iso(), 'ip_address': ip})
    except storage.ConditionFailed:
        raise Unauthorized('이메일 또는 비밀번호가 올바르지 않습니다.')  # deleted a moment ago
    tokens = _start_session(user['id'], legacy)
    return dict(tokens, token_type='Bearer', expires_in=cfg.access_ttl, user=public_user(user))


def refresh(data: Dict[str, Any], legacy: bool = False) -> Dict[str, Any]:
    v = Validator(data)
    token = v.text('refresh', max_len=4096)
    v.done()
    claims = _decode(token, 'refresh')
    if legacy and claims.get('legacy'):
        return _refresh_in_place(claims, token)
    st = storage.store()
    access, new_refresh, jti, exp = _issue(claims['sub'], claims['sid'])
    try:
        st.rotate_session(claims['sub'], claims['sid'], claims['jti'], jti, exp)
    except storage.ConditionFailed:
        # A refresh token used twice may be stolen: end the whole session.
        st.delete_session(claims['sub'], claims['sid'])
        raise Unauthorized('이미 사용되었거나 폐기된 refresh 토큰입니다.')
    return {'access': access, 'refresh': new_refresh}


def _refresh_in_place(claims: Dict[str, Any], token: str) -> Dict[str, Any]:
    """Legacy mode: the original web client keeps login's refresh token and sends it at every
    refresh, as the Django app (no rotation) allowed. Only a session that began at a legacy
    origin, refreshed from one, is spared rotation; the token stays valid for its lifetime
    and dies with its session (logout, password change, account deletion)."""
    st = storage.store()
    session = st.get_session(claims['sub'], claims['sid'])
    if session is None:
        raise Unauthorized('로그아웃되었거나 만료된 세션입니다.')
    if session.get('refresh_jti') != claims['jti']:  # another client rotated it: a reuse, as in refresh()
        st.delete_session(claims['sub'], claims['sid'])
        raise Unauthorized('이미 사용되었거나 폐기된 refresh 토큰입니다.')
    access = _issue(claims['sub'], claims['sid'])[0]
    return {'access': access, 'refresh': token}


def logout(principal: Principal) -> None:
    storage.store().delete_session(principal.user_id, principal.session_id)


def profile(principal: Principal) -> Dict[str, Any]:
    user = storage.store().get_user(principal.user_id)
    if user is None:
        raise NotFound('계정을 찾을 수 없습니다.')
    return user


def update_profile(principal: Principal, data: Dict[str, Any]) -> Dict[str, Any]:
    user = profile(principal)
    v = Validator(data)
    nickname = v.text('nickname', max_len=30, required=False)
    new_password = v.password('password', required=False)
    current = v.text('current_password', max_len=1000, strip=False, required=new_password is not None)
    if nickname is None and new_password is None:
        v.fail('nickname', 'nickname 또는 password 중 하나는 있어야 합니다.')
    v.done()
    if new_password is not None and not check_password(current, user['password_hash']):
        raise ValidationError({'current_password': '현재 비밀번호가 올바르지 않습니다.'})
    fields = {}
    if nickname is not None:
        fields['nickname'] = nickname
    if new_password is not None:
        fields['password_hash'] = hash_password(new_password)
    if new_password is None:
        return storage.store().update_user(user['id'], fields)
    # Whoever else held a session with the old password loses it, in the same transaction.
    storage.store().update_user_ending_sessions(user['id'], fields, keep=principal.session_id)
    return dict(user, **fields)


def delete_account(principal: Principal, data: Dict[str, Any]) -> None:
    """Delete the account, its sessions, chats and unapplied proposals."""
    from . import quotes  # the board owns what happens to proposals
    user = profile(principal)
    v = Validator(data)
    password = v.text('password', max_len=1000, strip=False)
    v.done()
    if not check_password(password, user['password_hash']):
        raise ValidationError({'password': '비밀번호가 올바르지 않습니다.'})
    st = storage.store()
    # Tokens die first; the account item goes last, so a failure half-way leaves an account
    # its owner can log into and delete again, never orphaned chats or proposals.
    st.delete_sessions(user['id'])
    quotes.forget_author(user['id'])
    st.delete_chats(user['id'])
    st.delete_user(user['id'], user['email'])
    quotes.forget_author(user['id'])  # one written while we were deleting (the index lags a little)


def set_admin(email: str, is_admin: bool = True) -> Dict[str, Any]:
    st = storage.store()
    user_id = st.user_id_for_email(email.strip().lower())
    if not user_id:
        raise NotFound('그 이메일의 계정이 없습니다: %s' % email)
    return st.update_user(user_id, {'is_admin': is_admin})
