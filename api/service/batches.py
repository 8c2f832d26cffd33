"""Batch operations as plain functions: the API routes and the dashboard call the same ones.

Each takes the settings, a session (or sessionmaker) and the caller's ``Principal``; another
key's batch is answered as not found (E404), never as forbidden, so ids do not leak.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Final, overload

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from api.service import exports
from api.service.auth import Principal
from api.service.batch_processing import DONE, FAILED
from api.service.comments import evidence_spans, read_rows, select_page
from api.service.errors import ApiError
from api.service.jobs import enqueue_batch
from api.service.models import Batch, BatchRow
from api.service.rollups import Filters, filter_mask, forget_rollup, load_rollup, metadata_columns
from api.service.schemas_batches import (
    BatchErrorPublic,
    BatchLinks,
    BatchPublic,
    CommentPage,
    CommentPublic,
    HighlightSpan,
    RowErrorPublic,
)
from api.service.settings import Settings
from api.service.uploads import BatchForm, UploadPlan, plan_upload, sanitize_filename
from nlp.analyzer import MAX_TEXT_CHARS
from nlp.errors import VicxError

logger = logging.getLogger(__name__)

#: Row errors listed in a batch's status (all of them are in the results' error columns).
ROW_ERRORS_SHOWN: Final = 100
MAX_PAGE_SIZE: Final = 200


def new_batch_id() -> str:
    return uuid.uuid4().hex


def upload_part_path(settings: Settings, batch_id: str) -> Path:
    """Where an upload is streamed before it is checked (named by id, never by the client)."""
    settings.ensure_dirs()
    return settings.uploads_dir / f"{batch_id}.part"


def save_upload(source: IO[bytes], destination: Path, max_bytes: int) -> int:
    """Copy a file-like upload (e.g. ``UploadFile.file``) to ``destination`` under the size
    limit (E413, partial file removed). For callers that already hold the bytes in a file."""
    written = 0
    try:
        with destination.open("wb") as handle:
            for block in iter(lambda: source.read(1 << 20), b""):
                written += len(block)
                if written > max_bytes:
                    raise ApiError(
                        "E413_payload_too_large",
                        f"The upload is larger than the limit of {max_bytes:,} bytes.",
                        limit_bytes=max_bytes,
                    )
                handle.write(block)
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    return written


def create_batch(
    settings: Settings,
    session: Session,
    principal: Principal,
    *,
    batch_id: str,
    upload: Path,
    filename: str,
    form: BatchForm,
) -> Batch:
    """Check an upload already on disk (``upload``, e.g. from ``upload_part_path``) with the
    columns its ``form`` names, store the batch and enqueue it. The file is moved to
    ``<id><extension>``; on any error it is deleted and the pipeline's error (E101-E106) is
    raised."""
    filename = sanitize_filename(filename)
    final = settings.uploads_dir / f"{batch_id}{Path(filename).suffix.lower()}"
    try:
        upload.replace(final)
        plan: UploadPlan = plan_upload(
            final,
            filename,
            text_column=form.text_column,
            score_column=form.score_column,
            score_scale=form.score_scale,
            date_column=form.date_column,
            metadata_columns=form.metadata_columns,
        )
    except BaseException as error:
        upload.unlink(missing_ok=True)
        final.unlink(missing_ok=True)
        if isinstance(error, VicxError):
            _speak_of_client_file(error, final, filename)
        raise
    batch = Batch(
        id=batch_id,
        owner_key_id=principal.key_id,
        name=(form.name or "")[:300] or Path(filename).stem[:300] or "batch",
        filename=filename,
        file_format=plan.file_format,
        encoding=plan.encoding,
        upload_path=str(final.resolve()),
        upload_bytes=final.stat().st_size,
        text_column=plan.text_column,
        score_column=plan.score_column,
        score_scale=plan.score_scale,
        date_column=plan.date_column,
        metadata_columns=plan.metadata_columns,
        status="queued",
        rows_total=plan.rows_estimate,
        rows_done=0,
        rows_failed=0,
    )
    session.add(batch)
    session.commit()
    try:
        enqueue_batch(settings, batch_id)
    except Exception:
        # The batch is stored as queued: the next consumer start re-enqueues it.
        logger.exception("batch %s stored but not enqueued", batch_id)
    return batch


def _speak_of_client_file(error: VicxError, stored: Path, filename: str) -> None:
    """The readers name the stored file (``<id>.csv``) and its server path; the client only
    knows its own file name, and server paths are not the client's business."""
    error.message = error.message.replace(str(stored), filename).replace(stored.name, filename)
    error.args = (error.message,)
    if "path" in error.details:
        error.details["path"] = filename


def _owned(principal: Principal) -> Any:
    if principal.key_id is None:
        return Batch.owner_key_id.is_(None)
    return Batch.owner_key_id == principal.key_id


