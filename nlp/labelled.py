"""The team's hand-labelled comments: the gold evaluation set and the multi-industry training set.

Both follow data/LABELLING.md; one reader validates them so a malformed row fails loudly with its
file and line instead of skewing a metric.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from nlp.errors import GoldSetError
from nlp.jsonl import JsonLineError, json_objects
from nlp.paths import source_data_dir
from nlp.result import SENTIMENTS

TOPICS: Final = (
    "product",
    "price",
    "place",
    "promotion",
    "people",
    "process",
    "physical_evidence",
)
STYLES: Final = ("standard", "no_diacritics", "teencode_emoji", "long", "short")
SPLITS: Final = ("dev", "test")


@dataclass(frozen=True, slots=True)
class LabelledComment:
    id: str
    text: str
    sentiment: str
    topics: dict[str, str]
    nps: int
    industry: str
    style: str
    hard_cases: tuple[str, ...]
    split: str | None
    source: str

    @property
    def is_detractor(self) -> bool:
        return self.nps <= 6


def _fail(path: Path, line: int, problem: str) -> GoldSetError:
    return GoldSetError(f"{path.name}, line {line}: {problem}", path=str(path), line=line)


def check_labels(row: dict[str, Any], path: Path, line: int) -> dict[str, str]:
    """The row's ``sentiment`` and ``topics`` ({topic: polarity}) checked; returns the topics."""
    if row["sentiment"] not in SENTIMENTS:
        raise _fail(path, line, f"sentiment {row['sentiment']!r} not in {SENTIMENTS}")
    topics = row["topics"]
    if not isinstance(topics, dict):
        raise _fail(path, line, "topics must be an object {topic: polarity}")
    for topic, polarity in topics.items():
        if topic not in TOPICS:
            raise _fail(path, line, f"unknown topic {topic!r}; valid: {TOPICS}")
        if polarity not in SENTIMENTS:
            raise _fail(path, line, f"polarity {polarity!r} of {topic} not in {SENTIMENTS}")
    return dict(topics)


def require_fields(row: Any, fields: Sequence[str], path: Path, line: int) -> dict[str, Any]:
    """``row`` as a JSON object holding every one of ``fields`` (E302 naming the first missing)."""
    if not isinstance(row, dict):
        raise _fail(path, line, "not a JSON object")
    for key in fields:
        if key not in row:
            raise _fail(path, line, f"missing field {key!r}")
    return row


def json_rows(path: Path) -> list[tuple[int, Any]]:
    """The JSON values of a labelled JSONL file with their line numbers (E302 on bad JSON)."""
    with path.open(encoding="utf-8") as handle:
        try:
            return list(json_objects(handle))
        except JsonLineError as exc:
            raise _fail(path, exc.line, exc.reason) from exc


def _parse(row: Any, path: Path, line: int, *, require_split: bool) -> LabelledComment:
    row = require_fields(
        row, ("id", "text", "sentiment", "topics", "nps", "industry", "style"), path, line
    )
    text = row["text"]
    if not isinstance(text, str) or not text.strip():
        raise _fail(path, line, "empty text")
    topics = check_labels(row, path, line)
    nps = row["nps"]
    if not isinstance(nps, int) or isinstance(nps, bool) or not 0 <= nps <= 10:
        raise _fail(path, line, f"nps {nps!r} is not an integer 0-10")
    if row["style"] not in STYLES:
        raise _fail(path, line, f"style {row['style']!r} not in {STYLES}")
    split = row.get("split")
    if require_split and split not in SPLITS:
        raise _fail(path, line, f"split {split!r} not in {SPLITS}")
    return LabelledComment(
        id=str(row["id"]),
        text=text,
        sentiment=row["sentiment"],
        topics=topics,
        nps=nps,
        industry=str(row["industry"]),
        style=row["style"],
        hard_cases=tuple(row.get("hard_cases", ())),
        split=split,
        source=path.stem,
    )


def read_labelled(paths: Iterable[Path], *, require_split: bool = False) -> list[LabelledComment]:
    """Read and validate JSONL files of labelled comments; ids must be unique across them."""
    comments: list[LabelledComment] = []
    seen: dict[str, str] = {}
    for path in sorted(paths):
        for line_number, row in json_rows(path):
            comment = _parse(row, path, line_number, require_split=require_split)
            if comment.id in seen:
                raise _fail(
                    path, line_number, f"duplicate id {comment.id} (also in {seen[comment.id]})"
                )
            seen[comment.id] = path.name
            comments.append(comment)
    if not comments:
        raise GoldSetError("No labelled comments found.", paths=[str(p) for p in paths])
    return comments


def gold_dir() -> Path:
    return source_data_dir() / "gold"


def training_dir() -> Path:
    return source_data_dir() / "train"


def load_gold(split: str | None = None) -> list[LabelledComment]:
    """The multi-industry gold set; ``split`` is ``"dev"``, ``"test"`` or None for both."""
    comments = read_labelled(gold_dir().glob("*.jsonl"), require_split=True)
    if split is None:
        return comments
    if split not in SPLITS:
        raise GoldSetError(f"Unknown gold split {split!r}; valid: {SPLITS}")
    return [c for c in comments if c.split == split]


def load_training_set() -> list[LabelledComment]:
    """The team-written multi-industry training set (never evaluated on)."""
    return read_labelled(training_dir().glob("*.jsonl"))
