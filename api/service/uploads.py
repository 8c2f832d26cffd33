"""Batch uploads: stream a multipart body to disk under a size limit, then check the file.

The client's file name is only ever a label: the bytes go to ``uploads_dir/<batch id>.part``
and then ``<batch id><extension>``, so a name like ``../../etc/passwd.csv`` cannot escape the
uploads folder. The file is checked (format, encoding, columns) before the batch is accepted,
with the same readers ``vicx analyze`` uses (``api.tabular``).
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import AsyncIterator, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final, cast

import anyio
import pandas as pd
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from api.service.errors import ApiError
from api.tabular import count_rows, detect_encoding, file_format, read_chunks
from nlp.errors import EmptyInputError, MalformedFileError, MissingColumnError, ScoreRangeError
from nlp.nps import SCALE_RANGES, Scale, infer_scale

#: Form fields other than the file are short strings; a bigger one is a mistake or an attack.
MAX_FIELD_BYTES: Final = 64 * 1024
MAX_FIELDS: Final = 20
#: File bytes are written in blocks this big (from the request's smaller body messages).
WRITE_BLOCK: Final = 1 << 20
#: Rows read to check the header and infer the score scale.
HEAD_ROWS: Final = 1000
MAX_FILENAME_CHARS: Final = 120
#: Every column is kept per row for filtering: 3 rows of a 10,000-column CSV took 50 s to
#: process. Survey exports have tens of columns.
MAX_COLUMNS: Final = 1000
#: Zip-bomb limits for XLSX: real sheets compress about 5-20x; the worker loads the whole sheet
#: into memory, so what it inflates to is bounded too.
XLSX_MAX_INFLATED_BYTES: Final = 1 << 30
XLSX_MAX_RATIO: Final = 100
XLSX_RATIO_FLOOR_BYTES: Final = 16 << 20
_UNSAFE_FILENAME: Final = re.compile(r"[^\w.\- ()\[\]+,]+")


def sanitize_filename(name: str | None) -> str:
    """A display-safe file name: last path component, NFC, no control or path characters.

    >>> sanitize_filename("../../etc/Khảo sát.csv")
    'Khảo sát.csv'
    >>> sanitize_filename("C:\\\\Users\\\\a\\\\..\\\\gop_y.xlsx")
    'gop_y.xlsx'
    """
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = _UNSAFE_FILENAME.sub("_", text).strip(" .")
    if len(text) > MAX_FILENAME_CHARS:
        stem, dot, suffix = text.rpartition(".")
        text = stem[: MAX_FILENAME_CHARS - len(suffix) - 1] + dot + suffix if dot else text
        text = text[:MAX_FILENAME_CHARS]
    return text or "upload"


@dataclass
class ReceivedUpload:
    """A multipart body read to the end: the file is on disk at ``path``."""

    path: Path
    filename: str
    size: int
    fields: dict[str, str] = field(default_factory=dict)


class _MultipartSink:
    """python-multipart callbacks: form fields into memory, the one file part onto disk."""

    def __init__(self, destination: Path, max_bytes: int, file_field: str) -> None:
        self.destination = destination
        self.max_bytes = max_bytes
        self.file_field = file_field
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.size = 0
        self.pending = bytearray()  # file bytes not yet written
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._part_name = ""
        self._part_is_file = False
        self._field_data = bytearray()

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self._disposition = b""
        self._part_name = ""
        self._part_is_file = False
        self._field_data = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._part_name = options.get(b"name", b"").decode("utf-8", errors="replace")
        raw_filename = options.get(b"filename")
        if raw_filename is None:
            if len(self.fields) >= MAX_FIELDS:
                raise ApiError("E400_bad_request", f"At most {MAX_FIELDS} form fields.")
            return
        if self._part_name != self.file_field or self.filename is not None:
            raise ApiError(
                "E400_bad_request",
                f"Send exactly one file, in the form field {self.file_field!r}.",
                field=self._part_name,
            )
        self._part_is_file = True
        self.filename = raw_filename.decode("utf-8", errors="replace")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part_is_file:
            self.size += end - start
            if self.size > self.max_bytes:
                raise _TooLargeError
            self.pending += data[start:end]
            return
        if len(self._field_data) + end - start > MAX_FIELD_BYTES:
            raise ApiError(
                "E413_payload_too_large",
                f"Form field {self._part_name!r} is longer than {MAX_FIELD_BYTES} bytes.",
                field=self._part_name,
            )
        self._field_data += data[start:end]

    def on_part_end(self) -> None:
        if not self._part_is_file:
            self.fields[self._part_name] = self._field_data.decode("utf-8", errors="replace")


class _TooLargeError(Exception):
    """Raised inside the parser callbacks; turned into E413 once the partial file is gone."""


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(
        "E413_payload_too_large",
        f"The upload is larger than the limit of {max_bytes:,} bytes (VICX_MAX_UPLOAD_BYTES).",
        limit_bytes=max_bytes,
    )


async def receive_upload(
    content_type: str | None,
    content_length: str | None,
    body: AsyncIterator[bytes],
    destination: Path,
    max_bytes: int,
    *,
    file_field: str = "file",
) -> ReceivedUpload:
    """Stream a ``multipart/form-data`` body: the file part to ``destination``, fields to memory.

    Stops reading as soon as the file passes ``max_bytes`` (E413) and deletes what it wrote, on
    that and on every other failure.
    """
    media_type, params = parse_options_header(content_type or "")
    if media_type != b"multipart/form-data" or b"boundary" not in params:
        raise ApiError(
            "E415_unsupported_media_type",
            "Upload the file as multipart/form-data (curl -F file=@comments.csv ...).",
            content_type=content_type,
        )
    # A declared length far above the limit is refused before a byte is stored; the form
    # fields around the file need only a few kilobytes.
    if content_length and content_length.isdigit() and int(content_length) > max_bytes + (1 << 16):
        raise _too_large(max_bytes)
    sink = _MultipartSink(destination, max_bytes, file_field)
    parser = MultipartParser(params[b"boundary"], sink.callbacks())  # type: ignore[arg-type]
    handle: IO[bytes] = destination.open("wb")
    try:
        async for message in body:
            parser.write(message)
            if len(sink.pending) >= WRITE_BLOCK:
                await anyio.to_thread.run_sync(handle.write, bytes(sink.pending))
                sink.pending.clear()
        parser.finalize()
        if sink.pending:
            await anyio.to_thread.run_sync(handle.write, bytes(sink.pending))
        handle.close()
    except BaseException as exc:
        handle.close()
        destination.unlink(missing_ok=True)
        if isinstance(exc, _TooLargeError):
            raise _too_large(max_bytes) from None
        if isinstance(exc, FormParserError):
            raise ApiError("E400_bad_request", f"Malformed multipart body: {exc}") from None
        raise
    if sink.filename is None:
        destination.unlink(missing_ok=True)
        raise ApiError(
            "E422_validation_failed",
            f"No file in the upload: send it in the form field {file_field!r}.",
            errors=[{"loc": ["body", file_field], "msg": "Field required", "type": "missing"}],
        )
    return ReceivedUpload(destination, sanitize_filename(sink.filename), sink.size, sink.fields)


@dataclass(frozen=True)
class BatchForm:
    """The upload form's fields besides the file, trimmed (empty means not given)."""

    text_column: str
    score_column: str | None = None
    score_scale: str | None = None
    date_column: str | None = None
    metadata_columns: list[str] | None = None
    name: str | None = None


