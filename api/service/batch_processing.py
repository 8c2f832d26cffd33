"""Processing one batch: read the upload in chunks, analyse, store, and roll up at the end.

Exactly once, across crashes: each chunk's rows are inserted together with the batch's new
``rows_done`` in one transaction, and that update only applies if ``rows_done`` still holds the
value this processor started the chunk from. A restarted (or concurrent, duplicate) processor
skips the rows already stored and continues; ``(batch_id, row_no)`` is the primary key, so a row
can never be stored twice. A row that cannot be used in full is stored with its analysis and an
error (an unreadable score or date), or with an error alone if the analyser failed on it; the
rest of the batch completes.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

import numpy as np
import pandas as pd
from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.service.models import Batch, BatchRow, utcnow
from api.service.rollups import Filters, breakdown, finish_rollup, part_frame, write_part
from api.service.settings import Settings
from api.tabular import read_chunks
from nlp.analyzer import Analyzer
from nlp.errors import DateParseError, ScoreRangeError, VicxError
from nlp.nps import SCALE_RANGES
from nlp.pii import redact
from nlp.result import RESULT_FIELDS

logger = logging.getLogger(__name__)

QUEUED: Final = "queued"
RUNNING: Final = "running"
DONE: Final = "done"
FAILED: Final = "failed"
FINISHED: Final = (DONE, FAILED)
#: Code of a row the analyser raised on (a bug: logged, the row keeps no result).
ROW_ANALYSIS_FAILED: Final = "E500_internal"
#: How often a processor re-reads its position after losing a race before giving up.
MAX_RESYNCS: Final = 20
_TEXT: Final = "text"
_ROWS: Final = cast(Table, BatchRow.__table__)
_JSON_COLUMNS: Final = frozenset({"meta", "result"})
_BATCHES: Final = cast(Table, Batch.__table__)
_ISO_DATE: Final = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")
_DAY_FIRST: Final = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:[ T].*)?$")


def never() -> bool:
    return False


@dataclass
class BatchContext:
    """What processing needs: settings, database sessions and the analyser.

    ``pool`` (an ``nlp.parallel.AnalyzerPool``, entered) replaces ``analyzer`` for the bulk of
    the work when ``settings.batch_jobs > 1``; ``analyzer`` still isolates a failing chunk row
    by row. ``analyzer`` may be None: it is loaded on first use.
    """

    settings: Settings
    sessions: sessionmaker[Session]
    analyzer: Analyzer | None = None
    pool: Any | None = None
    #: Told how many rows each stored chunk held (the service's Prometheus counter).
    on_rows: Callable[[int], None] | None = None

    def local_analyzer(self) -> Analyzer:
        if self.analyzer is None:
            self.analyzer = Analyzer.load(self.settings.model_dir)
        return self.analyzer


@dataclass(frozen=True)
class BatchJob:
    """A snapshot of the batch fields processing reads (no session attached)."""

    id: str
    path: Path
    filename: str
    file_format: str
    text_column: str
    score_column: str | None
    score_scale: str | None
    date_column: str | None
    metadata_columns: tuple[str, ...]

    @classmethod
    def of(cls, batch: Batch) -> BatchJob:
        return cls(
            id=batch.id,
            path=Path(batch.upload_path),
            filename=batch.filename,
            file_format=batch.file_format,
            text_column=batch.text_column,
            score_column=batch.score_column,
            score_scale=batch.score_scale,
            date_column=batch.date_column,
            metadata_columns=tuple(batch.metadata_columns or ()),
        )


@dataclass
class Chunk:
    first_row: int  # 1-based number of the chunk's first data row
    frame: pd.DataFrame
    text_column_name: str = _TEXT

    @property
    def texts(self) -> list[Any]:
        return self.frame[self.text_column_name].tolist()


class _PositionLostError(Exception):
    """Another processor stored rows of this batch first; re-read the position."""


# --- cells -------------------------------------------------------------------------------------


def _blank(values: pd.Series) -> np.ndarray:
    text = values.astype("str").str.strip()
    return (values.isna() | text.eq("") | text.str.lower().isin(["nan", "none"])).to_numpy(
        dtype=bool
    )


def parse_scores(values: pd.Series, scale: str) -> tuple[list[float | None], list[str | None]]:
    """Scores as floats (None when blank) and, per row, why a score could not be used.

    >>> parse_scores(pd.Series(["9", "", "11", "tốt"]), "nps")[1][2:]
    ['score 11 is not a whole number from 0 to 10 (nps)', "score 'tốt' is not a number"]
    """
    low, high = SCALE_RANGES[scale]
    blank = _blank(values)
    text = values.astype("str").str.strip().str.replace(",", ".", regex=False)
    numeric = pd.to_numeric(text.where(~blank), errors="coerce").to_numpy(dtype=np.float64)
    whole = np.isfinite(numeric) & (numeric == np.floor(numeric))
    valid = whole & (numeric >= low) & (numeric <= high)
    scores: list[float | None] = []
    problems: list[str | None] = []
    for i, value in enumerate(values.tolist()):
        if blank[i]:
            scores.append(None)
            problems.append(None)
        elif valid[i]:
            scores.append(float(numeric[i]))
            problems.append(None)
        else:
            scores.append(None)
            if np.isnan(numeric[i]):
                problems.append(f"score {value!r} is not a number")
            else:
                shown = int(numeric[i]) if whole[i] else numeric[i]
                problems.append(
                    f"score {shown} is not a whole number from {low} to {high} ({scale})"
                )
    return scores, problems


def parse_dates(values: pd.Series) -> tuple[list[str | None], list[str | None]]:
    """ISO dates (``yyyy-mm-dd``) and, per row, why a date could not be read.

    ``yyyy-mm-dd`` (also with ``/`` or ``.``, with a time after it) and Vietnamese
    ``dd/mm/yyyy`` are read directly; anything else goes through pandas' parser, day first.

    >>> parse_dates(pd.Series(["2026-10-05", "05/10/2026", "", "hôm qua"]))
    (['2026-10-05', '2026-10-05', None, None], [None, None, None, "date 'hôm qua' is not a date"])
    """
    blank = _blank(values)
    text = values.astype("str").str.strip()
    # Fast path for the usual case, a plain ISO date; the other spellings go row by row below.
    parsed = pd.Series(
        pd.to_datetime(text, format="%Y-%m-%d", errors="coerce").to_numpy(dtype="datetime64[us]"),
        index=values.index,
    )
    rest = (parsed.isna() & ~blank).to_numpy()
    if rest.any():
        parsed[rest] = _other_dates(text[rest]).to_numpy()
    iso_text = parsed.dt.strftime("%Y-%m-%d").tolist()
    missing = parsed.isna().to_numpy()
    dates: list[str | None] = []
    problems: list[str | None] = []
    for i, value in enumerate(values.tolist()):
        if blank[i]:
            dates.append(None)
            problems.append(None)
        elif missing[i]:
            dates.append(None)
            problems.append(f"date {value!r} is not a date")
        else:
            dates.append(str(iso_text[i]))
            problems.append(None)
    return dates, problems


def _other_dates(text: pd.Series) -> pd.Series:
    """yyyy-mm-dd with other separators or a time, dd/mm/yyyy, then pandas' guess (day first)."""
    iso = text.str.extract(_ISO_DATE).astype("float64")
    dmy = text.str.extract(_DAY_FIRST).astype("float64")
    use_iso = iso[0].notna()
    use_dmy = ~use_iso & dmy[0].notna()
    parts = pd.DataFrame(
        {
            "year": iso[0].where(use_iso, dmy[2].where(use_dmy)),
            "month": iso[1].where(use_iso, dmy[1].where(use_dmy)),
            "day": iso[2].where(use_iso, dmy[0].where(use_dmy)),
        }
    )
    known = parts.notna().all(axis=1).to_numpy()
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    if known.any():
        parsed[known] = pd.to_datetime(parts[known].astype("int64"), errors="coerce")
    if (~known).any():
        # Rare spellings ("5 Oct 2026"); utc=True accepts mixed offsets, the date is kept.
        guessed = pd.to_datetime(
            text[~known], errors="coerce", format="mixed", dayfirst=True, utc=True
        )
        parsed[~known] = guessed.dt.tz_localize(None).to_numpy()
    return parsed


