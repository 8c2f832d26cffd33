"""FastAPI dependencies: what routes receive from the app's state (settings, sessions, the
Analyzer) and who is calling (:func:`require_key`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.service.auth import OPEN_PRINCIPAL, KeyVerifier, Principal
from api.service.errors import ApiError
from api.service.ratelimit import RateLimiter
from api.service.settings import Settings
from nlp.analyzer import Analyzer

__all__ = [
    "AnalyzerDep",
    "Principal",
    "PrincipalDep",
    "SessionDep",
    "SettingsDep",
    "get_analyzer",
    "get_session",
    "get_settings",
    "require_key",
]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_analyzer(request: Request) -> Analyzer:
    analyzer: Analyzer | None = getattr(request.app.state, "analyzer", None)
    if analyzer is None:
        raise ApiError("E503_not_ready", "The models are not loaded yet.")
    return analyzer


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        # No echo of the header in the details: a key sent without "Bearer " would be in it.
        raise ApiError("E401_unauthorized", "Send the key as 'Authorization: Bearer <key>'.")
    return token.strip()


async def require_key(request: Request) -> Principal:
    """The caller's key (or the open-mode principal), after the per-key rate limit.

    Answers E401 for a missing, unknown or revoked key and E429 beyond the rate limit.
    """
    settings = get_settings(request)
    token = _bearer_token(request)
    if token is None:
        if not settings.open_mode:
            raise ApiError(
                "E401_unauthorized",
                "This route needs an API key: 'Authorization: Bearer <key>' "
                "(create one with `vicx keys create NAME`).",
            )
        principal = OPEN_PRINCIPAL
    else:
        verifier: KeyVerifier = request.app.state.key_verifier
        found = verifier.recently_verified(token)
        if found is None:
            found = await run_in_threadpool(verifier.verify, token)
        if found is None:
            raise ApiError("E401_unauthorized", "Unknown or revoked API key.")
        principal = found
    limiter: RateLimiter = request.app.state.rate_limiter
    retry_after = limiter.acquire(principal.key_id)
    if retry_after is not None:
        raise ApiError(
            "E429_rate_limited",
            f"More than {limiter.per_minute} requests per minute for this key.",
            limit_per_minute=limiter.per_minute,
            retry_after_seconds=round(retry_after, 1),
        )
    request.state.principal = principal
    return principal


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
AnalyzerDep = Annotated[Analyzer, Depends(get_analyzer)]
PrincipalDep = Annotated[Principal, Depends(require_key)]
