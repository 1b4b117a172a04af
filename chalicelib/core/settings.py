"""Configuration, read once from the environment (or, deployed, a secret store)."""
import dataclasses
import os
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


@dataclass(frozen=True)
class Settings:
    stage: str
    users_table: str
    chats_table: str
    quotes_table: str
    auth_table: str
    jwt_secret: str  # signs every token
    jwt_previous_secret: str | None  # verifies too (tokens signed before the last rotation); never signs
    access_ttl: int
    refresh_ttl: int
    bcrypt_rounds: int
    cors_origins: tuple[str, ...]
    legacy_origins: tuple[str, ...]  # where the original web client is served (README: legacy mode)
    openai_api_key: str | None
    openai_base_url: str | None
    openai_model: str
    openai_timeout: float
    openai_max_retries: int
    login_max_failures: int
    login_max_failures_per_address: int
    login_window_seconds: int
    refresh_reuse_grace: int
    request_budget: float
    dynamodb_connect_timeout: float
    dynamodb_read_timeout: float
    dynamodb_max_attempts: int
    public_base_url: str | None
    signup_limit_per_hour: int
    chat_limit_per_minute: int
    chat_limit_per_day: int
    board_post_limit_per_hour: int
    keep_limit_per_minute: int
    keep_limit_per_day: int


def _secret(name: str, config: Config | None = None) -> str | None:
    """A secret from the environment, or from a secret store the environment names:
    NAME_SECRET_ID (AWS Secrets Manager, what the deploy template uses) or NAME_PARAM
    (SSM Parameter Store). Deployed, the template passes the secret's name; get() is cached,
    so the store is read once per container. An empty or placeholder value ('', '-', 'none')
    means unset, e.g. an OpenAI key secret not yet filled in → the local answerer. `config` is
    the store client's botocore Config (timeouts), boto3's defaults if None.
    """
    value = os.environ.get(name)
    if value:
        return value
    secret_id = os.environ.get(name + '_SECRET_ID')
    param = os.environ.get(name + '_PARAM')
    if not secret_id and not param:
        return None
    kw = {'config': config} if config else {}
    if secret_id:
        value = boto3.client('secretsmanager', **kw).get_secret_value(SecretId=secret_id).get('SecretString') or ''
    else:
        value = boto3.client('ssm', **kw).get_parameter(Name=param, WithDecryption=True)['Parameter']['Value']
    return _unset_if_placeholder(value)


def _unset_if_placeholder(value: str) -> str | None:
    value = value.strip()
    return None if value.lower() in ('', '-', 'none') else value


def _previous_version(secret_id: str, config: Config | None = None) -> str | None:
    """The version of a Secrets Manager secret labelled AWSPREVIOUS: the value it had before the
    last `put-secret-value` (or rotation). None before the first change."""
    kw = {'config': config} if config else {}
    try:
        answer = boto3.client('secretsmanager', **kw).get_secret_value(SecretId=secret_id, VersionStage='AWSPREVIOUS')
    except ClientError as exc:
        if exc.response.get('Error', {}).get('Code') == 'ResourceNotFoundException':
            return None  # no version holds the label yet
        raise
    return _unset_if_placeholder(answer.get('SecretString') or '')


MIN_JWT_SECRET = 32


def _jwt_secrets(config: Config | None = None) -> tuple[str, str | None]:
    """(current, previous): JWT_SECRET and JWT_SECRET_PREVIOUS as plain values (locally), else the
    AWSCURRENT and AWSPREVIOUS versions of the secret JWT_SECRET_SECRET_ID names (deployed).
    Only the current one signs; both verify, so a rotation logs nobody out (README, API notes)."""
    current = _secret('JWT_SECRET', config)
    if not current or len(current) < MIN_JWT_SECRET:
        raise RuntimeError(f'JWT_SECRET must be set to at least {MIN_JWT_SECRET} characters')
    previous = _unset_if_placeholder(_secret('JWT_SECRET_PREVIOUS', config) or '')  # 'none' too
    secret_id = os.environ.get('JWT_SECRET_SECRET_ID')
    if previous is None and secret_id and not os.environ.get('JWT_SECRET'):
        previous = _previous_version(secret_id, config)
    if previous is not None and len(previous) < MIN_JWT_SECRET:
        raise RuntimeError(f'JWT_SECRET_PREVIOUS must be at least {MIN_JWT_SECRET} characters (or unset)')
    return current, (None if previous == current else previous)


def _base_url(value: str | None) -> str | None:
    """PUBLIC_BASE_URL, checked: links are built from it, so only http(s) with a host will do."""
    if not value:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ('http', 'https') or not parts.netloc or parts.query or parts.fragment:
        raise RuntimeError('PUBLIC_BASE_URL must be an http(s) URL such as https://api.example.com/api')
    return value.strip().rstrip('/')


def _origins(value: str) -> tuple[str, ...]:
    """A comma-separated list of origins, compared as browsers send them (no trailing slash)."""
    return tuple(o.strip().rstrip('/') for o in value.split(',') if o.strip())


