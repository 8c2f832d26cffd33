"""The upload form's column preview: the columns of a file, its first rows, and a guess at which
column holds the comments, the score and the date.

The browser sends the first slice of a CSV/TSV/JSONL file (whole XLSX workbooks, which cannot be
read in part); a slice ends mid-line, so the trailing partial line is cut before reading. The
same ``api.tabular`` readers as the batch job decide the encoding and the format.
"""

from __future__ import annotations

import math
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pandas as pd

from api import tabular
from nlp.errors import EmptyInputError, MalformedFileError

PREVIEW_ROWS: Final = 5
SAMPLE_ROWS: Final = 200
#: Column names that say "this is a score" in the survey exports teams actually have.
SCORE_HINTS: Final = re.compile(r"nps|score|điểm|diem|rating|csat|ces|star|sao|rate", re.I)
DATE_HINTS: Final = re.compile(r"date|ngày|ngay|time|thời gian|created|month|tháng", re.I)


@dataclass(slots=True)
class ColumnPreview:
    filename: str
    columns: list[str]
    rows: list[list[str]]
    text_column: str | None = None
    score_column: str | None = None
    date_column: str | None = None
    numeric_columns: list[str] = field(default_factory=list)


def preview_bytes(data: bytes, filename: str, *, partial: bool) -> ColumnPreview:
    """Read the head of an upload; ``partial`` = ``data`` is only the file's first bytes."""
    kind = tabular.file_format(Path(filename))
    if partial and kind != "xlsx":
        cut = data.rfind(b"\n")
        data = data[: cut + 1] if cut >= 0 else data
    if not data.strip():
        raise EmptyInputError(f"{filename} is empty.")
    suffix = Path(filename).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="vicx-preview-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        frame = _read_head(path, kind)
    frame = frame.fillna("").astype(str)
    if frame.columns.empty:
        raise EmptyInputError(f"{filename} has no columns.")
    return _describe(frame, filename)


def _read_head(path: Path, kind: str) -> pd.DataFrame:
    try:
        if kind == "xlsx":
            return pd.read_excel(
                path, dtype=str, keep_default_na=False, nrows=SAMPLE_ROWS, engine="openpyxl"
            )
        encoding = tabular.detect_encoding(path)
        if kind == "jsonl":
            return pd.read_json(path, lines=True, dtype=False, nrows=SAMPLE_ROWS, encoding=encoding)
        return pd.read_csv(
            path,
            encoding=encoding,
            sep="\t" if path.suffix.lower() == ".tsv" else ",",
            dtype=str,
            keep_default_na=False,
            nrows=SAMPLE_ROWS,
        )
    except pd.errors.EmptyDataError as exc:
        raise EmptyInputError(f"{path.name} has no header and no rows.") from exc
    except (ValueError, pd.errors.ParserError) as exc:
        raise MalformedFileError(f"Cannot read the file: {exc}") from exc


def _describe(frame: pd.DataFrame, filename: str) -> ColumnPreview:
    columns = [str(c) for c in frame.columns]
    numeric = [c for c in columns if _numeric_share(frame[c]) >= 0.8]
    preview = ColumnPreview(
        filename=filename,
        columns=columns,
        rows=[[_short(v) for v in row] for row in frame.head(PREVIEW_ROWS).to_numpy().tolist()],
        numeric_columns=numeric,
    )
    texts = [c for c in columns if c not in numeric]
    if texts:
        lengths = {name: _mean_length(frame.iloc[:, i]) for i, name in enumerate(columns)}
        preview.text_column = max(texts, key=lambda c: (lengths[c], -columns.index(c)))
    preview.score_column = next((c for c in numeric if SCORE_HINTS.search(c)), None)
    preview.date_column = next(
        (
            c
            for c in columns
            if c != preview.text_column
            and (DATE_HINTS.search(c) or _date_share(frame[c]) >= 0.8)
            and _date_share(frame[c]) >= 0.5
        ),
        None,
    )
    return preview


def _short(value: object, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _filled(values: pd.Series) -> pd.Series:
    return values[values.str.strip() != ""]


def _numeric_share(values: pd.Series) -> float:
    filled = _filled(values)
    if filled.empty:
        return 0.0
    return float(pd.to_numeric(filled, errors="coerce").notna().mean())


def _mean_length(values: pd.Series) -> float:
    lengths = values.str.len()
    mean = float(lengths.mean()) if len(lengths) else 0.0
    return 0.0 if math.isnan(mean) else mean


def _date_share(values: pd.Series) -> float:
    filled = _filled(values)
    if filled.empty or _numeric_share(filled) == 1.0:
        return 0.0
    parsed = pd.to_datetime(filled, errors="coerce", format="mixed", dayfirst=False)
    return float(parsed.notna().mean())
