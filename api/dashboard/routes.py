"""The dashboard's pages: batches and upload, batch overview, comment drill-down, sign-in.

Every page is server-rendered from the same functions the API serves (``api.dashboard.data``
calls them), and every page links to its JSON twin, which returns exactly what the API returns.
htmx requests (``HX-Request``) get the page's fragment instead of the whole page.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from api.dashboard import data, views
from api.dashboard.access import (
    dashboard_principal,
    forget_key,
    remember_key,
    same_origin,
    verify_key,
)
from api.dashboard.i18n import LANG_COOKIE, LANGUAGES, Translator, pick_language
from api.dashboard.preview import preview_bytes
from api.service.auth import Principal
from api.service.deps import get_session, get_settings
from api.service.errors import ApiError, pipeline_status
from api.service.rollups import Filters
from api.service.settings import Settings
from nlp.errors import VicxError

logger = logging.getLogger(__name__)

PACKAGE_DIR: Final = Path(__file__).resolve().parent
STATIC_DIR: Final = PACKAGE_DIR / "static"
#: Largest slice of a file the upload preview reads (the browser sends a CSV's first 256 KiB).
PREVIEW_MAX_BYTES: Final = 20 * 1024 * 1024

templates = Jinja2Templates(directory=PACKAGE_DIR / "templates")
router = APIRouter(include_in_schema=False)

SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
FilterQuery = Annotated[list[str] | None, Query(alias="filter")]


@dataclass(frozen=True)
class ViewQuery:
    """The query the batch views share: metadata filters and a date range (the scope) and, in
    the drill-down and export, the bar that was clicked (topic, polarity, sentiment)."""

    filters: list[str] | None
    date_from: str | None
    date_to: str | None
    topic: str | None = None
    sentiment: str | None = None
    polarity: str | None = None

    def scope(self, frame: pd.DataFrame) -> Filters:
        return data.parse_filters(frame, self.filters, self.date_from, self.date_to)

    def drill(self, frame: pd.DataFrame) -> Filters:
        return data.parse_filters(
            frame,
            self.filters,
            self.date_from,
            self.date_to,
            topic=self.topic,
            sentiment=self.sentiment,
            polarity=self.polarity,
        )


def _scope_query(
    filters: FilterQuery = None, date_from: str | None = None, date_to: str | None = None
) -> ViewQuery:
    return ViewQuery(filters, date_from, date_to)


ScopeQuery = Annotated[ViewQuery, Depends(_scope_query)]


def _drill_query(
    scope: ScopeQuery,
    topic: str | None = None,
    sentiment: str | None = None,
    polarity: str | None = None,
) -> ViewQuery:
    return replace(scope, topic=topic, sentiment=sentiment, polarity=polarity)


DrillQuery = Annotated[ViewQuery, Depends(_drill_query)]


@cache
def _static_version(name: str) -> str:
    """A content hash in the URL, so a new release is never served from a stale cache."""
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    return f"/static/{name}?v={_static_version(name)}"


templates.env.globals["static_url"] = static_url
templates.env.globals["version"] = views.package_version()


class Page:
    """What every template needs: language, labels, who is signed in."""

    def __init__(self, request: Request, principal: Principal | None) -> None:
        self.request = request
        self.principal = principal
        self.lang = pick_language(
            request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)
        )
        self.t = Translator(self.lang)

    def lang_url(self, lang: str) -> str:
        params = [(k, v) for k, v in self.request.query_params.multi_items() if k != "lang"]
        params.append(("lang", lang))
        return f"{self.request.url.path}?{urlencode(params)}"

    def render(
        self,
        template: str,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        **values: Any,
    ) -> HTMLResponse:
        context = {
            "t": self.t,
            "lang": self.lang,
            "lang_url": self.lang_url,
            "principal": self.principal,
            **values,
        }
        response = templates.TemplateResponse(
            self.request, template, context, status_code=status_code, headers=headers
        )
        self.keep_language(response)
        return response

    def keep_language(self, response: Response) -> None:
        chosen = self.request.query_params.get("lang")
        if chosen in LANGUAGES and chosen != self.request.cookies.get(LANG_COOKIE):
            response.set_cookie(
                LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax", path="/"
            )

    def error(self, exc: ApiError | VicxError) -> HTMLResponse:
        status = exc.status if isinstance(exc, ApiError) else pipeline_status(exc)
        message = self.t("error.not_found") if status == 404 else exc.message
        return self.render("error.html", status_code=status, message=message, code=exc.code)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _sign_in_redirect(request: Request) -> Response:
    target = f"/sign-in?{urlencode({'next': request.url.path})}"
    if _is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


Handler = Callable[[Page], Awaitable[Response]]


async def _page(request: Request, handler: Handler, *, post: bool = False) -> Response:
    """Resolve the principal (or send to sign-in), check the origin of posts, render errors."""
    principal = await dashboard_principal(request)
    page = Page(request, principal)
    if principal is None:
        return _sign_in_redirect(request)
    if post and not same_origin(request):
        return page.render(
            "error.html", status_code=403, message=page.t("error.forbidden_origin"), code=None
        )
    try:
        return await handler(page)
    except (ApiError, VicxError) as exc:
        return page.error(exc)


# --- sign-in -------------------------------------------------------------------------------


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, next: str = "/") -> Response:
    page = Page(request, None)
    return page.render("sign_in.html", next_url=_safe_next(next), error=None)


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    key: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    page = Page(request, None)
    if not same_origin(request):
        return page.render(
            "error.html", status_code=403, message=page.t("error.forbidden_origin"), code=None
        )
    principal = await verify_key(request, key)
    if principal is None:
        return page.render(
            "sign_in.html",
            status_code=401,
            next_url=_safe_next(next),
            error=page.t("signin.invalid"),
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    remember_key(request, response, key)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    if not same_origin(request):
        page = Page(request, None)
        return page.render(
            "error.html", status_code=403, message=page.t("error.forbidden_origin"), code=None
        )
    response = RedirectResponse("/sign-in", status_code=303)
    forget_key(response)
    return response


def _safe_next(target: str) -> str:
    """Only paths on this site: never an open redirect to another host."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# --- batches and upload --------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def batches_page(request: Request, session: SessionDep) -> Response:
    async def handler(page: Page) -> Response:
        batches = [views.batch_view(b, page.t) for b in data.list_batches(session, page.principal)]
        return page.render("batches.html", batches=batches, active="batches", error=None)

    return await _page(request, handler)


