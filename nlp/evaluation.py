"""Evaluation of the sentiment head on every official test split and on the team's gold set.

Every number in the README and the model cards comes from here (``vicx evaluate``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final, TypeVar

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from nlp import markdown
from nlp.corpora import corpus_splits, load_corpus
from nlp.labelled import LabelledComment, load_gold
from nlp.normalize import normalize, strip_diacritics
from nlp.result import EMPTY_TEXT_SENTIMENT, SENTIMENTS
from nlp.training.sentiment_data import (
    SENTIMENT_CORPORA,
    SOURCE_WEIGHTS,
    record_sentiment,
    training_examples,
)

T = TypeVar("T")
P = TypeVar("P")

#: Maps already-normalised texts to class probabilities in SENTIMENTS order.
ProbabilityFn = Callable[[Sequence[str]], np.ndarray]

#: Gold rows typed without diacritics or in teencode: the target is to stay within 0.05 of the rest.
INFORMAL_STYLES: Final = frozenset({"no_diacritics", "teencode_emoji"})


@dataclass(frozen=True, slots=True)
class SentimentMetrics:
    benchmark: str
    n: int
    accuracy: float
    macro_f1: float
    f1: dict[str, float]
    labels: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def score(benchmark: str, truth: Sequence[str], predicted: Sequence[str]) -> SentimentMetrics:
    """Accuracy, macro-F1 over the classes present in ``truth``, and per-class F1."""
    labels = tuple(label for label in SENTIMENTS if label in set(truth))
    per_class = f1_score(truth, predicted, labels=list(labels), average=None, zero_division=0)
    return SentimentMetrics(
        benchmark=benchmark,
        n=len(truth),
        accuracy=round(float(accuracy_score(truth, predicted)), 4),
        macro_f1=round(float(np.mean(per_class)), 4),
        f1={label: round(float(v), 4) for label, v in zip(labels, per_class, strict=True)},
        labels=labels,
    )


def _predict(probabilities: ProbabilityFn, texts: Sequence[str]) -> list[str]:
    """Labels of already-normalised texts. A text that normalises to nothing ("😐") is neutral,
    as :meth:`nlp.Analyzer.analyze` answers it, so the scores are those of what users get."""
    labels = [SENTIMENTS[i] for i in np.argmax(probabilities(texts), axis=1)]
    return [
        label if text else EMPTY_TEXT_SENTIMENT for text, label in zip(texts, labels, strict=True)
    ]


def corpus_benchmark(name: str, split: str, probabilities: ProbabilityFn) -> SentimentMetrics:
    pairs = [(r.text, record_sentiment(r)) for r in load_corpus(name, split)]
    kept = [(text, label) for text, label in pairs if label is not None and text]
    texts, truth = [t for t, _ in kept], [label for _, label in kept]
    return score(f"{name}:{split}", truth, _predict(probabilities, texts))


def gold_benchmarks(
    probabilities: ProbabilityFn, split: str, comments: Sequence[LabelledComment] | None = None
) -> list[SentimentMetrics]:
    """The gold split overall, then its standard rows and its unaccented/teencode rows apart."""
    rows = list(comments) if comments is not None else load_gold(split)
    predicted = _predict(probabilities, [normalize(c.text) for c in rows])
    truth = [c.sentiment for c in rows]
    return [score(name, t, p) for name, t, p in gold_style_groups(split, rows, truth, predicted)]


def gold_style_groups(
    split: str, rows: Sequence[LabelledComment], truth: Sequence[T], predicted: Sequence[P]
) -> Iterator[tuple[str, list[T], list[P]]]:
    """(name, truth, predicted) for the whole gold split, its standard rows, its informal rows."""
    informal = [c.style in INFORMAL_STYLES for c in rows]
    groups = {
        f"gold:{split}": [True] * len(rows),
        f"gold:{split}:standard": [not x for x in informal],
        f"gold:{split}:informal": informal,
    }
    for name, mask in groups.items():
        kept = [i for i, keep in enumerate(mask) if keep]
        if kept:
            yield name, [truth[i] for i in kept], [predicted[i] for i in kept]


def official_split(name: str, split: str) -> str | None:
    """The corpus split playing the role of ``split`` ("test" or "dev"), if the corpus has one."""
    return split if split in corpus_splits(name) else None


def evaluate_sentiment(
    probabilities: ProbabilityFn, *, corpora: Sequence[str] = SENTIMENT_CORPORA, split: str = "test"
) -> list[SentimentMetrics]:
    """Gold ``split`` plus each corpus's official test split (or dev, for tuning)."""
    metrics = gold_benchmarks(probabilities, split)
    for name in corpora:
        corpus_split = official_split(name, split)
        if corpus_split is not None:
            metrics.append(corpus_benchmark(name, corpus_split, probabilities))
    return metrics


def markdown_table(metrics: Sequence[SentimentMetrics]) -> str:
    labels = ("negative", "neutral", "positive")
    rows = []
    for m in metrics:
        cells = [m.f1.get(label) for label in labels]
        shown = ["-" if c is None else f"{c:.3f}" for c in cells]
        rows.append([m.benchmark, m.n, f"{m.accuracy:.3f}", f"{m.macro_f1:.3f}", *shown])
    headers = ["benchmark", "n", "accuracy", "macro-F1", *(f"F1 {label}" for label in labels)]
    return markdown.markdown_table(headers, rows)


@dataclass(frozen=True, slots=True)
class CrossValidation:
    benchmark: str
    folds: int
    negative_f1: list[float]

    @property
    def mean(self) -> float:
        return round(float(np.mean(self.negative_f1)), 4)


def aivivn_cross_validation(
    featurize: Callable[[Sequence[str]], Any],
    fit_head: Callable[[Any, Sequence[str], Sequence[float]], Any],
    *,
    folds: int = 5,
    seed: int = 0,
) -> CrossValidation:
    """Negative-class F1 on AIVIVN 2019 by k-fold CV (its test labels were never released).

    For each fold the head is retrained on every training example except that fold's AIVIVN
    rows (and their unaccented copies), then scored on the fold. The shared featuriser is kept:
    its IDF weights saw the texts but never the labels.
    """
    examples = training_examples()
    others = [e for e in examples if e.source != "aivivn2019"]
    aivivn = [(r.text, record_sentiment(r)) for r in load_corpus("aivivn2019", "train")]
    texts = [t for t, label in aivivn if label]
    labels = np.array([label for _, label in aivivn if label])
    other_matrix = featurize([e.text for e in others])
    aivivn_matrix = featurize(texts)
    scores = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    weight = SOURCE_WEIGHTS["aivivn2019"]
    for train_index, test_index in splitter.split(texts, labels):
        unaccented = featurize([strip_diacritics(texts[i]) for i in train_index[::3]])
        matrix = sp.vstack([other_matrix, aivivn_matrix[train_index], unaccented])
        y = [e.label for e in others] + list(labels[train_index]) + list(labels[train_index[::3]])
        weights = [e.weight for e in others] + [weight] * (len(train_index) + unaccented.shape[0])
        head = fit_head(matrix, y, weights)
        predicted = head.predict(aivivn_matrix[test_index])
        fold_f1 = f1_score(labels[test_index], predicted, labels=["negative"], average="macro")
        scores.append(round(float(fold_f1), 4))
    return CrossValidation("aivivn2019:5-fold", folds, scores)
