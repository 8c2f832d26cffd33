"""Source-corpus aspect labels mapped to the 7 Ps, from ``data/aspect_mapping.toml``.

The TOML file documents every decision; this module only applies it. Used by training and
evaluation code, never at run time.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from nlp.corpora import CorpusRecord
from nlp.errors import DataError
from nlp.paths import project_data_dir

MAPPING_FILE: Final = "aspect_mapping.toml"
#: The label names no P (an overall verdict).
NO_TOPIC: Final = "none"
#: The label mixes several Ps: records carrying it are left out.
UNRESOLVED: Final = "unresolved"


@dataclass(frozen=True, slots=True)
class MappedRecord:
    """A corpus record's 7P labels. ``topics[p]`` is the polarity, or None when unknown."""

    text: str
    topics: Mapping[str, str | None]


def load_mapping(
    topics: Sequence[str], path: Path | None = None
) -> Mapping[str, Mapping[str, str]]:
    """``{corpus: {source label: topic | "none" | "unresolved"}}``, validated against ``topics``."""
    return _load((path or project_data_dir() / MAPPING_FILE).resolve(), tuple(topics))


@functools.cache
def _load(path: Path, topics: tuple[str, ...]) -> Mapping[str, Mapping[str, str]]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"Cannot read the aspect mapping {path}: {exc}", path=str(path)) from exc
    valid = {*topics, NO_TOPIC, UNRESOLVED}
    mapping: dict[str, dict[str, str]] = {}
    for corpus, table in document.items():
        if not isinstance(table, dict):
            raise DataError(f"{path.name}: [{corpus}] must be a table", path=str(path))
        for label, target in table.items():
            if target not in valid:
                raise DataError(
                    f"{path.name}: {corpus} {label} -> {target!r}; valid: {sorted(valid)}",
                    path=str(path),
                )
        mapping[corpus] = {str(k): str(v) for k, v in table.items()}
    return mapping


def map_record(record: CorpusRecord, labels: Mapping[str, str]) -> MappedRecord | None:
    """The record's 7P labels, or None when one of its labels is unresolved or unmapped."""
    polarities: dict[str, set[str | None]] = {}
    for aspect in record.aspects:
        target = labels.get(aspect.label)
        if target is None or target == UNRESOLVED:
            return None
        if target != NO_TOPIC:
            polarities.setdefault(target, set()).add(aspect.polarity)
    topics = {
        topic: next(iter(found)) if len(found) == 1 else None for topic, found in polarities.items()
    }
    return MappedRecord(record.text, topics)
