"""Fit or recalibrate the detractor head on a company's own scored comments (a DataFrame).

Two ways to use the scores, both cross-validated on the same folds:
- ``recalibrate``: keep the shipped text model, refit only the combiner (how much to trust the
  text and the sentiment signals, and the probability scale) on the company's rows. Needs a base
  detractor bundle; works from a few dozen rows of each class.
- ``refit``: a new text model on the company's rows, stacked with the sentiment signal. Learns
  the company's own vocabulary; needs more rows to beat ``recalibrate``.
``auto`` (the default) keeps the one with the higher cross-validated ROC-AUC.
"""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.model_selection import StratifiedKFold

from nlp.analyzer import DETRACTOR, Analyzer
from nlp.bundle import save_bundle
from nlp.detractor import DetractorHead
from nlp.detractor_evaluation import DetractorMetrics, binary_metrics
from nlp.errors import (
    MissingColumnError,
    ModelNotFoundError,
    SingleClassError,
    TooFewRowsError,
)
from nlp.nps import Scale, detractor_cut, detractor_labels, validate_scores
from nlp.training.detractor_card import scores_card

Mode = Literal["auto", "recalibrate", "refit"]
MODES: Final = ("auto", "recalibrate", "refit")
MIN_ROWS: Final = 50
#: Each class needs this many rows so every cross-validation fold sees both classes.
MIN_PER_CLASS: Final = 10
CV_FOLDS: Final = 5
BUNDLE_VERSION: Final = "0.2.0-custom"


@dataclass(slots=True)
class ScoredFitReport:
    rows: int
    dropped: int
    detractors: int
    scale: str
    cut: int
    mode: str
    cross_validated: dict[str, DetractorMetrics] = field(default_factory=dict)

    @property
    def chosen(self) -> DetractorMetrics:
        return self.cross_validated[self.mode]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "dropped": self.dropped,
            "detractors": self.detractors,
            "scale": self.scale,
            "cut": self.cut,
            "mode": self.mode,
            "cross_validated": {k: v.as_dict() for k, v in self.cross_validated.items()},
        }


@dataclass(slots=True)
class _Rows:
    features: sp.csr_matrix
    sentiment: np.ndarray
    labels: np.ndarray


def scored_rows(
    frame: pd.DataFrame,
    text_column: str,
    score_column: str,
    scale: Scale,
    cut: int | None,
    base: Analyzer,
) -> tuple[_Rows, int]:
    """Featurised rows with a text and a score, the detractor labels, and how many were dropped."""
    for column in (text_column, score_column):
        if column not in frame.columns:
            raise MissingColumnError(
                f"Column {column!r} not found; available: {', '.join(map(str, frame.columns))}",
                column=column,
                available=[str(c) for c in frame.columns],
            )
    scores = validate_scores(frame[score_column], scale, column=score_column)
    labels = detractor_labels(scores, scale, cut)
    texts = frame.loc[labels.index, text_column]
    normalised = base.normalizer.normalize_many([t if isinstance(t, str) else "" for t in texts])
    keep = [i for i, text in enumerate(normalised) if text]
    y = labels.to_numpy(dtype=bool)[keep]
    _check_enough(len(keep), y, scale, cut)
    matrix = base.featurize([normalised[i] for i in keep])
    rows = _Rows(matrix, base.sentiment.model.predict_proba(matrix), y)
    return rows, len(frame) - len(keep)


def _check_enough(n: int, y: np.ndarray, scale: str, cut: int | None) -> None:
    detractors = int(y.sum())
    if n < MIN_ROWS:
        raise TooFewRowsError(
            f"Only {n} rows have both a comment and a score; at least {MIN_ROWS} are needed to "
            "fit and cross-validate a detractor model.",
            rows=n,
            minimum=MIN_ROWS,
        )
    if detractors in (0, n):
        side = "detractors" if detractors else "non-detractors"
        raise SingleClassError(
            f"All {n} scored rows are {side} on the {scale} scale (cut {cut}); the file needs "
            "both detractors and others. Check --scale and --cut.",
            rows=n,
            detractors=detractors,
        )
    if min(detractors, n - detractors) < MIN_PER_CLASS:
        raise TooFewRowsError(
            f"{detractors} detractors and {n - detractors} others: each class needs at least "
            f"{MIN_PER_CLASS} rows to cross-validate.",
            detractors=detractors,
            others=n - detractors,
            minimum=MIN_PER_CLASS,
        )


