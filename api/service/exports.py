"""Batch results as CSV (UTF-8 with BOM), XLSX or JSONL, streamed in row order.

Each output row holds the row number, the input's text, score, date and metadata columns under
their own names, the result fields (flattened for CSV/XLSX exactly as ``vicx analyze`` does,
through ``api.tabular.flatten``) and the row's error, if any. Spreadsheet cells that begin with
``= + - @``, a tab or a carriage return are prefixed with a single quote, so a comment like
``=HYPERLINK(...)`` stays text in Excel instead of becoming a formula.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.service.models import Batch, BatchRow
from api.tabular import flatten
from nlp.result import RESULT_FIELDS

FORMATS: Final = ("csv", "xlsx", "jsonl")
MEDIA_TYPES: Final = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonl": "application/x-ndjson; charset=utf-8",
}
#: Rows read from the database per query while streaming.
PAGE_ROWS: Final = 5000
#: Excel's sheet limit (1,048,576 rows) minus the header row.
XLSX_MAX_ROWS: Final = 1_048_575
FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")
ROW_NO: Final = "row_no"
ERROR_CODE: Final = "error_code"
ERROR_MESSAGE: Final = "error_message"
# Characters XML 1.0 cannot hold; openpyxl refuses them.
_XML_ILLEGAL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def escape_formula(value: str) -> str:
    """Make a cell that a spreadsheet would run as a formula display as text.

    >>> escape_formula("=1+1"), escape_formula("-  giao chậm"), escape_formula("ngon")
    ("'=1+1", "'-  giao chậm", 'ngon')
    """
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _input_names(batch: Batch) -> dict[str, str]:
    """Stored field -> output column name; an input column named like an output field gets
    an ``input_`` prefix (as in ``Analyzer.analyze_frame``)."""
    taken = {*RESULT_FIELDS, ROW_NO, ERROR_CODE, ERROR_MESSAGE}

    def name(column: str) -> str:
        return f"input_{column}" if column in taken else column

    names = {"text": name(batch.text_column)}
    if batch.score_column:
        names["score"] = name(batch.score_column)
    if batch.date_column:
        names["date"] = name(batch.date_column)
    for column in batch.metadata_columns or []:
        names[f"meta:{column}"] = name(column)
    return names


def _score_value(score: float | None) -> int | float | None:
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return None
    return int(score) if float(score).is_integer() else score


#: The result fields of a row whose analysis failed.
_NO_RESULT: Final[dict[str, Any]] = {
    "sentiment": None,
    "sentiment_scores": {},
    "topics": [],
    "topic_scores": {},
    "topic_sentiments": {},
    "detractor_probability": None,
    "detractor_drivers": [],
    "evidence": {},
    "model_version": {},
    "flags": [],
}


def _columns(batch: Batch) -> list[str]:
    return [ROW_NO, *_input_names(batch).values(), *RESULT_FIELDS, ERROR_CODE, ERROR_MESSAGE]


def _records(batch: Batch, rows: list[BatchRow]) -> list[dict[str, Any]]:
    names = _input_names(batch)
    records = []
    for row in rows:
        record: dict[str, Any] = {ROW_NO: row.row_no, names["text"]: row.text}
        if "score" in names:
            record[names["score"]] = _score_value(row.score)
        if "date" in names:
            record[names["date"]] = row.date
        meta = row.meta or {}
        for column in batch.metadata_columns or []:
            record[names[f"meta:{column}"]] = meta.get(column, "")
        result = row.result or {}
        for field_name in RESULT_FIELDS:
            record[field_name] = result.get(field_name, _NO_RESULT[field_name])
        record[ERROR_CODE] = row.error_code
        record[ERROR_MESSAGE] = row.error_message
        records.append(record)
    return records


def _row_pages(
    sessions: sessionmaker[Session], batch_id: str, keep: np.ndarray | None
) -> Iterator[list[BatchRow]]:
    """Stored rows in row order, a page at a time (keyset paging on row_no), optionally only
    the row numbers in ``keep`` (sorted)."""
    last = 0
    while True:
        with sessions() as session:
            page = list(
                session.scalars(
                    select(BatchRow)
                    .where(BatchRow.batch_id == batch_id, BatchRow.row_no > last)
                    .order_by(BatchRow.row_no)
                    .limit(PAGE_ROWS)
                ).all()
            )
        if not page:
            return
        last = page[-1].row_no
        if keep is not None:
            numbers = np.fromiter((r.row_no for r in page), dtype=np.int64, count=len(page))
            wanted = np.isin(numbers, keep)
            page = [row for row, ok in zip(page, wanted, strict=True) if ok]
        if page:
            yield page


def _flat_frame(batch: Batch, rows: list[BatchRow]) -> pd.DataFrame:
    records = pd.DataFrame(_records(batch, rows), columns=_columns(batch))
    score = _input_names(batch).get("score")
    if score is not None:
        # Scores are whole numbers on every scale; without this a column with blanks is float.
        records[score] = records[score].astype("Int64")
    frame = flatten(records)
    # flatten appends result columns after the input ones; the error columns go last.
    ordered = [c for c in frame.columns if c not in (ERROR_CODE, ERROR_MESSAGE)]
    frame = frame[[*ordered, ERROR_CODE, ERROR_MESSAGE]]
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.infer_dtype(values, skipna=True) in ("string", "mixed"):
            risky = values.str.startswith(FORMULA_PREFIXES, na=False).to_numpy(dtype=bool)
            if risky.any():
                frame[column] = values.where(~risky, "'" + values.astype("str"))
    return frame


def csv_stream(
    sessions: sessionmaker[Session], batch: Batch, keep: np.ndarray | None = None
) -> Iterator[bytes]:
    """CSV bytes with a UTF-8 BOM (Excel reads Vietnamese correctly), header first."""
    yield "\ufeff".encode()
    header_done = False
    for rows in _row_pages(sessions, batch.id, keep):
        frame = _flat_frame(batch, rows)
        if not header_done:
            frame.columns = [escape_formula(str(c)) for c in frame.columns]
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, header=not header_done, quoting=csv.QUOTE_MINIMAL)
        header_done = True
        yield buffer.getvalue().encode("utf-8")
    if not header_done:
        empty = _flat_frame(batch, [])
        yield (",".join(escape_formula(str(c)) for c in empty.columns) + "\n").encode("utf-8")


def jsonl_stream(
    sessions: sessionmaker[Session], batch: Batch, keep: np.ndarray | None = None
) -> Iterator[bytes]:
    """One JSON object per row: input fields, the nested result fields, the row's error."""
    for rows in _row_pages(sessions, batch.id, keep):
        lines = [
            json.dumps(record, ensure_ascii=False, allow_nan=False)
            for record in _records(batch, rows)
        ]
        yield ("\n".join(lines) + "\n").encode("utf-8")


def write_xlsx(
    sessions: sessionmaker[Session], batch: Batch, keep: np.ndarray | None = None
) -> Path:
    """Write the workbook to a temporary file (openpyxl's write-only mode streams rows to
    disk); the caller sends and deletes it."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("results")
    header_done = False
    for rows in _row_pages(sessions, batch.id, keep):
        frame = _flat_frame(batch, rows)
        if not header_done:
            sheet.append([_xlsx_cell(escape_formula(str(c))) for c in frame.columns])
            header_done = True
        for values in frame.itertuples(index=False, name=None):
            sheet.append([_xlsx_cell(v) for v in values])
    if not header_done:
        sheet.append([escape_formula(str(c)) for c in _flat_frame(batch, []).columns])
    descriptor, name = tempfile.mkstemp(prefix="vicx-results-", suffix=".xlsx")
    os.close(descriptor)
    path = Path(name)
    workbook.save(path)
    return path


def _xlsx_cell(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return _XML_ILLEGAL.sub("", value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def download_name(batch: Batch, kind: str) -> str:
    stem = Path(batch.filename).stem or "batch"
    return f"{stem}.vicx.{kind}"
