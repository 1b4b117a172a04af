"""The local stage's environment: ports, DynamoDB Local endpoint, and a dev JWT secret
generated on first run and kept in the git-ignored data folder (never committed)."""
import os
import secrets

from tools.dynamodb_local import ROOT, local_aws_env

DATA_DIR = os.environ.get('DATA_DIR', os.path.join(ROOT, '.data'))


def ports():
    return {'api': int(os.environ.get('API_PORT', '8000')),
            'frontend': int(os.environ.get('FRONTEND_PORT', '8080')),
            'dynamodb': int(os.environ.get('DYNAMODB_PORT', '8001'))}


def jwt_secret() -> str:
    path = os.path.join(DATA_DIR, 'jwt-secret')
    if not os.path.exists(path):
        os.makedirs(DATA_DIR, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(secrets.token_urlsafe(48))
    with open(path) as f:
        return f.read().strip()


def environment() -> dict:
    """Environment for the local stage; what the caller already set (e.g. OPENAI_API_KEY) wins."""
    p = ports()
    env = {'STAGE': 'local', 'JWT_SECRET': os.environ.get('JWT_SECRET') or jwt_secret(),
           'DYNAMODB_READ_TIMEOUT': '10',  # DynamoDB Local (a JVM on a laptop) pauses longer than DynamoDB
           'CORS_ORIGINS': os.environ.get('CORS_ORIGINS') or
           f"http://localhost:{p['frontend']},http://127.0.0.1:{p['frontend']}"}
    env.update(local_aws_env(p['dynamodb']))
    return {k: os.environ.get(k) or v for k, v in env.items()}


def apply() -> dict:
    env = environment()
    os.environ.update(env)
    return env