def _fit(mode: str, base_head: DetractorHead | None, rows: _Rows, index: np.ndarray) -> Any:
    if mode == "recalibrate":
        assert base_head is not None
        return copy.deepcopy(base_head).calibrate(
            rows.features[index], rows.labels[index], sentiment_probabilities=rows.sentiment[index]
        )
    head = DetractorHead(stack_folds=3)
    if base_head is not None:
        head.set_params(C=base_head.C)
    fitted = head.fit(
        rows.features[index], rows.labels[index], sentiment_probabilities=rows.sentiment[index]
    )
    if base_head is not None:
        fitted.set_driver_weights(base_head.driver_weights_)
    return fitted


def cross_validate(mode: str, base_head: DetractorHead | None, rows: _Rows) -> DetractorMetrics:
    """Out-of-fold probabilities of ``mode`` over the company's rows, scored as one benchmark."""
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=0)
    predicted = np.zeros(len(rows.labels))
    for fit_index, held_out in folds.split(np.zeros(len(rows.labels)), rows.labels):
        head = _fit(mode, base_head, rows, fit_index)
        predicted[held_out] = head.predict_proba(rows.features[held_out], rows.sentiment[held_out])
    return binary_metrics(f"{mode} ({CV_FOLDS}-fold CV)", rows.labels, predicted)


def fit_on_scores(
    frame: pd.DataFrame,
    *,
    text_column: str,
    score_column: str,
    scale: Scale,
    cut: int | None = None,
    base: Analyzer,
    mode: Mode = "auto",
) -> tuple[DetractorHead, ScoredFitReport]:
    """Fit the detractor head on scored comments; return it with its cross-validated metrics."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    base_head = base.detractor.model if base.detractor is not None else None
    if mode == "recalibrate" and base_head is None:
        raise ModelNotFoundError(
            "Recalibration needs a base detractor bundle (models/detractor); build it with "
            "`vicx train detractor`, point --model-dir at a folder that has one, or use refit."
        )
    rows, dropped = scored_rows(frame, text_column, score_column, scale, cut, base)
    if mode == "auto":
        candidates = ["recalibrate", "refit"] if base_head is not None else ["refit"]
    else:
        candidates = [mode]
    cross_validated = {m: cross_validate(m, base_head, rows) for m in candidates}
    chosen = max(candidates, key=lambda m: (cross_validated[m].roc_auc, m == "recalibrate"))
    head = _fit(chosen, base_head, rows, np.arange(len(rows.labels)))
    report = ScoredFitReport(
        rows=len(rows.labels),
        dropped=dropped,
        detractors=int(rows.labels.sum()),
        scale=scale,
        cut=detractor_cut(scale, cut),
        mode=chosen,
        cross_validated=cross_validated,
    )
    return head, report


def save_model_dir(
    output: Path,
    head: DetractorHead,
    report: ScoredFitReport,
    base: Analyzer,
    *,
    source: str,
) -> Path:
    """A complete model directory for ``vicx analyze --model-dir``: the base bundles, copied,
    plus the new detractor bundle pinned to the same features."""
    output.mkdir(parents=True, exist_ok=True)
    for bundle in (base.features, base.sentiment, base.topics):
        if bundle is None:
            continue
        target = output / bundle.path.name
        if target.resolve() != bundle.path.resolve():
            shutil.copytree(bundle.path, target, dirs_exist_ok=True)
    save_bundle(
        output / DETRACTOR,
        head,
        name=DETRACTOR,
        version=BUNDLE_VERSION,
        manifest={
            "features_sha256": base.features.model_sha256,
            "trained_on": source,
            "params": head.get_params(),
            "fit": report.as_dict(),
        },
        card=scores_card(report, source),
    )
    return output