def batch_form(received: ReceivedUpload) -> BatchForm:
    """Read the batch form of an upload; the API and the dashboard both post it.

    A missing ``text_column`` removes the received file and raises E422. The scale name is
    lower-cased, so " NPS " and "nps" are one scale.
    """
    fields = received.fields

    def optional(name: str) -> str | None:
        return fields.get(name, "").strip() or None

    text_column = fields.get("text_column", "").strip()
    if not text_column:
        received.path.unlink(missing_ok=True)
        raise ApiError(
            "E422_validation_failed",
            "The form field 'text_column' (the column of comments) is required.",
            errors=[{"loc": ["body", "text_column"], "msg": "Field required", "type": "missing"}],
        )
    scale = optional("score_scale")
    return BatchForm(
        text_column=text_column,
        score_column=optional("score_column"),
        score_scale=scale.lower() if scale else None,
        date_column=optional("date_column"),
        metadata_columns=split_columns(fields.get("metadata_columns")),
        name=optional("name"),
    )


# --- checking the file -----------------------------------------------------------------------


@dataclass(frozen=True)
class UploadPlan:
    """What a checked upload holds and how the batch will read it."""

    file_format: str
    encoding: str | None
    columns: list[str]
    text_column: str
    score_column: str | None
    score_scale: str | None
    date_column: str | None
    metadata_columns: list[str]
    rows_estimate: int | None


def split_columns(value: str | None) -> list[str] | None:
    """``"branch, channel"`` -> ``["branch", "channel"]``; empty or missing -> None."""
    if value is None or not value.strip():
        return None
    return [name.strip() for name in value.split(",") if name.strip()]


def _require(columns: Sequence[str], wanted: str, role: str, filename: str) -> None:
    if wanted not in columns:
        raise MissingColumnError(
            f"The {role} {wanted!r} is not in {filename}; available: {', '.join(columns)}",
            column=wanted,
            role=role,
            available=list(columns),
        )


