"""Markdown tables for the evaluation, benchmark and model-card reports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table: a header line, a ``|---|`` separator per column, one line per row.

    Cells are rendered with ``str()`` and not escaped, so format numbers before passing them
    in and keep ``|`` out of them. No trailing newline.

    >>> print(markdown_table(["name", "n", "F1"], [("gold:test", 120, f"{0.8766:.3f}")]))
    | name | n | F1 |
    |---|---|---|
    | gold:test | 120 | 0.877 |
    """
    lines = [_line(headers), "|" + "---|" * len(headers)]
    lines += [_line(row) for row in rows]
    return "\n".join(lines)


def _line(cells: Iterable[object]) -> str:
    return "| " + " | ".join(map(str, cells)) + " |"
