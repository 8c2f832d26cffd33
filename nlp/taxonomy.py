"""The 7P taxonomy, read from ``data/taxonomy.toml``: names, labels, definitions, seed keywords.

The topic heads take their topic names (and their order) from here, so a team that relabels a
topic edits one data file; renaming or adding a ``name`` means retraining the topic head.

>>> [t.name for t in load_taxonomy()][:2]
['product', 'price']
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from nlp.errors import DataError
from nlp.paths import project_data_dir

TAXONOMY_FILE: Final = "taxonomy.toml"


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    label_vi: str
    label_en: str
    definition: str
    seed_keywords: tuple[str, ...]


def _topic(entry: Any, path: Path, index: int) -> Topic:
    if not isinstance(entry, dict):
        raise DataError(f"{path.name}: topic {index} is not a table", path=str(path))
    missing = [k for k in ("name", "label_vi", "label_en", "definition") if k not in entry]
    if missing:
        raise DataError(
            f"{path.name}: topic {index} lacks {', '.join(missing)}", path=str(path), index=index
        )
    return Topic(
        name=str(entry["name"]),
        label_vi=str(entry["label_vi"]),
        label_en=str(entry["label_en"]),
        definition=str(entry["definition"]),
        seed_keywords=tuple(str(k) for k in entry.get("seed_keywords", ())),
    )


@functools.cache
def _load(path: Path) -> tuple[Topic, ...]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"Cannot read the taxonomy {path}: {exc}", path=str(path)) from exc
    topics = tuple(_topic(e, path, i) for i, e in enumerate(document.get("topic", [])))
    names = [t.name for t in topics]
    if not topics or len(set(names)) != len(names):
        raise DataError(
            f"{path.name} must list at least one topic with unique names; found {names}",
            path=str(path),
        )
    return topics


def load_taxonomy(path: Path | None = None) -> tuple[Topic, ...]:
    """The topics in file order (cached per path)."""
    return _load((path or project_data_dir() / TAXONOMY_FILE).resolve())


def topic_names(path: Path | None = None) -> tuple[str, ...]:
    return tuple(t.name for t in load_taxonomy(path))
