"""Configuration, read once from the environment (or, deployed, a secret store)."""
import functools
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import boto3


@dataclass(frozen=True)
class Settings:
    stage: str
    users_table: str
    chats_table: str
    quotes_table: str
    auth_table: str
    jwt_secret: str
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


def _secret(name: str) -> str | None:
    """A secret from the environment, or from a secret store the environment names:
    NAME_SECRET_ID (AWS Secrets Manager, what the deploy template uses) or NAME_PARAM
    (SSM Parameter Store). Deployed, the template passes the secret's name; get() is cached,
    so the store is read once per container. An empty or placeholder value ('', '-', 'none')
    means unset, e.g. an OpenAI key secret not yet filled in → the local answerer.
    """
    value = os.environ.get(name)
    if value:
        return value
    secret_id = os.environ.get(name + '_SECRET_ID')
    param = os.environ.get(name + '_PARAM')
    if not secret_id and not param:
        return None
    if secret_id:
        value = boto3.client('secretsmanager').get_secret_value(SecretId=secret_id).get('SecretString') or ''
    else:
        value = boto3.client('ssm').get_parameter(Name=param, WithDecryption=True)['Parameter']['Value']
    value = value.strip()
    return None if value.lower() in ('', '-', 'none') else value


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


@functools.lru_cache(maxsize=1)
def get() -> Settings:
    env = os.environ.get
    prefix = env('TABLE_PREFIX', 'stove-' + env('STAGE', 'local'))
    secret = _secret('JWT_SECRET')
    if not secret or len(secret) < 32:
        raise RuntimeError('JWT_SECRET must be set to at least 32 characters')
    origins = _origins(env('CORS_ORIGINS', 'http://localhost:8080,http://127.0.0.1:8080'))
    return Settings(
        stage=env('STAGE', 'local'),
        users_table=env('USERS_TABLE', prefix + '-users'),
        chats_table=env('CHATS_TABLE', prefix + '-chats'),
        quotes_table=env('QUOTES_TABLE', prefix + '-quotes'),
        auth_table=env('AUTH_TABLE', prefix + '-auth'),
        jwt_secret=secret,
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
    get.cache_clear()
    return get()
