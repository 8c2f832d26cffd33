"""The VLSP 2018 ABSA shared-task metrics: micro-F1 over aspects and over aspect+polarity.

Phase A (aspect) counts (review, category) pairs; phase B (aspect+polarity) counts (review,
category, polarity) triples. Both are micro-averaged over the whole split, as in the shared task
overview (Nguyen et al., VLSP 2018) and the papers that compare with it.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import asdict, dataclass
from typing import Any

#: The labels of one review: (category, polarity) pairs, e.g. ("ROOMS#CLEANLINESS", "negative").
Labels = Set[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class AspectScores:
    """Micro precision, recall and F1 of both phases over one split."""

    reviews: int
    aspect_precision: float
    aspect_recall: float
    aspect_f1: float
    polarity_precision: float
    polarity_recall: float
    polarity_f1: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _prf(tp: int, predicted: int, gold: int) -> tuple[float, float, float]:
    precision = tp / predicted if predicted else 0.0
    recall = tp / gold if gold else 0.0
    f1 = 2 * tp / (predicted + gold) if predicted + gold else 0.0
    return precision, recall, f1


def score_aspects(gold: Sequence[Labels], predicted: Sequence[Labels]) -> AspectScores:
    """Score predicted (category, polarity) sets against the gold sets of the same reviews.

    >>> gold = [{("ROOMS#CLEANLINESS", "negative"), ("SERVICE#GENERAL", "positive")}]
    >>> guess = [{("ROOMS#CLEANLINESS", "negative"), ("SERVICE#GENERAL", "negative")}]
    >>> s = score_aspects(gold, guess)
    >>> s.aspect_f1, s.polarity_f1
    (1.0, 0.5)
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold reviews but {len(predicted)} predictions")
    gold_pairs: set[tuple[int, str]] = set()
    guess_pairs: set[tuple[int, str]] = set()
    gold_triples: set[tuple[int, str, str]] = set()
    guess_triples: set[tuple[int, str, str]] = set()
    for review, (truth, guess) in enumerate(zip(gold, predicted, strict=True)):
        gold_pairs.update((review, category) for category, _ in truth)
        guess_pairs.update((review, category) for category, _ in guess)
        gold_triples.update((review, category, polarity) for category, polarity in truth)
        guess_triples.update((review, category, polarity) for category, polarity in guess)
    aspect = _prf(len(gold_pairs & guess_pairs), len(guess_pairs), len(gold_pairs))
    polarity = _prf(len(gold_triples & guess_triples), len(guess_triples), len(gold_triples))
    return AspectScores(len(gold), *(round(v, 4) for v in aspect), *(round(v, 4) for v in polarity))
