"""API keys: created once, shown once, stored as a SHA-256, compared in constant time.

A key looks like ``vicx_<token_urlsafe(32)>``. The first 12 characters (the ``prefix``) are
stored in clear so a lookup finds the candidate rows without the secret; the full key's SHA-256
is then compared with :func:`hmac.compare_digest`. Keys are never logged: only ids, names and
prefixes are.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.service.models import ApiKey, utcnow

KEY_PREFIX: Final = "vicx_"
PREFIX_CHARS: Final = 12
#: How long a verified key is trusted without asking the database again. A key revoked with
#: `vicx keys revoke` (another process) stops working within this many seconds.
VERIFIED_KEY_TTL_SECONDS: Final = 5.0


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``key_id`` None means open mode (no key)."""

    key_id: int | None
    name: str


OPEN_PRINCIPAL: Final = Principal(None, "open")


@dataclass(frozen=True)
class CreatedKey:
    id: int
    name: str
    prefix: str
    secret: str  # the only time the full key exists outside the client


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_key(session: Session, name: str) -> CreatedKey:
    secret = new_secret()
    row = ApiKey(name=name, prefix=secret[:PREFIX_CHARS], key_hash=hash_key(secret))
    session.add(row)
    session.commit()
    return CreatedKey(id=row.id, name=row.name, prefix=row.prefix, secret=secret)


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, key_id: int) -> ApiKey | None:
    row = session.get(ApiKey, key_id)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.commit()
    return row


def find_key(session: Session, secret: str) -> Principal | None:
    """The active key matching ``secret``, or None (unknown, revoked or malformed)."""
    if not secret.startswith(KEY_PREFIX) or len(secret) < PREFIX_CHARS:
        return None
    presented = hash_key(secret)
    rows = session.scalars(
        select(ApiKey).where(ApiKey.prefix == secret[:PREFIX_CHARS], ApiKey.revoked_at.is_(None))
    )
    match: Principal | None = None
    # Every candidate is compared (no early exit) so timing does not depend on which one matched.
    for row in rows:
        if hmac.compare_digest(row.key_hash, presented):
            match = Principal(row.id, row.name)
    return match


class KeyVerifier:
    """Verifies bearer keys against the database, remembering recent successes briefly.

    The real-time route is called thousands of times a second; a dictionary hit on the key's
    hash spares a database round trip per request. Only successes are remembered, keyed by the
    SHA-256 (never the key itself), so unknown keys always reach the database.
    """

    def __init__(
        self, sessions: sessionmaker[Session], ttl_seconds: float = VERIFIED_KEY_TTL_SECONDS
    ) -> None:
        self._sessions = sessions
        self._ttl = ttl_seconds
        self._verified: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def recently_verified(self, secret: str) -> Principal | None:
        """The principal if this key was verified less than the TTL ago (no database call)."""
        with self._lock:
            cached = self._verified.get(hash_key(secret))
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        return None

    def verify(self, secret: str) -> Principal | None:
        """Ask the database (blocking: call it from a worker thread in async code)."""
        digest = hash_key(secret)
        now = time.monotonic()
        with self._sessions() as session:
            principal = find_key(session, secret)
        with self._lock:
            if principal is None:
                self._verified.pop(digest, None)
            else:
                self._verified[digest] = (principal, now + self._ttl)
        return principal
