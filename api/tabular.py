"""Reading comment files (CSV, XLSX, JSONL) in chunks and writing analysed rows back out.

Input columns and order are kept; result fields are appended. CSV output carries a UTF-8 BOM so
Excel opens Vietnamese text correctly; nested fields are flattened for CSV and XLSX.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final

import pandas as pd

from nlp.errors import (
    EmptyInputError,
    EncodingError,
    MalformedFileError,
    MissingColumnError,
    UnsupportedFormatError,
)
from nlp.jsonl import JsonLineError, json_objects
from nlp.labelled import TOPICS
from nlp.result import RESULT_FIELDS, SENTIMENTS

FORMATS: Final = {
    ".csv": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
CHUNK_ROWS: Final = 5000
SNIFF_BYTES: Final = 1 << 16


def file_format(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise UnsupportedFormatError(
            f"Cannot tell the format of {path.name}: use one of {', '.join(sorted(FORMATS))}.",
            path=str(path),
            supported=sorted(FORMATS),
        ) from None


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows-1258; anything else is refused.

    Windows-1258 decodes almost any byte sequence, so it is accepted only when the bytes are
    not UTF-8, contain no NUL, and decode to text made of letters and punctuation.
    """
    head = path.read_bytes()[:SNIFF_BYTES] if path.stat().st_size <= SNIFF_BYTES else _head(path)
    # UTF-32 LE's BOM starts with UTF-16 LE's: it read as UTF-16 text full of NULs. UTF-32
    # fails the checks below (its NULs and BOM bytes), so it is refused.
    utf32 = head.startswith(codecs.BOM_UTF32_LE)
    if not utf32 and head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    if _decodes(path, encoding):
        return encoding
    if b"\x00" not in head and _looks_like_text(head.decode("cp1258", errors="replace")):
        return "cp1258"
    raise EncodingError(
        f"{path.name} is not readable text: expected UTF-8, UTF-8 with BOM, UTF-16 or "
        "Windows-1258. Re-save it as UTF-8 (Excel: 'CSV UTF-8').",
        path=str(path),
        supported=["utf-8", "utf-8-sig", "utf-16", "cp1258"],
    )


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(SNIFF_BYTES)


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _looks_like_text(sample: str) -> bool:
    if not sample:
        return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in sample)
    return "\ufffd" not in sample and printable / len(sample) > 0.97


def _require_column(columns: list[str], text_column: str, path: Path) -> None:
    if text_column not in columns:
        raise MissingColumnError(
            f"Column {text_column!r} not found in {path.name}; available: {', '.join(columns)}",
            column=text_column,
            available=columns,
        )