def _meta_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _stored_text(value: Any, redact: Callable[[str], str] | None) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = unicodedata.normalize("NFC", value if isinstance(value, str) else str(value))
    return redact(text) if redact is not None else text


def pii_redactor(enabled: bool) -> Callable[[str], str] | None:
    """``nlp.pii.redact`` when redaction is on: stored texts lose phones, e-mails, ID numbers."""
    return redact if enabled else None


def _frame_results(frame: pd.DataFrame) -> list[dict[str, Any] | None]:
    """The result dicts of an ``analyze_frame`` output (column lists zipped: faster than
    ``to_dict``); pandas turned a missing detractor probability into NaN, JSON wants None."""
    columns = [frame[name].tolist() for name in RESULT_FIELDS]
    results: list[dict[str, Any] | None] = []
    for values in zip(*columns, strict=True):
        result = dict(zip(RESULT_FIELDS, values, strict=True))
        probability = result["detractor_probability"]
        if isinstance(probability, float) and np.isnan(probability):
            result["detractor_probability"] = None
        results.append(result)
    return results


def row_records(
    job: BatchJob,
    chunk: Chunk,
    results: Sequence[dict[str, Any] | None],
    redact: Callable[[str], str] | None,
    analysis_errors: Sequence[str | None] | None = None,
) -> list[dict[str, Any]]:
    """The ``batch_rows`` records of one analysed chunk."""
    frame = chunk.frame
    size = len(frame)
    blank = pd.Series([""] * size, index=frame.index, dtype="object")
    scores: list[float | None] = [None] * size
    score_problems: list[str | None] = [None] * size
    if job.score_column and job.score_scale:
        raw = frame.get(job.score_column, blank)
        scores, score_problems = parse_scores(raw, job.score_scale)
    dates: list[str | None] = [None] * size
    date_problems: list[str | None] = [None] * size
    if job.date_column:
        raw = frame.get(job.date_column, blank)
        dates, date_problems = parse_dates(raw)
    columns = job.metadata_columns
    metas = [
        {column: _meta_cell(value) for column, value in zip(columns, values, strict=True)}
        for values in _meta_values(frame, columns)
    ]
    texts = frame[job.text_column].tolist() if job.text_column in frame else [None] * size
    records = []
    for i in range(size):
        result = results[i]
        codes: list[tuple[str, str]] = []
        if analysis_errors is not None and analysis_errors[i]:
            codes.append((ROW_ANALYSIS_FAILED, analysis_errors[i] or ""))
        if score_problems[i]:
            codes.append((ScoreRangeError.code, score_problems[i] or ""))
        if date_problems[i]:
            codes.append((DateParseError.code, date_problems[i] or ""))
        records.append(
            {
                "batch_id": job.id,
                "row_no": chunk.first_row + i,
                "text": _stored_text(texts[i], redact),
                "sentiment": result["sentiment"] if result else None,
                "topics": ";".join(result["topics"]) if result else None,
                "detractor_probability": result["detractor_probability"] if result else None,
                "score": scores[i],
                "date": dates[i],
                "meta": metas[i],
                "result": result,
                "error_code": codes[0][0] if codes else None,
                "error_message": "; ".join(message for _, message in codes) if codes else None,
            }
        )
    return records


