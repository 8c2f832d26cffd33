"""UIT corpora: uit_vsfc (student survey), uit_visfd and uit_visd4sa (smartphone reviews)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from nlp.errors import DataError

from .files import read_text, require_file
from .records import Aspect, SourceRow, frozen_meta

_VSFC_SENTIMENT = {"0": "negative", "1": "neutral", "2": "positive"}
_VSFC_TOPIC = {"0": "lecturer", "1": "training_program", "2": "facility", "3": "others"}
_VISFD_FILE = {"train": "Train.csv", "dev": "Dev.csv", "test": "Test.csv"}
_VISFD_LABEL = re.compile(r"\{([^#{}]+)(?:#([^{}]+))?\}")


def _lines(path: Path) -> list[str]:
    # splitlines() would also split on U+2028 and friends inside a sentence; the files are
    # line-aligned on "\n" only.
    text = read_text(path)
    return text[:-1].split("\n") if text.endswith("\n") else text.split("\n")


def parse_vsfc(data_dir: Path, split: str) -> list[SourceRow]:
    """Three line-aligned files per split; the topic becomes ``Aspect(topic, None)``."""
    folder = data_dir / "uit_vsfc" / split
    sents = _lines(folder / "sents.txt")
    sentiments = _lines(folder / "sentiments.txt")
    topics = _lines(folder / "topics.txt")
    if not len(sents) == len(sentiments) == len(topics):
        raise DataError(
            f"{folder}: sents/sentiments/topics have {len(sents)}/{len(sentiments)}/"
            f"{len(topics)} lines; they must be line-aligned",
            path=str(folder),
        )
    rows = []
    for number, (sent, sentiment, topic) in enumerate(
        zip(sents, sentiments, topics, strict=True), 1
    ):
        try:
            rows.append(
                SourceRow(
                    raw=sent.strip(),
                    sentiment=_VSFC_SENTIMENT[sentiment.strip()],
                    aspects=(Aspect(_VSFC_TOPIC[topic.strip()], None),),
                )
            )
        except KeyError as exc:
            raise DataError(
                f"{folder} line {number}: unknown label {exc}", path=str(folder)
            ) from exc
    return rows


def parse_visfd(data_dir: Path, split: str) -> list[SourceRow]:
    """Comment, per-review stars, date and ``{ASPECT#Polarity};`` labels (OTHERS has none)."""
    path = require_file(data_dir / "uit_visfd" / _VISFD_FILE[split])
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            aspects = tuple(
                Aspect(label, polarity.lower() if polarity else None)
                for label, polarity in _VISFD_LABEL.findall(record["label"])
            )
            rows.append(
                SourceRow(
                    raw=record["comment"].strip(),
                    stars=int(record["n_star"]),
                    aspects=aspects,
                    meta=frozen_meta({"date_time": record["date_time"]}),
                )
            )
    return rows


def parse_visd4sa(data_dir: Path, split: str) -> list[SourceRow]:
    """Span labels ``[start, end, "ASPECT#POLARITY"]``.

    Spans are shifted to the whitespace-trimmed ``raw``; a span that falls outside the text
    (SOURCE.md counts 122) loses its offsets but keeps its aspect label and polarity.
    """
    path = data_dir / "uit_visd4sa" / f"{split}.jsonl"
    rows = []
    for number, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} line {number}: {exc}", path=str(path)) from exc
        text: str = item["text"]
        raw = text.strip()
        shift = len(text) - len(text.lstrip())
        aspects = []
        for start, end, tag in item["labels"]:
            label, _, polarity = str(tag).partition("#")
            span: tuple[int, int] | None = (start - shift, end - shift)
            if not 0 <= start - shift < end - shift <= len(raw):
                span = None
            aspects.append(Aspect(label, polarity.lower() or None, span))
        rows.append(SourceRow(raw=raw, aspects=tuple(aspects)))
    return rows
