"""Accounts and tokens: sign-up, login (throttled), refresh with rotation, logout, profile."""
import functools
import hashlib
import hmac
import time
import uuid
from typing import Any, cast

import bcrypt
import jwt

from chalicelib import limits, storage
from chalicelib.accounts.contract import (
    EMAIL_MAX,
    NICKNAME,
    PASSWORD_MAX_BYTES,
    PASSWORD_MIN,
    PROFILE,
    REFRESH,
    SECRET,
    USER,
)
from chalicelib.core import keys, settings
from chalicelib.core.errors import Conflict, NotFound, TooManyRequests, Unauthorized, ValidationError
from chalicelib.core.ids import new_id, now_iso
from chalicelib.core.principal import Principal
from chalicelib.core.validation import Validator
from chalicelib.storage.records import SessionIndex, User

ALGORITHM = 'HS256'  # pinned: tokens naming another algorithm are refused


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
def _encode(claims: dict[str, Any]) -> str:
    """Signed with the current secret only, its key id in the header (core/keys.py)."""
    ring = keys.ring()
    return jwt.encode(claims, ring.signing_secret, algorithm=ALGORITHM, headers={'kid': ring.signing_kid})


def _issue(user_id: str, session_id: str, at: int | None = None, parent_jti: str | None = None,
           legacy: bool = False, parent_key: str | None = None) -> tuple[str, str, str, int]:
    """(access, refresh, refresh jti, refresh expiry). A pair that replaces the refresh token
    `parent_jti` is derived from it and its time: issuing it again gives the very same pair.
    The ids are derived with the secret that verified the parent (`parent_key`), so a rotation
    between two tabs' refreshes of one token still gives them one successor."""
    cfg = settings.get()
    now = int(time.time()) if at is None else at
    if parent_jti:
        key = (parent_key or cfg.jwt_secret).encode()

        def derive(kind: str) -> str:
            return hmac.new(key, (f'{kind}|{parent_jti}').encode(), hashlib.sha256).hexdigest()[:32]
        access_jti, refresh_jti = derive('access'), derive('refresh')
    else:
        access_jti, refresh_jti = uuid.uuid4().hex, uuid.uuid4().hex
    access = _encode({'sub': user_id, 'user_id': user_id, 'sid': session_id, 'jti': access_jti,
                      'type': 'access', 'iat': now, 'exp': now + cfg.access_ttl})
    refresh_exp = now + cfg.refresh_ttl
    refresh_claims = {'sub': user_id, 'sid': session_id, 'jti': refresh_jti, 'type': 'refresh',
                      'iat': now, 'exp': refresh_exp}
    if legacy:
        refresh_claims['legacy'] = True  # begun by the original web client: see _refresh_in_place
    refresh = _encode(refresh_claims)
    return access, refresh, refresh_jti, refresh_exp


BAD_TOKEN = '토큰이 올바르지 않습니다.'


def _verify(token: str, kind: str) -> tuple[dict[str, Any], str]:
    """The token's claims and the secret that verified it. The header's `kid` picks the secret
    (current or previous; any other id is a 401). A token without one was issued before key ids
    existed: it is tried against the current and the previous secret, so the deploy that added
    them logged nobody out (such tokens are all expired REFRESH_TOKEN_TTL after it)."""
    try:
        kid = jwt.get_unverified_header(token).get('kid')
    except jwt.PyJWTError:
        raise Unauthorized(BAD_TOKEN) from None
    if kid is None:
        candidates = keys.ring().secrets()
    else:
        secret = keys.secret_for(kid) if isinstance(kid, str) else None
        if secret is None:
            raise Unauthorized('토큰의 서명 키를 알 수 없습니다. 다시 로그인해 주세요.')
        candidates = [secret]
    for secret in candidates:
        try:
            claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                                options={'require': ['exp', 'sub', 'sid', 'jti', 'type']})
        except jwt.InvalidSignatureError:
            continue  # signed with another of the candidates, or with none of them
        except jwt.ExpiredSignatureError:
            raise Unauthorized('토큰이 만료되었습니다.') from None
        except jwt.PyJWTError:
            raise Unauthorized(BAD_TOKEN) from None
        if claims.get('type') != kind:
            raise Unauthorized('토큰 종류가 올바르지 않습니다.')
        return claims, secret
    raise Unauthorized(BAD_TOKEN)


