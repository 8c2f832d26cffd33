"""JSON Lines reading shared by the labelled sets and user files: one object per non-blank line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any


class JsonLineError(ValueError):
    """A line that is not a JSON object; callers translate it into their own catalogue error."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def json_objects(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line, 1-based like editors count."""
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise JsonLineError(line_number, f"not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise JsonLineError(line_number, "each line must be a JSON object")
        yield line_number, row