def list_batches(
    session: Session, principal: Principal, *, limit: int = 50, offset: int = 0
) -> tuple[list[Batch], int]:
    """The caller's batches, newest first, and how many there are."""
    batches = session.scalars(
        select(Batch)
        .where(_owned(principal))
        .order_by(Batch.created_at.desc(), Batch.id)
        .limit(limit)
        .offset(offset)
    ).all()
    total = session.scalar(select(func.count()).select_from(Batch).where(_owned(principal)))
    return list(batches), int(total or 0)


def get_batch(session: Session, principal: Principal, batch_id: str) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None or batch.owner_key_id != principal.key_id:
        raise ApiError("E404_not_found", f"No batch {batch_id!r} for this key.", batch_id=batch_id)
    return batch


def require_done(batch: Batch) -> None:
    if batch.status != DONE:
        raise ApiError(
            "E409_batch_not_finished",
            f"Batch {batch.id} is {batch.status}"
            + (f" ({batch.error_code}: {batch.error_message})" if batch.status == FAILED else "")
            + "; results, breakdowns and comments exist once it is done.",
            batch_id=batch.id,
            status=batch.status,
            rows_done=batch.rows_done,
            rows_total=batch.rows_total,
        )


def delete_batch(settings: Settings, session: Session, principal: Principal, batch_id: str) -> None:
    """Remove the batch, its rows, its upload and its rollup files."""
    batch = get_batch(session, principal, batch_id)
    upload = Path(batch.upload_path)
    session.execute(delete(BatchRow).where(BatchRow.batch_id == batch_id))
    session.delete(batch)
    session.commit()
    for path in (upload, upload_part_path(settings, batch_id)):
        if settings.uploads_dir.resolve() in path.resolve().parents:
            path.unlink(missing_ok=True)
    forget_rollup(settings, batch_id)


def remove_orphan_uploads(
    settings: Settings, sessions: sessionmaker[Session], *, older_than: float
) -> list[Path]:
    """Delete upload files no batch refers to: ``.part`` files of uploads cut short by a crash,
    and files checked but never stored. Only files last written before ``older_than`` (a Unix
    time, the server's start) go, so an upload another process is streaming now is kept."""
    if not settings.uploads_dir.is_dir():
        return []
    with sessions() as session:
        kept = {Path(p).name for p in session.scalars(select(Batch.upload_path)).all()}
    removed = []
    for path in settings.uploads_dir.iterdir():
        if path.is_file() and path.name not in kept and path.stat().st_mtime < older_than:
            path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        logger.info("removed %d orphan upload file(s) with no batch", len(removed))
    return removed


def row_errors(session: Session, batch: Batch) -> tuple[list[RowErrorPublic], bool]:
    if not batch.rows_failed:
        return [], False
    found = session.execute(
        select(BatchRow.row_no, BatchRow.error_code, BatchRow.error_message)
        .where(BatchRow.batch_id == batch.id, BatchRow.error_code.is_not(None))
        .order_by(BatchRow.row_no)
        .limit(ROW_ERRORS_SHOWN + 1)
    ).all()
    errors = [
        RowErrorPublic(row_no=row_no, code=code or "", message=message or "")
        for row_no, code, message in found[:ROW_ERRORS_SHOWN]
    ]
    return errors, len(found) > ROW_ERRORS_SHOWN


@overload
def _utc(moment: datetime) -> datetime: ...
@overload
def _utc(moment: None) -> None: ...
def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were written in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def batch_public(
    batch: Batch, *, errors: tuple[list[RowErrorPublic], bool] | None = None
) -> BatchPublic:
    """The JSON the API returns for a batch (``errors`` from ``row_errors``, if wanted)."""
    base = f"/v1/batches/{batch.id}"
    total = batch.rows_total
    progress = None
    if batch.status == DONE:
        progress = 1.0
    elif total:
        progress = round(min(batch.rows_done / total, 1.0), 4)
    return BatchPublic(
        id=batch.id,
        name=batch.name,
        filename=batch.filename,
        file_format=batch.file_format,  # type: ignore[arg-type]
        encoding=batch.encoding,
        upload_bytes=batch.upload_bytes,
        text_column=batch.text_column,
        score_column=batch.score_column,
        score_scale=batch.score_scale,
        date_column=batch.date_column,
        metadata_columns=list(batch.metadata_columns or []),
        status=batch.status,  # type: ignore[arg-type]
        rows_total=total,
        rows_done=batch.rows_done,
        rows_failed=batch.rows_failed,
        progress=progress,
        error=BatchErrorPublic(code=batch.error_code, message=batch.error_message or "")
        if batch.error_code
        else None,
        row_errors=errors[0] if errors is not None else None,
        row_errors_truncated=errors[1] if errors is not None else False,
        created_at=_utc(batch.created_at),
        started_at=_utc(batch.started_at),
        finished_at=_utc(batch.finished_at),
        links=BatchLinks(
            self=base,
            results=f"{base}/results",
            breakdown=f"{base}/breakdown",
            comments=f"{base}/comments",
            columns=f"{base}/columns",
        ),
    )


