"""The local stage's environment: ports, DynamoDB Local endpoint, and a dev JWT secret
generated on first run and kept in the git-ignored data folder (never committed), with the
previous one after a rotation (`python -m tools.cli rotate-jwt-secret`)."""
import contextlib
import os
import secrets
import tempfile

from tools.dynamodb_local import ROOT, local_aws_env

DATA_DIR = os.environ.get('DATA_DIR', os.path.join(ROOT, '.data'))


def ports():
    return {'api': int(os.environ.get('API_PORT', '8000')),
            'frontend': int(os.environ.get('FRONTEND_PORT', '8080')),
            'dynamodb': int(os.environ.get('DYNAMODB_PORT', '8001'))}


def _secret_path(name: str) -> str:
    return os.path.join(DATA_DIR, name)


def _write_secret(name: str, value: str) -> None:
    """Written whole (a new file renamed over the old), readable by its owner only."""
    os.makedirs(DATA_DIR, exist_ok=True)
    path = _secret_path(name)
    fd, tmp = tempfile.mkstemp(dir=DATA_DIR, prefix='.' + name)  # mode 0600
    with os.fdopen(fd, 'w') as f:
        f.write(value)
    os.replace(tmp, path)


def jwt_secret() -> str:
    path = _secret_path('jwt-secret')
    if not os.path.exists(path):
        os.makedirs(DATA_DIR, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(secrets.token_urlsafe(48))
    with open(path) as f:
        return f.read().strip()


def previous_jwt_secret() -> str | None:
    """The secret that signed before the last rotation (still verifies), if any."""
    path = _secret_path('jwt-secret-previous')
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return f.read().strip() or None


def rotate_jwt_secret(drop_previous: bool = False) -> tuple[str, str | None]:
    """A new signing secret; the current one becomes the previous (tokens it signed keep working
    until they expire), or, with drop_previous, nothing older verifies (everyone logs in again).
    Returns (new, previous). The running API picks them up when restarted."""
    old = jwt_secret()
    new = secrets.token_urlsafe(48)
    if drop_previous:
        with contextlib.suppress(FileNotFoundError):
            os.remove(_secret_path('jwt-secret-previous'))
    else:
        _write_secret('jwt-secret-previous', old)
    _write_secret('jwt-secret', new)
    return new, None if drop_previous else old


def environment() -> dict:
    """Environment for the local stage; what the caller already set (e.g. OPENAI_API_KEY) wins."""
    p = ports()
    env = {'STAGE': 'local', 'JWT_SECRET': os.environ.get('JWT_SECRET') or jwt_secret(),
           'DYNAMODB_READ_TIMEOUT': '10',  # DynamoDB Local (a JVM on a laptop) pauses longer than DynamoDB
           'CORS_ORIGINS': os.environ.get('CORS_ORIGINS') or
           f"http://localhost:{p['frontend']},http://127.0.0.1:{p['frontend']}"}
    if not os.environ.get('JWT_SECRET'):  # the files' secrets: the previous one goes with them
        previous = previous_jwt_secret()
        if previous:
            env['JWT_SECRET_PREVIOUS'] = previous
    env.update(local_aws_env(p['dynamodb']))
    return {k: os.environ.get(k) or v for k, v in env.items()}


def apply() -> dict:
    env = environment()
    os.environ.update(env)
    return env