def read_chunks(
    path: Path, text_column: str, *, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """Yield the input as DataFrames of at most ``chunk_rows`` rows, every cell as a string.

    Column presence is checked before the first chunk is yielded, so nothing is analysed from a
    file that cannot be analysed in full.
    """
    if not path.is_file():
        raise EmptyInputError(f"{path} does not exist or is not a file.", path=str(path))
    if path.stat().st_size == 0:
        raise EmptyInputError(f"{path.name} is empty.", path=str(path))
    kind = file_format(path)
    if kind == "xlsx":
        yield from _read_xlsx(path, text_column, chunk_rows)
    elif kind == "jsonl":
        yield from _read_jsonl(path, text_column, chunk_rows)
    else:
        yield from _read_csv(path, text_column, chunk_rows)


def _read_csv(path: Path, text_column: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    encoding = detect_encoding(path)
    separator = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        # The with-block closes the file also when the caller stops iterating early.
        with pd.read_csv(
            path,
            encoding=encoding,
            sep=separator,
            dtype=str,
            keep_default_na=False,
            chunksize=chunk_rows,
        ) as reader:
            first = True
            for chunk in reader:
                if chunk.empty:
                    _require_column([str(c) for c in chunk.columns], text_column, path)
                    continue
                if encoding == "cp1258":
                    # Windows-1258 stores tone marks as combining characters; users expect NFC.
                    chunk = chunk.map(lambda cell: unicodedata.normalize("NFC", cell))
                if first:
                    _require_column([str(c) for c in chunk.columns], text_column, path)
                    first = False
                yield chunk
        if first:
            raise EmptyInputError(f"{path.name} has a header but no rows.", path=str(path))
    except pd.errors.EmptyDataError as exc:
        raise EmptyInputError(f"{path.name} has no header and no rows.", path=str(path)) from exc
    except pd.errors.ParserError as exc:
        raise MalformedFileError(
            f"{path.name} is not well-formed CSV: {exc}", path=str(path)
        ) from exc


def _read_xlsx(path: Path, text_column: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise MalformedFileError(
            f"{path.name} is not a readable XLSX workbook ({type(exc).__name__}: {exc}).",
            path=str(path),
        ) from exc
    _require_column([str(c) for c in frame.columns], text_column, path)
    if frame.empty:
        raise EmptyInputError(f"{path.name} has a header but no rows.", path=str(path))
    for start in range(0, len(frame), chunk_rows):
        yield frame.iloc[start : start + chunk_rows]


def _read_jsonl(path: Path, text_column: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    encoding = detect_encoding(path)
    rows: list[dict[str, Any]] = []
    seen_any = False
    with path.open(encoding=encoding) as handle:
        try:
            for _, row in json_objects(handle):
                if not seen_any:
                    _require_column(list(row), text_column, path)
                    seen_any = True
                rows.append(row)
                if len(rows) >= chunk_rows:
                    yield pd.DataFrame(rows)
                    rows = []
        except JsonLineError as exc:
            raise MalformedFileError(
                f"{path.name}, line {exc.line}: {exc.reason}.", path=str(path), line=exc.line
            ) from exc
    if rows:
        yield pd.DataFrame(rows)
    elif not seen_any:
        raise EmptyInputError(f"{path.name} holds no JSON rows.", path=str(path))


def count_rows(path: Path) -> int | None:
    """A cheap row estimate for the progress bar (lines; exact for JSONL and simple CSV)."""
    if file_format(path) == "xlsx":
        return None
    with path.open("rb") as handle:
        lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    return max(lines - (0 if file_format(path) == "jsonl" else 1), 0)


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _join(values: Any) -> str:
    return ";".join(str(v) for v in values) if isinstance(values, list) else ""


#: The flattened result columns that hold probabilities (float64; empty cells are NaN).
SCORE_COLUMNS: Final = frozenset(
    [f"sentiment_score_{label}" for label in SENTIMENTS]
    + [f"topic_score_{topic}" for topic in TOPICS]
    + ["detractor_probability"]
)


def flatten(frame: pd.DataFrame) -> pd.DataFrame:
    """Nested result fields -> flat columns for CSV/XLSX/Parquet.

    The result columns get the same dtypes whatever the rows (float64 scores, strings
    otherwise), so chunks and partitions with only empty texts share one schema.
    """
    flat = frame.drop(columns=[c for c in RESULT_FIELDS if c in frame.columns]).copy()
    kept = len(flat.columns)
    flat["sentiment"] = frame["sentiment"]
    for label in SENTIMENTS:
        flat[f"sentiment_score_{label}"] = [s.get(label) for s in frame["sentiment_scores"]]
    flat["topics"] = frame["topics"].map(_join)
    for topic in TOPICS:
        flat[f"topic_score_{topic}"] = [s.get(topic) for s in frame["topic_scores"]]
        flat[f"topic_sentiment_{topic}"] = [s.get(topic, "") for s in frame["topic_sentiments"]]
    flat["detractor_probability"] = frame["detractor_probability"]
    flat["detractor_drivers"] = frame["detractor_drivers"].map(_join)
    flat["evidence"] = [json.dumps(e, ensure_ascii=False) if e else "" for e in frame["evidence"]]
    flat["model_version"] = [
        ";".join(f"{k}@{v}" for k, v in versions.items()) for versions in frame["model_version"]
    ]
    flat["flags"] = frame["flags"].map(_join)
    added = flat.columns[kept:]
    return flat.astype({c: "float64" if c in SCORE_COLUMNS else "str" for c in added})


class ResultWriter:
    """Writes analysed chunks as they come (CSV and JSONL); XLSX is written once at the end.

    Rows go to ``<output>.partial`` and the file is moved into place only when the run ends
    without an error, so a failed run never leaves a half-written file where a complete one (or
    an older good one) is expected.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kind = file_format(path)
        self.partial = path.with_name(path.name + ".partial")
        self._xlsx_parts: list[pd.DataFrame] = []
        self._handle: IO[str] | None = None
        self._header_written = False

    def __enter__(self) -> ResultWriter:
        if self.kind == "csv":
            # utf-8-sig writes the BOM Excel needs to read Vietnamese as UTF-8.
            self._handle = self.partial.open("w", encoding="utf-8-sig", newline="")
        elif self.kind == "jsonl":
            self._handle = self.partial.open("w", encoding="utf-8")
        return self

    def write(self, frame: pd.DataFrame) -> None:
        if self.kind == "xlsx":
            from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

            def cell(value: Any) -> Any:
                return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

            # XML, hence XLSX, cannot hold control characters such as NUL: openpyxl refused the
            # whole file for one such cell. A spreadsheet cell simply loses them.
            self._xlsx_parts.append(flatten(frame).map(cell).rename(columns=cell))
            return
        assert self._handle is not None, "ResultWriter.write called outside its with-block"
        if self.kind == "jsonl":
            for record in frame.to_dict(orient="records"):
                # pandas turns None into NaN in numeric columns; JSON has no NaN, only null.
                clean = {key: _json_value(value) for key, value in record.items()}
                self._handle.write(
                    json.dumps(clean, ensure_ascii=False, default=str, allow_nan=False) + "\n"
                )
            return
        buffer = io.StringIO()
        separator = "\t" if self.path.suffix.lower() == ".tsv" else ","
        flatten(frame).to_csv(
            buffer,
            index=False,
            header=not self._header_written,
            sep=separator,
            quoting=csv.QUOTE_MINIMAL,
        )
        self._handle.write(buffer.getvalue())
        self._header_written = True

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        if self._handle is not None:
            self._handle.close()
        if exc_type is not None:
            self.partial.unlink(missing_ok=True)
            return
        if self.kind == "xlsx":
            frame = pd.concat(self._xlsx_parts) if self._xlsx_parts else pd.DataFrame()
            frame.to_excel(self.partial, index=False, engine="openpyxl")
        self.partial.replace(self.path)