_cached: list[Settings] = []  # the settings of this process (one container), once read


def get() -> Settings:
    if not _cached:
        _cached[:] = [_read()]
    return _cached[0]


def _read() -> Settings:
    env = os.environ.get
    prefix = env('TABLE_PREFIX', 'stove-' + env('STAGE', 'local'))
    secret, previous = _jwt_secrets()
    origins = _origins(env('CORS_ORIGINS', 'http://localhost:8080,http://127.0.0.1:8080'))
    return Settings(
        stage=env('STAGE', 'local'),
        users_table=env('USERS_TABLE', prefix + '-users'),
        chats_table=env('CHATS_TABLE', prefix + '-chats'),
        quotes_table=env('QUOTES_TABLE', prefix + '-quotes'),
        auth_table=env('AUTH_TABLE', prefix + '-auth'),
        jwt_secret=secret,
        jwt_previous_secret=previous,
        access_ttl=int(env('ACCESS_TOKEN_TTL', '900')),
        refresh_ttl=int(env('REFRESH_TOKEN_TTL', str(14 * 24 * 3600))),
        bcrypt_rounds=int(env('BCRYPT_ROUNDS', '12')),
        cors_origins=origins,
        legacy_origins=_origins(env('LEGACY_ORIGINS', '')),
        openai_api_key=_secret('OPENAI_API_KEY'),
        openai_base_url=env('OPENAI_BASE_URL') or None,
        openai_model=env('OPENAI_MODEL', 'gpt-4o-mini'),
        # per attempt; the request's budget (REQUEST_BUDGET_SECONDS) bounds all attempts together
        openai_timeout=float(env('OPENAI_TIMEOUT', '12')),
        openai_max_retries=int(env('OPENAI_MAX_RETRIES', '1')),
        login_max_failures=int(env('LOGIN_MAX_FAILURES', '5')),
        # one address may be a whole office behind NAT: a much higher bar than one account's
        login_max_failures_per_address=int(env('LOGIN_MAX_FAILURES_PER_ADDRESS', '50')),
        login_window_seconds=int(env('LOGIN_WINDOW_SECONDS', '900')),
        refresh_reuse_grace=int(env('REFRESH_REUSE_GRACE_SECONDS', '30')),
        # API Gateway cuts at 29 s: our own answer, whatever the dependencies do, comes first
        request_budget=float(env('REQUEST_BUDGET_SECONDS', '25')),
        dynamodb_connect_timeout=float(env('DYNAMODB_CONNECT_TIMEOUT', '1')),
        dynamodb_read_timeout=float(env('DYNAMODB_READ_TIMEOUT', '2')),
        dynamodb_max_attempts=int(env('DYNAMODB_MAX_ATTEMPTS', '2')),
        public_base_url=_base_url(env('PUBLIC_BASE_URL')),
        signup_limit_per_hour=int(env('SIGNUP_LIMIT_PER_HOUR', '20')),
        chat_limit_per_minute=int(env('CHAT_LIMIT_PER_MINUTE', '20')),
        chat_limit_per_day=int(env('CHAT_LIMIT_PER_DAY', '500')),
        board_post_limit_per_hour=int(env('BOARD_POST_LIMIT_PER_HOUR', '10')),
        keep_limit_per_minute=int(env('KEEP_LIMIT_PER_MINUTE', '30')),
        keep_limit_per_day=int(env('KEEP_LIMIT_PER_DAY', '1000')),
    )


def reload() -> Settings:
    """Forget the cached settings (tests change the environment between sessions)."""
    _cached.clear()
    return get()


# -- reading the JWT secrets again --------------------------------------------------------------
REREAD_INTERVAL = 60.0  # seconds: at most one store read a minute per container, whatever tokens arrive
# A read on the request path: short, one attempt, well inside the request's budget.
_REREAD_CLIENT = Config(connect_timeout=1, read_timeout=2, retries={'total_max_attempts': 1})
_reread_lock = threading.Lock()
_last_reread = [float('-inf')]


def reread_jwt_secrets() -> bool:
    """Read the JWT secrets from their store again, when a token names a key this container does
    not know: the secret was rotated after the container read it, and a fresh container already
    signs with the new one. At most once every REREAD_INTERVAL seconds (a flood of made-up key
    ids costs one read a minute); nothing to do when the secrets are plain environment values.
    True if the secrets changed (the cached settings then hold the new ones); may raise if
    the store fails."""
    if os.environ.get('JWT_SECRET') or not (os.environ.get('JWT_SECRET_SECRET_ID')
                                            or os.environ.get('JWT_SECRET_PARAM')):
        return False
    with _reread_lock:
        now = time.monotonic()
        if now - _last_reread[0] < REREAD_INTERVAL:
            return False
        _last_reread[0] = now
    current, previous = _jwt_secrets(_REREAD_CLIENT)
    cfg = get()
    if (current, previous) == (cfg.jwt_secret, cfg.jwt_previous_secret):
        return False
    _cached[:] = [dataclasses.replace(cfg, jwt_secret=current, jwt_previous_secret=previous)]
    return True
