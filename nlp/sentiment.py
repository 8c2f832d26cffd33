"""The overall-sentiment head: a linear SVM on the shared features, calibrated probabilities."""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import LinearSVC

from nlp.result import SENTIMENTS

FloatArray = npt.NDArray[np.float64]


class SentimentHead(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Three-class sentiment over a sparse feature matrix.

    ``neutral_bias`` is a log-odds shift for the neutral class, tuned on the gold dev split:
    review corpora teach far fewer neutrals than survey answers contain, and a prior shift is
    the honest correction for that, rather than duplicating neutral rows.
    """

    def __init__(
        self,
        C: float = 0.3,  # noqa: N803 - scikit-learn's name for the regularisation strength
        calibration: str = "sigmoid",
        calibration_folds: int = 3,
        neutral_bias: float = 0.0,
    ) -> None:
        self.C = C
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.neutral_bias = neutral_bias

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:  # noqa: N803
        labels = np.asarray(y)
        unknown = set(labels) - set(SENTIMENTS)
        if unknown:
            raise ValueError(f"Unknown sentiment labels {sorted(unknown)}; valid: {SENTIMENTS}")
        # A fixed seed: liblinear shuffles its coordinates, and a retrain must reproduce the card.
        svm = LinearSVC(C=self.C, class_weight="balanced", random_state=0)
        self.calibrated_ = CalibratedClassifierCV(
            svm, method=self.calibration, cv=self.calibration_folds, ensemble=False
        )
        self.calibrated_.fit(X, labels, sample_weight=sample_weight)
        # float32 weights halve the bundle; the predictions do not change at this precision.
        for calibrated in self.calibrated_.calibrated_classifiers_:
            svm_fitted = calibrated.estimator
            svm_fitted.coef_ = svm_fitted.coef_.astype(np.float32)
            svm_fitted.intercept_ = svm_fitted.intercept_.astype(np.float32)
        self.classes_ = np.array(SENTIMENTS)
        # Column order of the calibrated model follows sorted labels; map it to SENTIMENTS once.
        self.column_order_ = [list(self.calibrated_.classes_).index(c) for c in SENTIMENTS]
        return self

    def predict_proba(self, X: Any) -> FloatArray:  # noqa: N803
        probabilities: FloatArray = self.calibrated_.predict_proba(X)[:, self.column_order_]
        if self.neutral_bias:
            neutral = SENTIMENTS.index("neutral")
            probabilities = probabilities.copy()
            probabilities[:, neutral] *= np.exp(self.neutral_bias)
            probabilities /= probabilities.sum(axis=1, keepdims=True)
        return probabilities

    def predict(self, X: Any) -> npt.NDArray[np.str_]:  # noqa: N803
        labels: npt.NDArray[np.str_] = self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return labels
