"""The one door from the dashboard to the service's batch functions.

Every figure and list the dashboard shows comes from the functions the API routes call
(``api.service.batches`` for batches, comments and exports, ``api.service.rollups`` for
breakdowns and column values), and the JSON twins return those functions' output unchanged, so
a page, its JSON twin and the API can never disagree.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final
from urllib.parse import quote

import pandas as pd
from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response, StreamingResponse

from api.service import batches, rollups, uploads
from api.service.auth import Principal
from api.service.errors import ApiError
from api.service.models import Batch
from api.service.rollups import Filters
from api.service.schemas_batches import BatchList
from api.service.settings import Settings

#: The batch list shows the newest this many (the API pages through all of them).
LIST_LIMIT: Final = 200
#: The dashboard exports what a person opens in a spreadsheet.
EXPORT_FORMATS: Final = ("csv", "xlsx")


def _principal(principal: Principal | None) -> Principal:
    if principal is None:
        raise ApiError("E401_unauthorized", "Sign in with an API key.")
    return principal


def list_batches(session: Session, principal: Principal | None) -> list[Batch]:
    found, _total = batches.list_batches(session, _principal(principal), limit=LIST_LIMIT)
    return found


def batches_json(session: Session, principal: Principal | None) -> dict[str, Any]:
    found, total = batches.list_batches(session, _principal(principal), limit=LIST_LIMIT)
    listing = BatchList(
        batches=[batches.batch_public(b) for b in found], total=total, limit=LIST_LIMIT, offset=0
    )
    return listing.model_dump(mode="json")


def get_batch(session: Session, principal: Principal | None, batch_id: str) -> Batch:
    return batches.get_batch(session, _principal(principal), batch_id)


def finished_rollup(
    settings: Settings, session: Session, principal: Principal | None, batch_id: str
) -> tuple[Batch, pd.DataFrame]:
    """The caller's batch and its rollup frame: what every page of a finished batch reads
    (E404 for another key's batch, E409 before it is done)."""
    batch = get_batch(session, principal, batch_id)
    return batch, batches.rollup_of(settings, batch)


def _iso_date(value: str | None, name: str) -> date | None:
    if not value:
        return None  # an emptied date input
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(
            "E422_validation_failed",
            f"{name}={value!r} is not an ISO date (YYYY-MM-DD).",
            errors=[{"loc": ["query", name], "msg": "expected YYYY-MM-DD"}],
        ) from None


def parse_filters(
    frame: pd.DataFrame,
    raw_filters: list[str] | None,
    date_from: str | None,
    date_to: str | None,
    *,
    topic: str | None = None,
    sentiment: str | None = None,
    polarity: str | None = None,
) -> Filters:
    """The query string's filters, parsed as the API parses them; an "All" choice (empty
    value) is no filter."""
    return batches.parse_filters(
        frame,
        [raw for raw in raw_filters or [] if raw],
        date_from=_iso_date(date_from, "date_from"),
        date_to=_iso_date(date_to, "date_to"),
        topic=topic or None,
        sentiment=sentiment or None,
        polarity=polarity or None,
    )


def breakdown(frame: pd.DataFrame, filters: Filters) -> dict[str, Any]:
    return rollups.breakdown(frame, filters)


def columns(frame: pd.DataFrame) -> dict[str, Any]:
    return rollups.column_values(frame)


def comments(
    settings: Settings,
    session: Session,
    batch: Batch,
    filters: Filters,
    *,
    q: str | None,
    sort: str | None,
    page: int,
    page_size: int,
) -> dict[str, Any]:
    sort = sort or "row"
    if sort not in ("row", "detractor", "score"):
        raise ApiError(
            "E422_validation_failed",
            f"sort={sort!r} is not one of row, detractor, score.",
            errors=[{"loc": ["query", "sort"], "msg": "must be one of row, detractor, score"}],
        )
    found = batches.comments_page(
        settings,
        session,
        batch,
        filters,
        q=q or None,
        sort=sort,
        page=max(page, 1),
        page_size=min(max(page_size, 1), batches.MAX_PAGE_SIZE),
    )
    return found.model_dump(mode="json")


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    fallback = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def export(
    settings: Settings,
    sessions: sessionmaker[Session],
    batch: Batch,
    filters: Filters,
    fmt: str,
) -> Response:
    """The filtered rows as CSV (UTF-8 with BOM) or XLSX: the API's results export."""
    if fmt not in EXPORT_FORMATS:
        raise ApiError("E404_not_found", f"No export format {fmt!r}; use csv or xlsx.")
    result = batches.export_results(settings, sessions, batch, filters, fmt)
    headers = {"Content-Disposition": content_disposition(result.filename)}
    if result.path is not None:
        return FileResponse(
            result.path,
            media_type=result.media_type,
            headers=headers,
            background=BackgroundTask(result.path.unlink, missing_ok=True),
        )
    assert result.chunks is not None
    return StreamingResponse(result.chunks, media_type=result.media_type, headers=headers)


async def create_batch(
    request: Request, settings: Settings, session: Session, principal: Principal
) -> Batch:
    """The upload form's post: streamed to disk under the upload limit, then checked, stored
    and queued by the API's own ``batches.create_batch``."""
    batch_id = batches.new_batch_id()
    received = await uploads.receive_upload(
        request.headers.get("content-type"),
        request.headers.get("content-length"),
        request.stream(),
        batches.upload_part_path(settings, batch_id),
        settings.max_upload_bytes,
    )
    form = uploads.batch_form(received)
    return await run_in_threadpool(
        lambda: batches.create_batch(
            settings,
            session,
            principal,
            batch_id=batch_id,
            upload=received.path,
            filename=received.filename,
            form=form,
        )
    )
