"""The detractor head: P(the writer is an NPS detractor) from the text and the sentiment head.

Two stages, because the two signals are learned from different data:

1. ``text_``: a logistic regression on the shared features, trained on detractor proxies (star
   ratings, negative reviews, the team's NPS-scored comments).
2. ``combiner_``: a three-input logistic regression over the text log-odds and the sentiment
   head's log-odds (negative vs positive, and neutral). It is multi-input Platt scaling, so its
   output is already a calibrated probability; ``calibration="isotonic"`` adds an isotonic map on
   top for data whose reliability curve is not logistic.

The combiner must be fitted on rows neither stage has seen in training, otherwise it trusts
whichever signal was over-fitted: ``fit`` stacks out-of-fold text scores (``stack_folds``), and
``calibrate`` refits only the combiner on held-out rows, e.g. the dev splits or a company's own
scored surveys, keeping the text model.

The ``DetractorModel`` protocol fixes ``predict_proba(features, sentiment_probabilities, topics)``
returning shape ``(n,)``; the topics are not used for the probability (the topic head is trained
on other data) but ``drivers`` ranks a comment's negative topics by how much each raised the
detractor rate in the team's scored comments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, Self

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from nlp.heads import TopicPrediction
from nlp.result import SENTIMENTS

FloatArray = npt.NDArray[np.float64]
Calibration = Literal["sigmoid", "isotonic"]
CALIBRATIONS: Final = ("sigmoid", "isotonic")

#: Keeps log-probabilities finite when the sentiment head is certain.
_PROBABILITY_FLOOR: Final = 1e-4
_NEGATIVE = SENTIMENTS.index("negative")
_NEUTRAL = SENTIMENTS.index("neutral")
_POSITIVE = SENTIMENTS.index("positive")


def sentiment_signal(sentiment_probabilities: np.ndarray) -> FloatArray:
    """Two columns: log(P(negative) / P(positive)) and log P(neutral).

    >>> sentiment_signal(np.array([[0.25, 0.5, 0.25]])).round(3).tolist()
    [[0.0, -0.693]]
    """
    probabilities = np.clip(
        np.asarray(sentiment_probabilities, dtype=np.float64), _PROBABILITY_FLOOR, 1.0
    )
    log_odds = np.log(probabilities[:, _NEGATIVE] / probabilities[:, _POSITIVE])
    return np.column_stack([log_odds, np.log(probabilities[:, _NEUTRAL])])


def binary_labels(y: Any) -> npt.NDArray[np.bool_]:
    """Detractor labels as booleans; 0/1, True/False are accepted, anything else is refused."""
    labels = np.asarray(y)
    if labels.dtype != np.bool_:
        values = set(np.unique(labels).tolist())
        if not values <= {0, 1}:
            raise ValueError(f"Detractor labels must be 0/1 or booleans, got {sorted(values)[:5]}")
        labels = labels.astype(bool)
    if labels.all() or not labels.any():
        raise ValueError("Detractor labels hold a single class; both are needed to fit.")
    return labels


class DetractorHead(BaseEstimator):  # type: ignore[misc]
    """Calibrated P(detractor) from the shared features and the sentiment probabilities.

    Parameters are stored as given (scikit-learn contract); learned state ends in ``_``.
    ``stack_folds=None`` fits the combiner on in-sample text scores, which is only right when
    ``calibrate`` on held-out rows follows (the corpus trainer does that).
    """

    def __init__(
        self,
        C: float = 8.0,  # noqa: N803 - scikit-learn's name for the regularisation strength
        calibration: Calibration = "sigmoid",
        stack_folds: int | None = 5,
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.calibration = calibration
        self.stack_folds = stack_folds
        self.random_state = random_state

    def _text_model(self) -> LogisticRegression:
        # Balanced classes: the star corpora hold 3-25% detractors; the combiner restores the prior.
        return LogisticRegression(
            C=self.C, solver="liblinear", class_weight="balanced", max_iter=1000
        )

    def fit(
        self,
        features: sp.csr_matrix,
        y: Any,
        *,
        sentiment_probabilities: np.ndarray,
        sample_weight: Any = None,
    ) -> Self:
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"calibration must be one of {CALIBRATIONS}, not {self.calibration!r}")
        labels = binary_labels(y)
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self.text_ = self._text_model().fit(features, labels, sample_weight=weights)
        if self.stack_folds is None:
            text_scores = self.text_.decision_function(features)
        else:
            text_scores = self._out_of_fold_scores(features, labels, weights)
        self._fit_combiner(text_scores, sentiment_probabilities, labels, weights)
        self.driver_weights_: dict[str, float] = {}
        return self

    def _out_of_fold_scores(
        self, features: sp.csr_matrix, labels: np.ndarray, weights: FloatArray | None
    ) -> FloatArray:
        assert self.stack_folds is not None
        folds = StratifiedKFold(self.stack_folds, shuffle=True, random_state=self.random_state)
        scores = np.zeros(labels.shape[0])
        for train, held_out in folds.split(np.zeros(labels.shape[0]), labels):
            fold_weights = None if weights is None else weights[train]
            model = clone(self._text_model()).fit(
                features[train], labels[train], sample_weight=fold_weights
            )
            scores[held_out] = model.decision_function(features[held_out])
        return scores

    def _combiner_inputs(
        self, text_scores: FloatArray, sentiment_probabilities: np.ndarray
    ) -> FloatArray:
        return np.column_stack([text_scores, sentiment_signal(sentiment_probabilities)])

    def _fit_combiner(
        self,
        text_scores: FloatArray,
        sentiment_probabilities: np.ndarray,
        labels: np.ndarray,
        weights: FloatArray | None,
    ) -> None:
        inputs = self._combiner_inputs(text_scores, sentiment_probabilities)
        self.combiner_ = LogisticRegression(C=1.0).fit(inputs, labels, sample_weight=weights)
        self.isotonic_: IsotonicRegression | None = None
        if self.calibration == "isotonic":
            platt = self.combiner_.predict_proba(inputs)[:, 1]
            self.isotonic_ = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(
                platt, labels, sample_weight=weights
            )

    def calibrate(
        self,
        features: sp.csr_matrix,
        y: Any,
        *,
        sentiment_probabilities: np.ndarray,
        sample_weight: Any = None,
    ) -> Self:
        """Refit the combiner (and isotonic map) on held-out rows; the text model is kept."""
        labels = binary_labels(y)
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        text_scores = self.text_.decision_function(features)
        self._fit_combiner(text_scores, sentiment_probabilities, labels, weights)
        return self

    def set_driver_weights(self, weights: Mapping[str, float]) -> Self:
        """Per-topic strength of a negative mention (log-odds lift), see ``topic_driver_weights``.

        Drivers are ranked by it; topics without a weight count 1.
        """
        self.driver_weights_ = dict(weights)
        return self

    def predict_proba(
        self,
        features: sp.csr_matrix,
        sentiment_probabilities: np.ndarray,
        topics: Sequence[TopicPrediction] | None = None,
    ) -> FloatArray:
        """P(detractor) per row, shape (n,), calibrated."""
        text_scores = self.text_.decision_function(features)
        inputs = self._combiner_inputs(np.atleast_1d(text_scores), sentiment_probabilities)
        probabilities: FloatArray = self.combiner_.predict_proba(inputs)[:, 1]
        if self.isotonic_ is not None:
            probabilities = np.asarray(self.isotonic_.predict(probabilities), dtype=np.float64)
        return probabilities

    def drivers(self, topics: TopicPrediction) -> list[str]:
        """Negative topics, strongest first: topic score times that topic's detractor lift.

        A topic whose negative mentions did not raise the detractor rate is not a driver.
        """
        strengths = {
            topic: topics.topic_scores.get(topic, 1.0) * self.driver_weights_.get(topic, 1.0)
            for topic, polarity in topics.topic_sentiments.items()
            if polarity == "negative"
        }
        ranked = sorted(strengths.items(), key=lambda item: (-item[1], item[0]))
        return [topic for topic, strength in ranked if strength > 0]


def topic_driver_weights(
    topic_polarities: list[dict[str, str]], detractor: list[bool], *, smoothing: float = 1.0
) -> dict[str, float]:
    """Log-odds lift of detractors among comments with a negative mention of each topic.

    Additive smoothing keeps rare topics near zero rather than at an extreme.

    >>> rows = [{"price": "negative"}, {"price": "negative"}, {}, {}]
    >>> round(topic_driver_weights(rows, [True, True, False, True])["price"], 3)
    1.099
    """
    weights: dict[str, float] = {}
    topics = sorted({topic for row in topic_polarities for topic in row})
    for topic in topics:
        present = [row.get(topic) == "negative" for row in topic_polarities]
        with_topic = [d for d, p in zip(detractor, present, strict=True) if p]
        without = [d for d, p in zip(detractor, present, strict=True) if not p]
        weights[topic] = _log_odds(with_topic, smoothing) - _log_odds(without, smoothing)
    return weights


def _log_odds(labels: list[bool], smoothing: float) -> float:
    positives = sum(labels) + smoothing
    negatives = len(labels) - sum(labels) + smoothing
    return float(np.log(positives / negatives))
