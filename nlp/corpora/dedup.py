"""De-duplication inside a split and across splits, on normalised text.

Rules (data/README.md, SOURCE.md quality notes): within a split an exact duplicate keeps its
first occurrence, and when the copies disagree on labels every copy goes, since no one of them
can be trusted. Across splits a text stays in the most evaluative split it occurs in: test
keeps it, dev loses what is in test, train loses what is in dev or test. So test scores never
reward memorising training text.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from .records import CorpusRecord


@dataclass(frozen=True, slots=True)
class SplitReport:
    """How many rows of one split each step removed, for docs and model cards."""

    source_rows: int
    template_only: int
    duplicates: int
    conflicting: int
    in_later_split: int
    kept: int


def label_key(record: CorpusRecord) -> Hashable:
    """What must agree for two copies of a text to count as the same example."""
    aspects = frozenset((aspect.label, aspect.polarity) for aspect in record.aspects)
    return (record.sentiment, record.stars, aspects, record.meta.get("spam"))


def dedup_within(records: Sequence[CorpusRecord]) -> tuple[list[CorpusRecord], int, int]:
    """Kept records, exact duplicates dropped, records dropped for conflicting labels."""
    labels: dict[str, set[Hashable]] = {}
    for record in records:
        labels.setdefault(record.text, set()).add(label_key(record))
    kept: list[CorpusRecord] = []
    seen: set[str] = set()
    duplicates = conflicting = 0
    for record in records:
        if len(labels[record.text]) > 1:
            conflicting += 1
        elif record.text in seen:
            duplicates += 1
        else:
            seen.add(record.text)
            kept.append(record)
    return kept, duplicates, conflicting


def drop_texts(records: Sequence[CorpusRecord], texts: set[str]) -> tuple[list[CorpusRecord], int]:
    """Records whose text is not in ``texts``, and how many were dropped."""
    kept = [record for record in records if record.text not in texts]
    return kept, len(records) - len(kept)
