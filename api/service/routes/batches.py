"""The batch routes: upload, progress, results, breakdowns, comment drill-down, columns, delete.

The work is in ``api.service.batches`` (plain functions the dashboard calls too); a route reads
its parameters, runs the blocking part in a thread and shapes the response.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from api.service import batches as ops
from api.service.deps import PrincipalDep, SettingsDep
from api.service.rollups import breakdown, column_values
from api.service.schemas import error_responses
from api.service.schemas_batches import BatchList, BatchPublic, CommentPage
from api.service.uploads import batch_form, receive_upload

router = APIRouter(tags=["batches"])
#: Largest offset a client may ask for: SQLite and PostgreSQL integers overflow beyond 64 bits
#: (an offset of 2**63 was a 500, found by the fuzzer); no batch list comes near 2**31 rows.
MAX_ROW_INDEX: Final = 2**31 - 1

FilterParam = Annotated[
    list[str],
    Query(
        alias="filter",
        description="COLUMN:VALUE on a metadata column; repeat it (same column: any value).",
        examples=["branch:Quận 1"],
    ),
]
DateFrom = Annotated[date | None, Query(description="First date kept (inclusive, ISO).")]
DateTo = Annotated[date | None, Query(description="Last date kept (inclusive, ISO).")]

UPLOAD_FORM: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "text_column"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV, TSV, XLSX or JSONL (UTF-8, UTF-8 with BOM, "
                            "UTF-16 or Windows-1258).",
                        },
                        "text_column": {"type": "string", "description": "Column of comments."},
                        "score_column": {
                            "type": "string",
                            "description": "Optional score column (NPS 0-10, CSAT 1-5, ...).",
                        },
                        "score_scale": {
                            "type": "string",
                            "enum": ["nps", "csat", "ces", "stars"],
                            "description": "Scale of score_column (default: inferred).",
                        },
                        "date_column": {"type": "string", "description": "Optional date column."},
                        "metadata_columns": {
                            "type": "string",
                            "description": "Comma-separated columns kept for filtering "
                            "(default: every other column).",
                        },
                        "name": {"type": "string", "description": "A name for the batch."},
                    },
                }
            }
        },
    }
}


def _sessions(request: Request) -> Any:
    return request.app.state.sessions


@router.post(
    "/v1/batches",
    status_code=202,
    response_model=BatchPublic,
    responses=error_responses(400, 401, 413, 415, 422, 429),
    openapi_extra=UPLOAD_FORM,
    summary="Upload a file of comments as a batch",
)
async def create_batch(
    request: Request, principal: PrincipalDep, settings: SettingsDep
) -> JSONResponse:
    """Streams the file to disk (413 beyond `max_upload_bytes`), checks its format, encoding
    and columns, stores the batch and queues it. Poll `GET /v1/batches/{id}` for progress."""
    batch_id = ops.new_batch_id()
    destination = await run_in_threadpool(ops.upload_part_path, settings, batch_id)
    received = await receive_upload(
        request.headers.get("content-type"),
        request.headers.get("content-length"),
        request.stream(),
        destination,
        settings.max_upload_bytes,
    )
    form = batch_form(received)

    def create() -> BatchPublic:
        with request.app.state.sessions() as session:
            batch = ops.create_batch(
                settings,
                session,
                principal,
                batch_id=batch_id,
                upload=received.path,
                filename=received.filename,
                form=form,
            )
            return ops.batch_public(batch)

    public = await run_in_threadpool(create)
    return JSONResponse(
        public.model_dump(mode="json"),
        status_code=202,
        headers={"Location": public.links.self},
    )


@router.get(
    "/v1/batches",
    response_model=BatchList,
    responses=error_responses(401, 422, 429),
    summary="List your batches",
)
def list_batches(
    request: Request,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_INDEX)] = 0,
) -> BatchList:
    with _sessions(request)() as session:
        found, total = ops.list_batches(session, principal, limit=limit, offset=offset)
        return BatchList(
            batches=[ops.batch_public(b) for b in found], total=total, limit=limit, offset=offset
        )


@router.get(
    "/v1/batches/{batch_id}",
    response_model=BatchPublic,
    responses=error_responses(401, 404, 429),
    summary="A batch's status, progress and row errors",
)
def get_batch(request: Request, batch_id: str, principal: PrincipalDep) -> BatchPublic:
    with _sessions(request)() as session:
        batch = ops.get_batch(session, principal, batch_id)
        return ops.batch_public(batch, errors=ops.row_errors(session, batch))


@router.delete(
    "/v1/batches/{batch_id}",
    status_code=204,
    responses=error_responses(401, 404, 429),
    summary="Delete a batch: its rows, upload and rollup",
)
def delete_batch(
    request: Request, batch_id: str, principal: PrincipalDep, settings: SettingsDep
) -> Response:
    with _sessions(request)() as session:
        ops.delete_batch(settings, session, principal, batch_id)
    return Response(status_code=204)


@router.get(
    "/v1/batches/{batch_id}/results",
    responses={
        200: {
            "content": {
                "text/csv": {},
                "application/x-ndjson": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            },
            "description": "One row per input row, in file order.",
        },
        **error_responses(401, 404, 409, 413, 422, 429),
    },
    summary="Download the results (CSV with BOM, XLSX or JSONL)",
)
def results(
    request: Request,
    batch_id: str,
    principal: PrincipalDep,
    settings: SettingsDep,
    filters: FilterParam = [],  # noqa: B006  (FastAPI copies query defaults)
    date_from: DateFrom = None,
    date_to: DateTo = None,
    fmt: Annotated[Literal["csv", "xlsx", "jsonl"], Query(alias="format")] = "csv",
) -> Response:
    """Input columns (text, score, date, metadata) plus the result fields, flattened for CSV
    and XLSX as `vicx analyze` writes them, and `error_code`/`error_message` per row. Cells a
    spreadsheet would run as formulas start with a single quote."""
    sessions = _sessions(request)
    with sessions() as session:
        batch = ops.get_batch(session, principal, batch_id)
        parsed = None
        if filters or date_from or date_to:
            parsed = ops.parse_filters(
                ops.rollup_of(settings, batch), filters, date_from=date_from, date_to=date_to
            )
        export = ops.export_results(settings, sessions, batch, parsed, fmt)
    disposition = _attachment(export.filename)
    if export.path is not None:
        return FileResponse(
            export.path,
            media_type=export.media_type,
            headers={"Content-Disposition": disposition},
            background=BackgroundTask(export.path.unlink, missing_ok=True),
        )
    assert export.chunks is not None
    return StreamingResponse(
        export.chunks, media_type=export.media_type, headers={"Content-Disposition": disposition}
    )


def _attachment(filename: str) -> str:
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


@router.get(
    "/v1/batches/{batch_id}/breakdown",
    responses=error_responses(401, 404, 409, 422, 429),
    summary="Topic x sentiment counts, NPS and driver impact, trends",
)
def get_breakdown(
    request: Request,
    batch_id: str,
    principal: PrincipalDep,
    settings: SettingsDep,
    filters: FilterParam = [],  # noqa: B006
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> dict[str, Any]:
    """Sentiment counts; per 7P topic its mentions with the overall-sentiment and the
    topic-polarity counts; with a score column NPS (95% interval), NPS per topic, driver
    impact and key drivers (box scores for CSAT/CES/stars), else the predicted detractor share
    and predicted driver impact; monthly and weekly trends with a date column. Filters select
    rows by metadata value and date range."""
    with _sessions(request)() as session:
        batch = ops.get_batch(session, principal, batch_id)
        ops.require_done(batch)
        if not (filters or date_from or date_to) and batch.summary is not None:
            return batch.summary
        frame = ops.rollup_of(settings, batch)
    parsed = ops.parse_filters(frame, filters, date_from=date_from, date_to=date_to)
    return breakdown(frame, parsed)


@router.get(
    "/v1/batches/{batch_id}/comments",
    response_model=CommentPage,
    responses=error_responses(401, 404, 409, 422, 429),
    summary="The comments behind a number, with evidence to highlight",
)
def comments(
    request: Request,
    batch_id: str,
    principal: PrincipalDep,
    settings: SettingsDep,
    topic: Annotated[str | None, Query(description="A 7P topic the comment mentions.")] = None,
    sentiment: Annotated[
        Literal["positive", "neutral", "negative"] | None, Query(description="Overall sentiment.")
    ] = None,
    polarity: Annotated[
        Literal["positive", "neutral", "negative"] | None,
        Query(description="Polarity of `topic` (of any topic when `topic` is not given)."),
    ] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text search, ignoring case and accents.")
    ] = None,
    page: Annotated[int, Query(ge=1, le=MAX_ROW_INDEX // ops.MAX_PAGE_SIZE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=ops.MAX_PAGE_SIZE)] = 20,
    sort: Annotated[
        Literal["row", "detractor", "score"],
        Query(
            description="row: file order; detractor: most likely detractors first; "
            "score: lowest score first."
        ),
    ] = "row",
    filters: FilterParam = [],  # noqa: B006
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> CommentPage:
    with _sessions(request)() as session:
        batch = ops.get_batch(session, principal, batch_id)
        frame = ops.rollup_of(settings, batch)
        parsed = ops.parse_filters(
            frame,
            filters,
            date_from=date_from,
            date_to=date_to,
            topic=topic,
            sentiment=sentiment,
            polarity=polarity,
        )
        return ops.comments_page(
            settings, session, batch, parsed, q=q, sort=sort, page=page, page_size=page_size
        )


@router.get(
    "/v1/batches/{batch_id}/columns",
    responses=error_responses(401, 404, 409, 429),
    summary="Metadata columns and their values, for filters",
)
def columns(
    request: Request, batch_id: str, principal: PrincipalDep, settings: SettingsDep
) -> dict[str, Any]:
    """Each metadata column with its most frequent values (at most 200, with row counts), the
    score column and scale, and the date range."""
    with _sessions(request)() as session:
        batch = ops.get_batch(session, principal, batch_id)
        frame = ops.rollup_of(settings, batch)
    return column_values(frame)
