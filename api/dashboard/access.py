"""Who is browsing, and whether a form post really comes from the dashboard.

The browser keeps the API key in an HttpOnly, SameSite=Strict cookie (set by the sign-in page);
it is checked with the API's own :class:`~api.service.auth.KeyVerifier`, so a key sees exactly
the batches it sees through the API. A request that carries ``Authorization: Bearer`` goes
through the API's :func:`~api.service.deps.require_key` unchanged. In open mode no key is needed.

CSRF: the cookie is SameSite=Strict, so no other site's page can make the browser send it; form
posts are also refused when the browser says they come from another origin (``Sec-Fetch-Site``,
else ``Origin``), which covers open mode, where there is no cookie to protect.
"""

from __future__ import annotations

from typing import Final

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from api.service.auth import KEY_PREFIX, OPEN_PRINCIPAL, KeyVerifier, Principal
from api.service.deps import get_settings, require_key

KEY_COOKIE: Final = "vicx_key"
KEY_COOKIE_MAX_AGE: Final = 30 * 24 * 3600


async def dashboard_principal(request: Request) -> Principal | None:
    """The principal of a dashboard request, or None when the user must sign in."""
    if request.headers.get("authorization"):
        return await require_key(request)
    secret = request.cookies.get(KEY_COOKIE)
    if secret:
        return await verify_key(request, secret)
    return OPEN_PRINCIPAL if get_settings(request).open_mode else None


async def verify_key(request: Request, secret: str) -> Principal | None:
    secret = secret.strip()
    if not secret.startswith(KEY_PREFIX):
        return None
    verifier: KeyVerifier = request.app.state.key_verifier
    found = verifier.recently_verified(secret)
    if found is None:
        found = await run_in_threadpool(verifier.verify, secret)
    return found


def remember_key(request: Request, response: Response, secret: str) -> None:
    response.set_cookie(
        KEY_COOKIE,
        secret.strip(),
        max_age=KEY_COOKIE_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def forget_key(response: Response) -> None:
    response.delete_cookie(KEY_COOKIE, path="/", httponly=True, samesite="strict")


def same_origin(request: Request) -> bool:
    """False when the browser says this state-changing request was sent by another site.

    Browsers send ``Sec-Fetch-Site`` (modern) or at least ``Origin`` on every POST; a client
    that sends neither is not a browser and cannot be driven by a hostile page.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
    return origin.rstrip("/").lower() == own.lower()