@router.get("/batches.json")
async def batches_json(request: Request, session: SessionDep) -> Response:
    async def handler(page: Page) -> Response:
        return JSONResponse(data.batches_json(session, page.principal))

    return await _page(request, handler)


@router.get("/batches/table", response_class=HTMLResponse)
async def batch_table(request: Request, session: SessionDep) -> Response:
    async def handler(page: Page) -> Response:
        batches = [views.batch_view(b, page.t) for b in data.list_batches(session, page.principal)]
        return page.render("partials/batch_table.html", batches=batches)

    return await _page(request, handler)


@router.get("/batches/{batch_id}/row", response_class=HTMLResponse)
async def batch_row(request: Request, batch_id: str, session: SessionDep) -> Response:
    async def handler(page: Page) -> Response:
        batch = views.batch_view(data.get_batch(session, page.principal, batch_id), page.t)
        return page.render("partials/batch_row.html", batch=batch)

    return await _page(request, handler)


@router.get("/batches/{batch_id}/progress", response_class=HTMLResponse)
async def batch_progress(request: Request, batch_id: str, session: SessionDep) -> Response:
    async def handler(page: Page) -> Response:
        batch = views.batch_view(data.get_batch(session, page.principal, batch_id), page.t)
        # The batch list refreshes itself when a batch it shows as running has finished.
        headers = {"HX-Trigger": "batches-changed"} if batch.finished else None
        return page.render("partials/progress_panel.html", batch=batch, headers=headers)

    return await _page(request, handler)


@router.get("/upload/form", response_class=HTMLResponse)
async def upload_form(request: Request) -> Response:
    async def handler(page: Page) -> Response:
        return page.render("partials/upload_form.html", error=None, started=False)

    return await _page(request, handler)


@router.post("/upload/preview", response_class=HTMLResponse)
async def upload_preview(request: Request) -> Response:
    async def handler(page: Page) -> Response:
        form = await request.form(max_part_size=PREVIEW_MAX_BYTES)
        upload = form.get("file")
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise ApiError("E422_validation_failed", page.t("upload.choose_file"))
        try:
            content = await upload.read(PREVIEW_MAX_BYTES + 1)
            preview = preview_bytes(
                content[:PREVIEW_MAX_BYTES],
                upload.filename,
                partial=form.get("partial") == "1" or len(content) > PREVIEW_MAX_BYTES,
            )
        except (ApiError, VicxError) as exc:
            return page.render(
                "partials/error_alert.html", status_code=422, error=views.error_view(exc)
            )
        finally:
            await form.close()
        return page.render("partials/upload_columns.html", preview=preview)

    return await _page(request, handler, post=True)


