"""JSON Lines reading shared by the labelled sets and user files: one object per non-blank line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

# JSON can spell a lone surrogate ("\ud800"), which is not text: it cannot be encoded as UTF-8,
# so a row holding one crashed every writer. The cheap test on the raw line keeps the walk off
# ordinary rows; valid pairs ("\ud83d\ude00") are already joined into one character by then.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonLineError(ValueError):
    """A line that is not a JSON object; callers translate it into their own catalogue error."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def json_objects(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line, 1-based like editors count.

    ``NaN`` and ``Infinity``, which Python writes but JSON lacks, are read as null: as floats they
    could not be written back as JSON.
    """
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line, parse_constant=_null)
        except json.JSONDecodeError as exc:
            raise JsonLineError(line_number, f"not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise JsonLineError(line_number, "each line must be a JSON object")
        if _SURROGATE_ESCAPE.search(line):
            row = _replace_surrogates(row)
        yield line_number, row


def _null(constant: str) -> None:
    return None


def _replace_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_replace_surrogates(key): _replace_surrogates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_surrogates(item) for item in value]
    return value