def _meta_values(frame: pd.DataFrame, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """Per row, the metadata cells in ``columns`` order (JSONL rows may lack keys: empty)."""
    present = [frame[c].tolist() if c in frame else [None] * len(frame) for c in columns]
    return zip(*present, strict=True) if present else iter([()] * len(frame))


# --- analysis ----------------------------------------------------------------------------------


def _result_dicts(results: Sequence[Any]) -> list[dict[str, Any] | None]:
    # A shallow dict per Result: dataclasses.asdict deep-copies and costs more than analysis.
    return [{name: getattr(r, name) for name in RESULT_FIELDS} for r in results]


def analyse_isolated(
    analyzer: Analyzer, texts: Sequence[Any]
) -> tuple[list[dict[str, Any] | None], list[str | None]]:
    """Analyse a chunk; if the analyser raises, analyse row by row and report the rows it
    raised on instead of losing the chunk."""
    try:
        return _result_dicts(analyzer.analyze(texts)), [None] * len(texts)
    except VicxError:
        raise
    except Exception:
        logger.exception("analysis of a chunk failed; retrying row by row")
    results: list[dict[str, Any] | None] = []
    errors: list[str | None] = []
    for text in texts:
        try:
            results.extend(_result_dicts(analyzer.analyze([text])))
            errors.append(None)
        except VicxError:
            raise
        except Exception as exc:
            logger.exception("analysis failed on one row")
            results.append(None)
            errors.append(f"analysis failed: {type(exc).__name__}: {exc}")
    return results, errors


Analysed = tuple[Chunk, list[dict[str, Any] | None], list[str | None]]


def _analysed(context: BatchContext, chunks: Iterator[Chunk]) -> Iterator[Analysed]:
    if context.pool is None:
        analyzer = context.local_analyzer()
        for chunk in chunks:
            yield chunk, *analyse_isolated(analyzer, chunk.texts)
        return
    yield from _pooled(context, chunks)


def _pooled(context: BatchContext, chunks: Iterator[Chunk]) -> Iterator[Analysed]:
    """Chunks through the process pool, in order; a chunk the pool fails on is redone here."""
    in_flight: deque[Chunk] = deque()

    def feed(source: Iterator[Chunk]) -> Iterator[pd.DataFrame]:
        for chunk in source:
            in_flight.append(chunk)
            yield pd.DataFrame({_TEXT: chunk.frame[chunk.text_column_name].to_numpy(dtype=object)})

    source: Iterator[Chunk] = chunks
    while True:
        try:
            for frame in context.pool.map_frames(feed(source), _TEXT):  # type: ignore[union-attr]
                chunk = in_flight.popleft()
                yield chunk, _frame_results(frame), [None] * len(chunk.frame)
            return
        except VicxError:
            raise
        except Exception:
            logger.exception("the analyser pool failed on a chunk; analysing it here")
            failed = in_flight.popleft()
            yield failed, *analyse_isolated(context.local_analyzer(), failed.texts)
            source = itertools.chain(list(in_flight), source)
            in_flight.clear()


# --- the loop ----------------------------------------------------------------------------------


def pending_chunks(job: BatchJob, chunk_rows: int, done: int) -> Iterator[Chunk]:
    """The file's rows after the first ``done``, in chunks of at most ``chunk_rows``."""
    offset = 0
    for frame in read_chunks(job.path, job.text_column, chunk_rows=chunk_rows):
        size = len(frame)
        if offset + size > done:
            skip = max(done - offset, 0)
            part = frame.iloc[skip:].reset_index(drop=True)
            yield Chunk(first_row=offset + skip + 1, frame=part, text_column_name=job.text_column)
        offset += size


def exact_row_count(job: BatchJob) -> int | None:
    """Data rows of a CSV/JSONL upload (quoted cells may hold line breaks, so lines are not
    rows); None for XLSX, whose sheet is read only once, by the processing itself."""
    if job.file_format == "xlsx":
        return None
    return sum(len(frame) for frame in read_chunks(job.path, job.text_column, chunk_rows=50_000))


def process_batch(
    context: BatchContext, batch_id: str, should_stop: Callable[[], bool] = never
) -> str:
    """Process (or resume) a batch; returns its status afterwards.

    Returns early, with the batch still ``running``, when ``should_stop()`` turns true between
    chunks (a shutdown): the next consumer resumes it.
    """
    for _ in range(MAX_RESYNCS):
        try:
            return _process(context, batch_id, should_stop)
        except _PositionLostError:
            logger.info("batch %s: another processor stored rows first; resuming", batch_id)
    raise RuntimeError(f"batch {batch_id}: lost its position {MAX_RESYNCS} times in a row")


def _process(context: BatchContext, batch_id: str, should_stop: Callable[[], bool]) -> str:
    with context.sessions() as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            return "deleted"
        if batch.status in FINISHED:
            return batch.status
        job = BatchJob.of(batch)
        done = batch.rows_done
        first_start = batch.status == QUEUED
    try:
        if first_start:
            _start(context, job)
        redact = pii_redactor(context.settings.redact_pii)
        chunks = pending_chunks(job, context.settings.batch_chunk_rows, done)
        for chunk, results, errors in _analysed(context, chunks):
            records = row_records(job, chunk, results, redact, errors)
            _store(context, job.id, records, done)
            done += len(records)
            _write_part(context.settings, job, chunk.first_row, records)
            if context.on_rows is not None:
                context.on_rows(len(records))
            if should_stop():
                logger.info("batch %s: stopping after row %d; it resumes on restart", job.id, done)
                return RUNNING
        return _finish(context, job)
    except _PositionLostError:
        raise
    except VicxError as error:
        logger.warning("batch %s failed: %s", job.id, error)
        # The readers name the stored file; the client knows its own file name.
        message = error.message.replace(str(job.path), job.filename)
        return _fail(context, job.id, error.code, message.replace(job.path.name, job.filename))
    except Exception as error:
        logger.exception("batch %s failed", job.id)
        return _fail(context, job.id, "E500_internal", f"{type(error).__name__}: {error}")


def _start(context: BatchContext, job: BatchJob) -> None:
    total = exact_row_count(job)
    with context.sessions.begin() as session:
        values: dict[str, Any] = {"status": RUNNING, "started_at": utcnow()}
        if total is not None:
            values["rows_total"] = total
        session.execute(
            update(Batch).where(Batch.id == job.id, Batch.status == QUEUED).values(**values)
        )


def _store(context: BatchContext, batch_id: str, records: list[dict[str, Any]], done: int) -> None:
    """Insert a chunk's rows and move ``rows_done`` from ``done`` in one transaction."""
    failed = sum(1 for r in records if r["error_code"] is not None)
    try:
        with context.sessions.begin() as session:
            _insert_rows(session, records)
            moved = session.execute(
                update(_BATCHES)
                .where(_BATCHES.c.id == batch_id, _BATCHES.c.rows_done == done)
                .values(rows_done=done + len(records), rows_failed=_BATCHES.c.rows_failed + failed)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                raise _PositionLostError
    except IntegrityError as error:
        raise _PositionLostError from error


def _insert_rows(session: Session, records: list[dict[str, Any]]) -> None:
    """One executemany of the chunk, its JSON columns serialised here: SQLAlchemy's per-row
    parameter processing costs more than SQLite's insert itself. ``None`` is SQL NULL."""
    connection = session.connection()
    compiled = insert(_ROWS).compile(dialect=connection.dialect)
    names = [column.name for column in _ROWS.columns]

    def value(record: dict[str, Any], name: str) -> Any:
        cell = record[name]
        if name in _JSON_COLUMNS and cell is not None:
            return json.dumps(cell, ensure_ascii=False)
        return cell

    if compiled.positional:
        order = compiled.positiontup or names
        rows: list[Any] = [tuple(value(r, name) for name in order) for r in records]
    else:
        rows = [{name: value(r, name) for name in names} for r in records]
    connection.exec_driver_sql(compiled.string, rows)


def _write_part(
    settings: Settings, job: BatchJob, first_row: int, records: list[dict[str, Any]]
) -> None:
    """The chunk's rollup part; if it cannot be written the rows are read back at the end."""
    try:
        write_part(settings, job.id, first_row, part_frame(records, job.metadata_columns))
    except OSError:
        logger.exception("batch %s: rollup part of row %d not written", job.id, first_row)


def _finish(context: BatchContext, job: BatchJob) -> str:
    settings = context.settings
    with context.sessions() as session:
        batch = session.get(Batch, job.id)
        if batch is None:
            return "deleted"
        stored = session.scalar(
            select(func.count()).select_from(BatchRow).where(BatchRow.batch_id == job.id)
        )
        if stored != batch.rows_done:
            raise RuntimeError(f"batch {job.id}: {stored} rows stored, rows_done {batch.rows_done}")
        frame = finish_rollup(settings, session, batch)
        summary = breakdown(frame, Filters())
    with context.sessions.begin() as session:
        session.execute(
            update(Batch)
            .where(Batch.id == job.id)
            .values(
                status=DONE,
                summary=summary,
                rows_total=Batch.rows_done,
                finished_at=utcnow(),
                error_code=None,
                error_message=None,
            )
        )
    logger.info("batch %s done: %d rows", job.id, len(frame))
    return DONE


def _fail(context: BatchContext, batch_id: str, code: str, message: str) -> str:
    with context.sessions.begin() as session:
        session.execute(
            update(Batch)
            .where(Batch.id == batch_id)
            .values(status=FAILED, error_code=code, error_message=message, finished_at=utcnow())
        )
    return FAILED