# --- reading a finished batch ------------------------------------------------------------------


def rollup_of(settings: Settings, batch: Batch) -> pd.DataFrame:
    """The batch's rollup frame (E409 before it is done)."""
    require_done(batch)
    try:
        return load_rollup(settings, batch.id)
    except FileNotFoundError:
        raise ApiError(
            "E500_internal", f"Batch {batch.id} is done but its rollup is missing."
        ) from None


def parse_filters(
    frame: pd.DataFrame,
    raw_filters: list[str] | None = None,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    topic: str | None = None,
    sentiment: str | None = None,
    polarity: str | None = None,
) -> Filters:
    """Query parameters -> ``Filters`` (``filter=COLUMN:VALUE`` checked against the batch's
    metadata columns: an unknown one is E103 with the available ones)."""
    return Filters.from_query(
        raw_filters or [],
        metadata_columns(frame),
        date_from=date_from,
        date_to=date_to,
        topic=topic,
        sentiment=sentiment,
        polarity=polarity,
    )


def comments_page(
    settings: Settings,
    session: Session,
    batch: Batch,
    filters: Filters | None,
    *,
    q: str | None = None,
    sort: str = "row",
    page: int = 1,
    page_size: int = 20,
) -> CommentPage:
    """One page of comments with their evidence and highlight spans."""
    frame = rollup_of(settings, batch)
    chosen = select_page(
        settings, batch.id, frame, filters, q=q, sort=sort, page=page, page_size=page_size
    )
    items = []
    # A page shows what the Analyzer read; the whole cell stays in the results download.
    for row, text, cut in read_rows(session, batch.id, chosen.row_nos, text_limit=MAX_TEXT_CHARS):
        result = row.result or {}
        evidence = result.get("evidence") or {}
        items.append(
            CommentPublic(
                row_no=row.row_no,
                text=text,
                text_truncated=cut,
                score=row.score,
                date=row.date,
                meta={str(k): str(v) for k, v in (row.meta or {}).items()},
                sentiment=row.sentiment,  # type: ignore[arg-type]
                topics=list(result.get("topics") or []),
                topic_sentiments=dict(result.get("topic_sentiments") or {}),
                detractor_probability=row.detractor_probability,
                evidence=evidence,
                highlights=[HighlightSpan(**span) for span in evidence_spans(text, evidence)],
                result=row.result,
                error_code=row.error_code,
                error_message=row.error_message,
            )
        )
    return CommentPage(
        total=chosen.total,
        page=page,
        page_size=page_size,
        sort=sort,  # type: ignore[arg-type]
        q=q or None,
        filters=(filters or Filters()).as_dict(),
        items=items,
    )


@dataclass(frozen=True)
class Export:
    """A results file to send: ``chunks`` (CSV/JSONL, streamed) or ``path`` (XLSX, a temporary
    file the sender deletes)."""

    media_type: str
    filename: str
    chunks: Iterator[bytes] | None = None
    path: Path | None = None


def export_results(
    settings: Settings,
    sessions: sessionmaker[Session],
    batch: Batch,
    filters: Filters | None,
    fmt: str,
) -> Export:
    """The batch's results in ``fmt`` (csv, xlsx, jsonl), only the rows ``filters`` keep."""
    if fmt not in exports.FORMATS:
        raise ApiError(
            "E422_validation_failed",
            f"format={fmt!r} is not one of {', '.join(exports.FORMATS)}.",
            errors=[{"loc": ["query", "format"], "msg": f"must be one of {exports.FORMATS}"}],
        )
    require_done(batch)
    keep: np.ndarray | None = None
    if filters is not None and not filters.is_empty():
        frame = rollup_of(settings, batch)
        keep = frame["row_no"].to_numpy()[filter_mask(frame, filters)]
    rows = len(keep) if keep is not None else batch.rows_done
    media_type = exports.MEDIA_TYPES[fmt]
    filename = exports.download_name(batch, fmt)
    if fmt == "csv":
        return Export(media_type, filename, chunks=exports.csv_stream(sessions, batch, keep))
    if fmt == "jsonl":
        return Export(media_type, filename, chunks=exports.jsonl_stream(sessions, batch, keep))
    if rows > exports.XLSX_MAX_ROWS:
        raise ApiError(
            "E413_payload_too_large",
            f"{rows:,} rows do not fit in one XLSX sheet ({exports.XLSX_MAX_ROWS:,}); "
            "use format=csv or jsonl, or filter.",
            rows=rows,
            limit=exports.XLSX_MAX_ROWS,
        )
    return Export(media_type, filename, path=exports.write_xlsx(sessions, batch, keep))
