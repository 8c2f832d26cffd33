"""How far two annotators of the gold set agree, and where the model stands between them.

The gold labels were written by one annotator (A). A second annotator (B) labelled the same
comments without seeing A's labels (``data/gold/second_annotator/``). A vs B bounds what a model
can be expected to reach against A: when the model agrees with A about as well as B does, the
remaining "errors" are as much the labels' as the model's. F1 between two label sets is symmetric,
so "B against A" and "A against B" give the same micro-F1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sklearn.metrics import cohen_kappa_score

from nlp.errors import GoldSetError
from nlp.heads import TopicPrediction
from nlp.labelled import LabelledComment, check_labels, gold_dir, json_rows, require_fields
from nlp.markdown import markdown_table
from nlp.topic_evaluation import TopicMetrics, score_topics

SECOND_ANNOTATOR_DIR: Final = "second_annotator"


@dataclass(frozen=True, slots=True)
class Annotation:
    """One annotator's labels of one comment."""

    id: str
    sentiment: str
    topics: dict[str, str]

    def as_prediction(self) -> TopicPrediction:
        return TopicPrediction(topics=list(self.topics), topic_sentiments=dict(self.topics))


@dataclass(frozen=True, slots=True)
class Agreement:
    """One label set scored against another on the same comments."""

    comparison: str
    topics: TopicMetrics
    sentiment_accuracy: float
    sentiment_kappa: float


def second_annotator_path(split: str = "test") -> Path:
    return gold_dir() / SECOND_ANNOTATOR_DIR / f"{split}.jsonl"


def read_annotations(path: Path) -> list[Annotation]:
    """Rows ``{"id", "sentiment", "topics"}``, checked like the gold set's labels."""
    if not path.is_file():
        raise GoldSetError(f"No second annotation at {path}.", path=str(path))
    annotations: list[Annotation] = []
    for line, value in json_rows(path):
        row = require_fields(value, ("id", "sentiment", "topics"), path, line)
        topics = check_labels(row, path, line)
        annotations.append(Annotation(str(row["id"]), row["sentiment"], topics))
    return annotations


def aligned(
    gold: Sequence[LabelledComment], annotations: Sequence[Annotation]
) -> list[tuple[LabelledComment, Annotation]]:
    """Gold rows paired with the second annotator's, which must cover exactly the same ids."""
    by_id = {a.id: a for a in annotations}
    if len(by_id) != len(annotations):
        raise GoldSetError("The second annotation repeats an id.")
    wanted = {c.id for c in gold}
    if set(by_id) != wanted:
        missing, extra = sorted(wanted - set(by_id)), sorted(set(by_id) - wanted)
        raise GoldSetError(
            f"The second annotation covers other ids than the gold split: {len(missing)} missing "
            f"(e.g. {missing[:3]}), {len(extra)} unknown (e.g. {extra[:3]}).",
            missing=missing[:20],
            unknown=extra[:20],
        )
    return [(comment, by_id[comment.id]) for comment in gold]


def agreement(
    comparison: str,
    reference: Sequence[Annotation],
    other: Sequence[Annotation],
    topics: Sequence[str],
) -> Agreement:
    """``other`` scored against ``reference`` (same order, same comments)."""
    metrics = score_topics(
        comparison, [r.topics for r in reference], [o.as_prediction() for o in other], topics
    )
    left = [r.sentiment for r in reference]
    right = [o.sentiment for o in other]
    accuracy = sum(a == b for a, b in zip(left, right, strict=True)) / max(1, len(left))
    return Agreement(
        comparison, metrics, round(accuracy, 4), round(float(cohen_kappa_score(left, right)), 4)
    )


def as_annotation(comment: LabelledComment) -> Annotation:
    return Annotation(comment.id, comment.sentiment, {t: str(p) for t, p in comment.topics.items()})


def model_annotations(analyzer: Any, comments: Sequence[LabelledComment]) -> list[Annotation]:
    """The labels an :class:`nlp.Analyzer` gives the comments, as one more annotator's."""
    results = analyzer.analyze([c.text for c in comments])
    return [
        Annotation(c.id, r.sentiment, dict(r.topic_sentiments))
        for c, r in zip(comments, results, strict=True)
    ]


def agreement_table(rows: Sequence[Agreement]) -> str:
    headers = [
        "comparison",
        "n",
        "topic micro-F1",
        "lowest P F1",
        "pair micro-F1",
        "polarity acc",
        "sentiment acc",
        "sentiment kappa",
    ]
    body = [
        (
            row.comparison,
            str(row.topics.n),
            f"{row.topics.micro_f1:.3f}",
            f"{row.topics.lowest_f1:.3f}",
            f"{row.topics.pair_micro_f1:.3f}",
            f"{row.topics.polarity_accuracy:.3f}",
            f"{row.sentiment_accuracy:.3f}",
            f"{row.sentiment_kappa:.3f}",
        )
        for row in rows
    ]
    return markdown_table(headers, body)
