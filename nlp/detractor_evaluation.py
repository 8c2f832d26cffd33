"""Evaluation of the detractor head: ranking, calibration and a reliability table.

Benchmarks: the uit_visfd split (detractor = 1-2 stars, the proxy the head is trained on) and
the team's gold split (detractor = NPS 0-6) overall and on its rows typed without diacritics.
``vicx evaluate`` and the model card print ``markdown_table``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from nlp import markdown
from nlp.corpora import load_corpus
from nlp.labelled import LabelledComment, load_gold
from nlp.normalize import normalize

if TYPE_CHECKING:
    from nlp.analyzer import Analyzer

#: Maps already-normalised texts to P(detractor), shape (n,).
DetractorFn = Callable[[Sequence[str]], np.ndarray]

STAR_CORPUS: Final = "uit_visfd"
#: A review of this many stars or fewer stands in for a detractor.
STAR_CUT: Final = 2
RELIABILITY_BINS: Final = 10


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    """One equal-width probability bin: how many rows, mean prediction, observed detractor rate."""

    low: float
    high: float
    n: int
    mean_predicted: float
    observed_rate: float


@dataclass(frozen=True, slots=True)
class DetractorMetrics:
    benchmark: str
    n: int
    detractor_rate: float
    roc_auc: float
    pr_auc: float
    brier: float
    ece: float
    reliability: list[ReliabilityBin] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def reliability_bins(
    truth: np.ndarray, probabilities: np.ndarray, bins: int = RELIABILITY_BINS
) -> list[ReliabilityBin]:
    """Equal-width bins over [0, 1]; a probability of exactly 1 falls in the last bin."""
    truth = np.asarray(truth, dtype=np.float64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    index = np.minimum((probabilities * bins).astype(int), bins - 1)
    table = []
    for b in range(bins):
        members = index == b
        count = int(members.sum())
        table.append(
            ReliabilityBin(
                low=b / bins,
                high=(b + 1) / bins,
                n=count,
                mean_predicted=float(probabilities[members].mean()) if count else math.nan,
                observed_rate=float(truth[members].mean()) if count else math.nan,
            )
        )
    return table


def expected_calibration_error(
    truth: np.ndarray, probabilities: np.ndarray, bins: int = RELIABILITY_BINS
) -> float:
    """Row-weighted mean |observed rate - mean prediction| over equal-width bins.

    >>> expected_calibration_error(np.array([0, 1, 1, 1]), np.array([0.05, 0.95, 0.95, 0.55]))
    0.15
    """
    table = reliability_bins(truth, probabilities, bins)
    total = sum(b.n for b in table)
    gap = sum(b.n * abs(b.observed_rate - b.mean_predicted) for b in table if b.n)
    return round(gap / total, 4) if total else math.nan


def binary_metrics(
    benchmark: str, truth: Sequence[bool] | np.ndarray, probabilities: np.ndarray
) -> DetractorMetrics:
    """ROC-AUC, PR-AUC (average precision), Brier, ECE and reliability of one benchmark."""
    y = np.asarray(truth, dtype=bool)
    p = np.asarray(probabilities, dtype=np.float64)
    both = 0 < y.sum() < len(y)
    return DetractorMetrics(
        benchmark=benchmark,
        n=len(y),
        detractor_rate=round(float(y.mean()), 4) if len(y) else math.nan,
        roc_auc=round(float(roc_auc_score(y, p)), 4) if both else math.nan,
        pr_auc=round(float(average_precision_score(y, p)), 4) if both else math.nan,
        brier=round(float(brier_score_loss(y, p)), 4) if len(y) else math.nan,
        ece=expected_calibration_error(y, p),
        reliability=reliability_bins(y, p),
    )


def star_benchmark(probabilities: DetractorFn, split: str) -> DetractorMetrics:
    rows = [r for r in load_corpus(STAR_CORPUS, split) if r.text and r.stars is not None]
    truth = [r.stars is not None and r.stars <= STAR_CUT for r in rows]
    return binary_metrics(f"{STAR_CORPUS}:{split}", truth, probabilities([r.text for r in rows]))


def gold_benchmarks(
    probabilities: DetractorFn, split: str, comments: Sequence[LabelledComment] | None = None
) -> list[DetractorMetrics]:
    """The gold split overall and its no-diacritics rows (detractor = NPS 0-6)."""
    rows = list(comments) if comments is not None else load_gold(split)
    predicted = probabilities([normalize(c.text) for c in rows])
    truth = np.array([c.is_detractor for c in rows])
    unaccented = np.array([c.style == "no_diacritics" for c in rows])
    metrics = [binary_metrics(f"gold:{split}", truth, predicted)]
    if unaccented.any():
        metrics.append(
            binary_metrics(f"gold:{split}:no_diacritics", truth[unaccented], predicted[unaccented])
        )
    return metrics


def evaluate_detractor(
    probabilities: DetractorFn, *, split: str = "test"
) -> list[DetractorMetrics]:
    """uit_visfd ``split`` (stars <= 2), then gold ``split`` (NPS 0-6) overall and unaccented."""
    return [star_benchmark(probabilities, split), *gold_benchmarks(probabilities, split)]


def analyzer_detractor_fn(analyzer: Analyzer) -> DetractorFn:
    """P(detractor) from an Analyzer that has a detractor bundle, for ``evaluate_detractor``."""
    if analyzer.detractor is None:
        from nlp.errors import ModelNotFoundError

        raise ModelNotFoundError(
            "No detractor bundle is installed; build one with `vicx train detractor`."
        )
    head = analyzer.detractor.model

    def probabilities(texts: Sequence[str]) -> np.ndarray:
        matrix = analyzer.featurize(texts)
        result: np.ndarray = head.predict_proba(
            matrix, analyzer.sentiment.model.predict_proba(matrix), None
        )
        return result

    return probabilities


def _cell(value: float, digits: int = 3) -> str:
    return "-" if value != value else f"{value:.{digits}f}"


def markdown_table(metrics: Sequence[DetractorMetrics]) -> str:
    return markdown.markdown_table(
        ["benchmark", "n", "detractors", "ROC-AUC", "PR-AUC", "Brier", "ECE (10 bins)"],
        [
            (
                m.benchmark,
                m.n,
                f"{m.detractor_rate:.1%}",
                _cell(m.roc_auc),
                _cell(m.pr_auc),
                _cell(m.brier),
                _cell(m.ece),
            )
            for m in metrics
        ],
    )


def reliability_markdown(metrics: DetractorMetrics) -> str:
    """The reliability table of one benchmark: predicted vs observed detractor rate per bin."""
    table = markdown.markdown_table(
        ["P(detractor) bin", "rows", "mean predicted", "observed rate"],
        [
            (f"{b.low:.1f}-{b.high:.1f}", b.n, _cell(b.mean_predicted), _cell(b.observed_rate))
            for b in metrics.reliability
        ],
    )
    return f"Reliability on {metrics.benchmark}:\n\n{table}"
