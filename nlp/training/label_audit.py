"""``vicx audit-labels``: training rows whose topic labels the head's held-out scores contradict.

Hand-labelled rows carry slips (a missing price, a product that is really physical evidence).
A head trained without a row, and without its copy without diacritics, scores it; a row is a
candidate for review when that score is very low for a labelled P or very high for an unlabelled
one. Most candidates turn out to be the model's mistakes, not the writer's, so the output is a
reading list for a person with ``data/LABELLING.md``, never an automatic relabelling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from nlp.analyzer import FEATURES, TOPICS
from nlp.bundle import load_bundle
from nlp.errors import RETRAIN_HINT
from nlp.labelled import LabelledComment, load_training_set
from nlp.training.topic_data import corpus_topic_examples, team_examples, team_texts
from nlp.training.topics import SHIPPED, fit_head, out_of_fold

#: A labelled P scored below LOW, or an unlabelled P scored above HIGH, flags the row.
LOW: Final = 0.05
HIGH: Final = 0.9


@dataclass(frozen=True, slots=True)
class Contradiction:
    topic: str
    labelled: bool
    held_out_score: float


@dataclass(frozen=True, slots=True)
class FlaggedRow:
    comment: LabelledComment
    contradictions: tuple[Contradiction, ...]

    def as_dict(self) -> dict[str, Any]:
        """One line of the review file: the row's labels and what contradicts them."""
        return {
            "id": self.comment.id,
            "text": self.comment.text,
            "sentiment": self.comment.sentiment,
            "topics": dict(self.comment.topics),
            "contradictions": [
                {"topic": c.topic, "labelled": c.labelled, "held_out_score": c.held_out_score}
                for c in self.contradictions
            ],
        }


def flag_rows(
    comments: Sequence[LabelledComment],
    owners: Sequence[int],
    scores: np.ndarray,
    topics: Sequence[str],
    *,
    low: float = LOW,
    high: float = HIGH,
) -> list[FlaggedRow]:
    """The comments with at least one contradiction, in training-set order.

    ``scores`` has one row per scored text and ``owners[i]`` is the index in ``comments`` of the
    comment row ``i`` was made from (a comment and its copy without diacritics are two texts).
    A P contradicted by both texts of one comment is listed once, with the stronger score.
    """
    if len(owners) != len(scores):
        raise ValueError(f"{len(owners)} owners for {len(scores)} score rows")
    found: dict[int, dict[str, Contradiction]] = {}
    for row, owner in enumerate(owners):
        labels = comments[owner].topics
        for column, topic in enumerate(topics):
            score = round(float(scores[row, column]), 3)
            labelled = topic in labels
            if (labelled and score < low) or (not labelled and score > high):
                kept = found.setdefault(owner, {}).get(topic)
                if kept is None or abs(score - 0.5) > abs(kept.held_out_score - 0.5):
                    found[owner][topic] = Contradiction(topic, labelled, score)
    return [
        FlaggedRow(comments[owner], tuple(found[owner][t] for t in topics if t in found[owner]))
        for owner in sorted(found)
    ]


def audit_training_labels(
    model_dir: Path, *, low: float = LOW, high: float = HIGH
) -> list[FlaggedRow]:
    """Score every team row out of fold with the shipped training recipe; flag contradictions.

    Uses the features bundle and the topics bundle's lexicon in ``model_dir``; fits the head five
    times (a few minutes on 2 cores), logging each fold.
    """
    featurizer = load_bundle(model_dir / FEATURES, retrain_hint=RETRAIN_HINT).model
    shipped = load_bundle(model_dir / TOPICS, retrain_hint=RETRAIN_HINT).model
    topics = list(shipped.topics)
    comments = load_training_set()
    examples = team_examples(comments) + corpus_topic_examples(topics)

    def fit(rows: Sequence[Any]) -> Any:
        return fit_head(SHIPPED, featurizer, shipped.lexicon, shipped.polarity, topics, rows)

    scores, _ = out_of_fold(fit, featurizer, topics, examples)
    owners = [index for index, comment in enumerate(comments) for _ in team_texts(comment)]
    return flag_rows(comments, owners, scores, topics, low=low, high=high)
