"""The JWT signing keys: the current secret signs, the current and the previous one verify, and
each token's header names the key that signed it (`kid`), so a rotation logs nobody out.

A key id is a short hash of the secret: it tells the keys apart without revealing them (16 hex
digits of SHA-256 over a fixed label and the secret; anyone holding a token can already test
guesses of the secret against its signature, the id gives nothing more).
"""
import functools
import hashlib
from dataclasses import dataclass

from chalicelib.core import observe, settings

_KID_LABEL = b'stove-league/jwt-kid\n'


def key_id(secret: str) -> str:
    return hashlib.sha256(_KID_LABEL + secret.encode('utf-8')).hexdigest()[:16]


@dataclass(frozen=True)
class Keyring:
    signing_kid: str
    signing_secret: str
    by_kid: dict[str, str]  # every secret that verifies, by its key id: the current one first

    def secrets(self) -> list[str]:
        return list(self.by_kid.values())


@functools.lru_cache(maxsize=4)
def _ring(current: str, previous: str | None) -> Keyring:
    by_kid = {key_id(current): current}
    if previous:
        by_kid.setdefault(key_id(previous), previous)
    return Keyring(key_id(current), current, by_kid)


def ring() -> Keyring:
    cfg = settings.get()
    return _ring(cfg.jwt_secret, cfg.jwt_previous_secret)


def secret_for(kid: str) -> str | None:
    """The secret a key id names, or None: unknown ids are refused (a 401, never a 500). An id
    this container does not know may be a secret rotated in after it read its settings: deployed,
    the store is read again (at most once a minute, settings.reread_jwt_secrets)."""
    found = ring().by_kid.get(kid)
    if found is not None:
        return found
    try:
        changed = settings.reread_jwt_secrets()
    except Exception as exc:  # the store failed: the token stays unverified (401), a log line says why
        observe.warn('could not read the JWT secret again', jwt_keys_reread_error=type(exc).__name__)
        return None
    return ring().by_kid.get(kid) if changed else None