@router.post("/batches", response_class=HTMLResponse)
async def create_batch(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    async def handler(page: Page) -> Response:
        assert page.principal is not None
        try:
            created = await data.create_batch(request, settings, session, page.principal)
        except (ApiError, VicxError) as exc:
            error = views.error_view(exc)
            if _is_htmx(request):
                # Only the message area changes: the chosen file and columns stay as they were.
                return page.render(
                    "partials/error_alert.html",
                    status_code=error.status,
                    error=error,
                    headers={"HX-Retarget": "#upload-error", "HX-Reswap": "innerHTML"},
                )
            batches = [
                views.batch_view(b, page.t) for b in data.list_batches(session, page.principal)
            ]
            return page.render(
                "batches.html",
                status_code=error.status,
                batches=batches,
                error=error,
                active="batches",
            )
        if not _is_htmx(request):
            return RedirectResponse("/", status_code=303)
        batch = views.batch_view(created, page.t)
        return page.render(
            "partials/upload_form.html",
            started=True,
            batch=batch,
            headers={"HX-Trigger": "batches-changed"},
        )

    return await _page(request, handler, post=True)


# --- overview ------------------------------------------------------------------------------


@router.get("/batches/{batch_id}.json")
async def overview_json(
    request: Request,
    batch_id: str,
    session: SessionDep,
    settings: SettingsDep,
    query: ScopeQuery,
) -> Response:
    """The overview's JSON twin: GET /v1/batches/{id}/breakdown with the same query."""

    async def handler(page: Page) -> Response:
        _batch, frame = data.finished_rollup(settings, session, page.principal, batch_id)
        parsed = query.scope(frame)
        return JSONResponse(data.breakdown(frame, parsed))

    return await _page(request, handler)


@router.get("/batches/{batch_id}", response_class=HTMLResponse)
async def overview(
    request: Request,
    batch_id: str,
    session: SessionDep,
    settings: SettingsDep,
    query: ScopeQuery,
) -> Response:
    async def handler(page: Page) -> Response:
        batch, frame = data.finished_rollup(settings, session, page.principal, batch_id)
        parsed = query.scope(frame)
        view = views.overview_view(
            page.t, batch, data.breakdown(frame, parsed), data.columns(frame), parsed
        )
        template = "partials/overview_body.html" if _is_htmx(request) else "overview.html"
        return page.render(template, batch=views.batch_view(batch, page.t), view=view)

    return await _page(request, handler)


# --- drill-down ----------------------------------------------------------------------------


@router.get("/batches/{batch_id}/comments.json")
async def comments_json(
    request: Request,
    batch_id: str,
    session: SessionDep,
    settings: SettingsDep,
    query: DrillQuery,
    q: str | None = None,
    page: int = 1,
    page_size: int = views.COMMENTS_PAGE_SIZE,
    sort: str | None = None,
) -> Response:
    """The drill-down's JSON twin: GET /v1/batches/{id}/comments with the same query."""

    async def handler(current: Page) -> Response:
        batch, frame = data.finished_rollup(settings, session, current.principal, batch_id)
        parsed = query.drill(frame)
        found = data.comments(
            settings, session, batch, parsed, q=q, sort=sort, page=page, page_size=page_size
        )
        return JSONResponse(found)

    return await _page(request, handler)


@router.get("/batches/{batch_id}/comments", response_class=HTMLResponse)
async def comments_page(
    request: Request,
    batch_id: str,
    session: SessionDep,
    settings: SettingsDep,
    query: DrillQuery,
    q: str | None = None,
    page: int = 1,
    sort: str | None = None,
) -> Response:
    async def handler(current: Page) -> Response:
        batch, frame = data.finished_rollup(settings, session, current.principal, batch_id)
        scope = query.scope(frame)
        parsed = query.drill(frame)
        found = data.comments(
            settings,
            session,
            batch,
            parsed,
            q=q,
            sort=sort,
            page=page,
            page_size=views.COMMENTS_PAGE_SIZE,
        )
        view = views.comments_view(current.t, batch, found, data.columns(frame), scope)
        template = "partials/comments_body.html" if _is_htmx(request) else "comments.html"
        return current.render(template, batch=views.batch_view(batch, current.t), view=view)

    return await _page(request, handler)


# --- export --------------------------------------------------------------------------------


@router.get("/batches/{batch_id}/export.{fmt}")
async def export(
    request: Request,
    batch_id: str,
    fmt: str,
    session: SessionDep,
    settings: SettingsDep,
    query: DrillQuery,
) -> Response:
    """The current view (filters, and the drill-down's topic/polarity/sentiment) as a file."""

    async def handler(page: Page) -> Response:
        batch, frame = data.finished_rollup(settings, session, page.principal, batch_id)
        parsed = query.drill(frame)
        return data.export(settings, request.app.state.sessions, batch, parsed, fmt)

    return await _page(request, handler)
