"""Locating and reading corpus files, with errors that say how to fix the path."""

from __future__ import annotations

from pathlib import Path

from nlp.errors import CorpusNotFoundError

_HINT = "Set VICX_DATA_DIR to the folder that holds the shared corpora (default ../shared/data)."


def require_file(path: Path) -> Path:
    """Return ``path`` if it is a file, else raise CorpusNotFoundError naming it."""
    if not path.is_file():
        raise CorpusNotFoundError(f"Corpus file not found: {path}. {_HINT}", path=str(path))
    return path


def read_text(path: Path) -> str:
    """The whole file as text; ``utf-8-sig`` because the VLSP releases start with a BOM."""
    return require_file(path).read_text(encoding="utf-8-sig")