def _decode(token: str, kind: str) -> dict[str, Any]:
    return _verify(token, kind)[0]


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization: Bearer …` header (scheme case-insensitive)."""
    parts = (header or '').split()
    if len(parts) != 2 or parts[0].lower() != 'bearer':
        raise Unauthorized('Authorization 헤더는 "Bearer <토큰>" 형식이어야 합니다.')
    return parts[1]


def authenticate(header: str | None) -> Principal:
    """Verify an access token and that its session is still alive (not logged out or deleted)."""
    claims = _decode(bearer_token(header), 'access')
    if storage.store().sessions.get(claims['sub'], claims['sid']) is None:
        raise Unauthorized('로그아웃되었거나 만료된 세션입니다.')
    return Principal(claims['sub'], claims['sid'])


def _start_session(user_id: str, legacy: bool = False) -> dict[str, Any]:
    sid = new_id()
    access, refresh, jti, exp = _issue(user_id, sid, legacy=legacy)
    storage.store().sessions.put(user_id, sid, jti, exp)
    return {'access': access, 'refresh': refresh}


# -- accounts ---------------------------------------------------------------------------------
def public_user(user: User) -> dict[str, Any]:
    return USER.make(id=user['id'], pk=user['id'], email=user['email'], nickname=user['nickname'],
                     created_at=user['created_at'], last_login=user.get('last_login'),
                     is_admin=bool(user.get('is_admin', False)))


def profile_body(user: User) -> dict[str, Any]:
    """The account as the profile routes show it (sign-up and login add `pk`, as dj-rest-auth did)."""
    return PROFILE.of(public_user(user))


def join(data: dict[str, Any], ip: str, legacy: bool = False) -> dict[str, Any]:
    v = Validator(data)
    email = v.email(max_len=EMAIL_MAX)
    nickname = v.field('nickname', NICKNAME)
    if 'password' not in data and ('password1' in data or 'password2' in data):
        # the original sign-up form's two fields
        password = v.password('password1', PASSWORD_MIN, PASSWORD_MAX_BYTES)
        confirm = v.text('password2', max_len=1000, min_len=0, strip=False)
        if password is not None and confirm is not None and password != confirm:
            v.fail('password2', '두 비밀번호가 일치하지 않습니다.')
    else:
        password = v.password('password', PASSWORD_MIN, PASSWORD_MAX_BYTES)
    v.done()
    limits.check('signup', ip)  # before the bcrypt hash, which is what a flood of sign-ups costs
    user: User = {'id': new_id(), 'email': email, 'nickname': nickname, 'password_hash': hash_password(password),
                  'created_at': now_iso(), 'last_login': None, 'ip_address': None, 'is_admin': False}
    try:
        storage.store().users.create(user)
    except storage.EmailTaken:
        raise Conflict('이미 가입된 이메일입니다.', fields={'email': '이미 가입된 이메일입니다.'}) from None
    return dict(_start_session(user['id'], legacy), user=public_user(user))


def _window(now: float) -> tuple[int, int]:
    size = settings.get().login_window_seconds
    start = int(now // size) * size
    return start, start + size


def _reserve_attempt(email: str, ip: str, message: str) -> tuple[int, int]:
    """Count a password check against the account and the address (429 if either is spent).

    Logins and the password checks of profile changes share these counts: a stolen access
    token is no faster an oracle for the password than the login form.
    """
    cfg, now = settings.get(), time.time()
    window, window_end = _window(now)
    keys = [('email#' + email, cfg.login_max_failures), ('ip#' + ip, cfg.login_max_failures_per_address)]
    if storage.store().throttle.reserve(keys, window, window_end + 60) is not None:
        raise TooManyRequests(message, int(window_end - now) + 1)
    return window, window_end + 60


LOGIN_THROTTLED = '로그인 실패가 너무 많습니다. 잠시 후 다시 시도해 주세요.'


def login(data: dict[str, Any], ip: str, legacy: bool = False) -> dict[str, Any]:
    """Three DynamoDB calls besides bcrypt: reserve the attempt, read the email item, and one
    transaction for last_login, the session and the throttle counts given back."""
    v = Validator(data)
    email = v.email(max_len=EMAIL_MAX)
    password = v.field('password', SECRET)
    v.done()
    cfg, st = settings.get(), storage.store()
    window, counts_expire = _reserve_attempt(email, ip, LOGIN_THROTTLED)  # counted before the check
    user = st.users.login_record(email)
    hashed = user['password_hash'] if user else _dummy_hash(cfg.bcrypt_rounds)
    if not check_password(password, hashed) or user is None:
        raise Unauthorized('이메일 또는 비밀번호가 올바르지 않습니다.')  # the reserved counts stand as failures
    sid, at = new_id(), now_iso()
    access, refresh_token, jti, exp = _issue(user['id'], sid, legacy=legacy)
    try:
        st.users.finish_login(user, {'last_login': at, 'ip_address': ip},
                        {'sid': sid, 'refresh_jti': jti, 'expires_at': exp},
                        storage.GiveBack(['ip#' + ip], ['email#' + email], window, counts_expire))
    except storage.ConditionFailed:
        # deleted, or its password changed, a moment ago
        raise Unauthorized('이메일 또는 비밀번호가 올바르지 않습니다.') from None
    return {'access': access, 'refresh': refresh_token, 'token_type': 'Bearer', 'expires_in': cfg.access_ttl,
            'user': public_user(cast(User, dict(user, last_login=at)))}


def refresh(data: dict[str, Any], legacy: bool = False) -> dict[str, Any]:
    v = Validator(data)
    token = v.field('refresh', REFRESH)
    v.done()
    claims, key = _verify(token, 'refresh')
    if legacy and claims.get('legacy'):
        return _refresh_in_place(claims, token)
    cfg, st, now = settings.get(), storage.store(), int(time.time())
    user_id, sid, jti = claims['sub'], claims['sid'], claims['jti']
    access, new_refresh, new_jti, exp = _issue(user_id, sid, now, parent_jti=jti, parent_key=key)
    try:
        st.sessions.rotate(user_id, sid, jti, new_jti, exp, now)
    except storage.ConditionFailed as exc:
        session = exc.detail
        if session and session.get('prev_jti') == jti and cfg.refresh_reuse_grace > 0 and \
                0 <= now - session['rotated_at'] <= cfg.refresh_reuse_grace:
            # Rotated a moment ago by this same token (two tabs refreshing at once): the same
            # successor pair, not a logout.
            access, new_refresh, _, _ = _issue(user_id, sid, session['rotated_at'], parent_jti=jti, parent_key=key)
            return {'access': access, 'refresh': new_refresh}
        if session:  # a refresh token used again later may be stolen: end the whole session
            st.sessions.delete(user_id, sid)
        raise Unauthorized('이미 사용되었거나 폐기된 refresh 토큰입니다.') from exc
    return {'access': access, 'refresh': new_refresh}


def _refresh_in_place(claims: dict[str, Any], token: str) -> dict[str, Any]:
    """Legacy mode: the original web client keeps login's refresh token and sends it at every
    refresh, as the Django app (no rotation) allowed. Only a session that began at a legacy
    origin, refreshed from one, is spared rotation; the token stays valid for its lifetime
    and dies with its session (logout, password change, account deletion)."""
    st = storage.store()
    session = st.sessions.get(claims['sub'], claims['sid'])
    if session is None:
        raise Unauthorized('로그아웃되었거나 만료된 세션입니다.')
    if session.get('refresh_jti') != claims['jti']:  # another client rotated it: a reuse, as in refresh()
        st.sessions.delete(claims['sub'], claims['sid'])
        raise Unauthorized('이미 사용되었거나 폐기된 refresh 토큰입니다.')
    access = _issue(claims['sub'], claims['sid'])[0]
    return {'access': access, 'refresh': token}


def logout(principal: Principal) -> None:
    storage.store().sessions.delete(principal.user_id, principal.session_id)


def profile(principal: Principal) -> User:
    user = storage.store().users.get(principal.user_id)
    if user is None:
        raise NotFound('계정을 찾을 수 없습니다.')
    return user


CHECK_THROTTLED = '비밀번호 확인에 너무 많이 실패했습니다. 잠시 후 다시 시도해 주세요.'


def _confirm_password(user: User, password: str, ip: str, field: str) -> storage.GiveBack:
    """A password check on a profile change, throttled and counted like a login. Returns the
    counts to give back (release, clear, window, expiry), for the caller's own write to carry."""
    window, counts_expire = _reserve_attempt(user['email'], ip, CHECK_THROTTLED)
    if not check_password(password, user['password_hash']):
        wrong = '비밀번호가 올바르지 않습니다.' if field == 'password' else '현재 비밀번호가 올바르지 않습니다.'
        raise ValidationError({field: wrong})
    return storage.GiveBack(['ip#' + ip], ['email#' + user['email']], window, counts_expire)


def _account_and_sessions(principal: Principal) -> tuple[User, SessionIndex | None]:
    """The caller's account and its session index, in one read (404 if the account is gone)."""
    user, sessions = storage.store().users.with_sessions(principal.user_id)
    if user is None:
        raise NotFound('계정을 찾을 수 없습니다.')
    return user, sessions


def update_profile(principal: Principal, data: dict[str, Any], ip: str) -> User:
    """Three DynamoDB calls for a password change: the account with its session index, the
    throttled check's reservation, and one transaction (the other sessions end in it)."""
    st = storage.store()
    user, sessions = _account_and_sessions(principal)
    v = Validator(data)
    nickname = v.field('nickname', NICKNAME, required=False)
    new_password = v.password('password', PASSWORD_MIN, PASSWORD_MAX_BYTES, required=False)
    current = v.field('current_password', SECRET, required=new_password is not None)
    if nickname is None and new_password is None:
        v.fail('nickname', 'nickname 또는 password 중 하나는 있어야 합니다.')
    v.done()
    give_back = _confirm_password(user, current, ip, 'current_password') if new_password is not None else None
    fields = {}
    if nickname is not None:
        fields['nickname'] = nickname
    if new_password is not None:
        fields['password_hash'] = hash_password(new_password)
    try:
        if new_password is None:
            st.users.update(user['id'], user['email'], fields)
        else:  # whoever else held a session with the old password loses it, in the same transaction
            st.users.update_ending_sessions(user['id'], fields, keep=principal.session_id, email=user['email'],
                                           index=sessions, give_back=give_back)
    except storage.ConditionFailed:
        raise NotFound('계정을 찾을 수 없습니다.') from None  # deleted meanwhile
    return cast(User, dict(user, **fields))


def delete_account(principal: Principal, data: dict[str, Any], ip: str) -> None:
    """Delete the account and its sessions at once (three DynamoDB calls); its chats (and with
    them their ratings), bookmarks, share links and unapplied proposals follow in the purge
    (purge.py), which a scheduled sweep runs. Until then nothing of it is reachable: the
    sessions are gone, and share links answer only while their owner exists."""
    user, sessions = _account_and_sessions(principal)
    v = Validator(data)
    password = v.field('password', SECRET)
    v.done()
    give_back = _confirm_password(user, password, ip, 'password')
    try:
        storage.store().users.delete(user['id'], user['email'], sessions, give_back)
    except storage.ConditionFailed:
        raise NotFound('계정을 찾을 수 없습니다.') from None  # deleted by a parallel request


def set_admin(email: str, is_admin: bool = True) -> User | None:
    st = storage.store()
    user_id = st.users.id_for_email(email.strip().lower())
    if not user_id:
        raise NotFound(f'그 이메일의 계정이 없습니다: {email}')
    st.users.update(user_id, email.strip().lower(), {'is_admin': is_admin})
    return st.users.get(user_id)
