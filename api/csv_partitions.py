"""Cutting a CSV file into byte ranges of whole records, so workers can read it in parallel.

Comments often hold line breaks inside quoted cells, so ranges end where Python's csv parser
ends a record, never at an arbitrary newline (which is what Dask's ``read_csv`` with a block
size would do). Each range is then parsed on its own, with the header's column names.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from api.tabular import detect_encoding
from nlp.errors import EmptyInputError, EncodingError, MalformedFileError, MissingColumnError

#: Rows per partition: a few seconds of work, so scheduling costs nothing and no worker is left
#: with a long last partition while the others idle; memory stays far under a gigabyte.
PARTITION_ROWS: Final = 10_000


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """Where the records of a CSV file start and end, so partitions can be read in parallel."""

    encoding: str
    separator: str
    columns: list[str]
    #: Byte ranges ``[start, end)`` holding whole records, and the record count of each.
    ranges: list[tuple[int, int]]
    rows: list[int]


def _lines_with_offsets(
    handle: io.BufferedReader, encoding: str, position: list[int]
) -> Iterator[str]:
    for line in handle:
        position[0] += len(line)
        yield line.decode(encoding)


def csv_layout(path: Path, text_column: str, partition_rows: int = PARTITION_ROWS) -> CsvLayout:
    """Split ``path`` into ranges of ``partition_rows`` records, streaming it once."""
    encoding = detect_encoding(path)
    if encoding == "utf-16":
        raise EncodingError(
            f"{path.name} is UTF-16; --engine dask reads UTF-8 or Windows-1258 CSV. "
            "Re-save it as UTF-8 (Excel: 'CSV UTF-8') or use the default engine.",
            path=str(path),
        )
    separator = "\t" if path.suffix.lower() == ".tsv" else ","
    line_encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    position = [0]
    with path.open("rb") as handle:
        if encoding == "utf-8-sig":
            position[0] = len(handle.read(3))
        records = csv.reader(
            _lines_with_offsets(handle, line_encoding, position), delimiter=separator
        )
        header_start = position[0]
        try:
            if next(records, None) is None:
                raise EmptyInputError(f"{path.name} is empty.", path=str(path))
            header_end = position[0]
            ranges: list[tuple[int, int]] = []
            rows: list[int] = []
            start, count = header_end, 0
            for _ in records:
                count += 1
                if count == partition_rows:
                    ranges.append((start, position[0]))
                    rows.append(count)
                    start, count = position[0], 0
        except csv.Error as exc:
            raise MalformedFileError(
                f"{path.name} is not well-formed CSV: {exc}", path=str(path)
            ) from exc
        if count:
            ranges.append((start, position[0]))
            rows.append(count)
    # pandas names the columns (it renames duplicates), exactly as the default engine does.
    with path.open("rb") as handle:
        handle.seek(header_start)
        header = handle.read(header_end - header_start)
    columns = [
        str(c)
        for c in pd.read_csv(io.BytesIO(header), sep=separator, encoding=line_encoding).columns
    ]
    if text_column not in columns:
        raise MissingColumnError(
            f"Column {text_column!r} not found in {path.name}; available: {', '.join(columns)}",
            column=text_column,
            available=columns,
        )
    if not ranges:
        raise EmptyInputError(f"{path.name} has a header but no rows.", path=str(path))
    return CsvLayout(encoding, separator, columns, ranges, rows)


def read_csv_range(
    byte_range: tuple[int, int], path: str, encoding: str, separator: str, columns: list[str]
) -> pd.DataFrame:
    """The records in ``byte_range`` of ``path``, every cell a string (as the default engine)."""
    start, end = byte_range
    with Path(path).open("rb") as handle:
        handle.seek(start)
        data = handle.read(end - start)
    frame = pd.read_csv(
        io.BytesIO(data),
        header=None,
        names=columns,
        sep=separator,
        encoding="utf-8" if encoding == "utf-8-sig" else encoding,
        dtype=str,
        keep_default_na=False,
    )
    if encoding == "cp1258":
        # Windows-1258 stores tone marks as combining characters; users expect NFC text.
        frame = frame.map(lambda cell: unicodedata.normalize("NFC", cell))
    return frame