def check_xlsx_archive(path: Path) -> None:
    """Refuse a workbook whose zip members would inflate far beyond the upload (a zip bomb).

    Reads only the zip's central directory: the declared sizes. A member that lies about its
    size cannot inflate beyond it either, since ``zipfile`` stops reading at the declared size.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise MalformedFileError(
            f"{path.name} is not a readable XLSX workbook (not a complete zip archive: {exc}).",
            path=str(path),
        ) from exc
    total = sum(member.file_size for member in members)
    worst = max(members, key=lambda m: m.file_size / max(m.compress_size, 1), default=None)
    ratio = worst.file_size / max(worst.compress_size, 1) if worst else 0.0
    if total > XLSX_MAX_INFLATED_BYTES or (
        worst is not None and worst.file_size > XLSX_RATIO_FLOOR_BYTES and ratio > XLSX_MAX_RATIO
    ):
        raise MalformedFileError(
            f"{path.name} inflates to {total:,} bytes (up to {ratio:,.0f}x compression): "
            "refused as a likely zip bomb. Save the sheet as CSV instead.",
            path=str(path),
            declared_uncompressed_bytes=total,
            max_uncompressed_bytes=XLSX_MAX_INFLATED_BYTES,
            compression_ratio=round(ratio, 1),
            max_compression_ratio=XLSX_MAX_RATIO,
        )


def _xlsx_head(path: Path, rows: int) -> tuple[pd.DataFrame, int | None]:
    """The first ``rows`` data rows of the first sheet, and the sheet's declared row count.

    Read-only openpyxl reads only what it needs, so checking a large workbook stays quick
    (``read_chunks`` loads the whole sheet, which the worker does later).
    """
    from openpyxl import load_workbook

    check_xlsx_archive(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise MalformedFileError(
            f"{path.name} is not a readable XLSX workbook ({type(exc).__name__}: {exc}).",
            path=str(path),
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        values = list(sheet.iter_rows(max_row=rows + 1, values_only=True))
        declared = sheet.max_row
    finally:
        workbook.close()
    if not values:
        raise MalformedFileError(f"{path.name} has an empty first sheet.", path=str(path))
    header = ["" if cell is None else str(cell) for cell in values[0]]
    body = [["" if cell is None else str(cell) for cell in row] for row in values[1:]]
    estimate = declared - 1 if isinstance(declared, int) and declared > 0 else None
    return pd.DataFrame(body, columns=header, dtype=object), estimate


def plan_upload(
    path: Path,
    filename: str,
    *,
    text_column: str,
    score_column: str | None = None,
    score_scale: str | None = None,
    date_column: str | None = None,
    metadata_columns: list[str] | None = None,
) -> UploadPlan:
    """Check an uploaded file the way the batch will read it, before the batch is accepted.

    ``path`` carries the extension of the client's file name (format by extension, as in the
    CLI). Raises the pipeline's input errors: E101 format, E102 encoding, E103 a missing column
    (listing the available ones), E104 empty, E105 malformed, E106 an unknown score scale.
    """
    kind = file_format(path)
    encoding = None
    if kind == "xlsx":
        head, estimate = _xlsx_head(path, HEAD_ROWS)
        _require(list(head.columns), text_column, "text column", filename)
        if head.empty:
            raise EmptyInputError(f"{filename} has a header but no rows.", path=filename)
    else:
        encoding = detect_encoding(path)
        chunks = read_chunks(path, text_column, chunk_rows=HEAD_ROWS)
        try:
            head = next(chunks)
        finally:
            cast(Generator[pd.DataFrame, None, None], chunks).close()
        estimate = count_rows(path)
    columns = [str(c) for c in head.columns]
    if len(columns) > MAX_COLUMNS:
        raise ApiError(
            "E413_payload_too_large",
            f"{filename} has {len(columns):,} columns; the limit is {MAX_COLUMNS:,}. "
            "Keep the comment column and the columns you filter on.",
            columns=len(columns),
            limit_columns=MAX_COLUMNS,
        )
    for role, column in (("score column", score_column), ("date column", date_column)):
        if column:
            _require(columns, column, role, filename)
    scale: str | None = None
    if score_column:
        scale = _scale(score_column, score_scale, head[score_column])
    reserved = {text_column, score_column, date_column}
    if metadata_columns is None:
        metadata = [c for c in columns if c not in reserved]
    else:
        for column in metadata_columns:
            _require(columns, column, "metadata column", filename)
        metadata = [c for c in dict.fromkeys(metadata_columns) if c not in reserved]
    return UploadPlan(
        file_format=kind,
        encoding=encoding,
        columns=columns,
        text_column=text_column,
        score_column=score_column or None,
        score_scale=scale,
        date_column=date_column or None,
        metadata_columns=metadata,
        rows_estimate=estimate,
    )


def _scale(column: str, requested: str | None, head: pd.Series) -> Scale:
    if requested:
        if requested not in SCALE_RANGES:
            raise ScoreRangeError(
                f"Unknown score scale {requested!r}; valid: {', '.join(SCALE_RANGES)}",
                scale=requested,
                valid=list(SCALE_RANGES),
            )
        return requested  # type: ignore[return-value]
    return infer_scale(column, head)
