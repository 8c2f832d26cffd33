"""What the Analyzer expects of the optional heads (topics, detractor) stored in bundles.

A head bundle's ``model.joblib`` holds an object that satisfies one of these protocols, and its
manifest pins the ``features_sha256`` of the features bundle it was trained on. The Analyzer
computes the shared feature matrix once per batch and hands it to every head.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import scipy.sparse as sp

#: Turns normalised texts (e.g. clauses) into rows of the shared feature space.
Featurize = Callable[[Sequence[str]], sp.csr_matrix]


@dataclass(slots=True)
class TopicPrediction:
    """The topic fields of one Result."""

    topics: list[str] = field(default_factory=list)  # detected topics, highest score first
    topic_scores: dict[str, float] = field(default_factory=dict)  # every topic of the taxonomy
    topic_sentiments: dict[str, str] = field(default_factory=dict)  # detected topics only
    evidence: dict[str, list[str]] = field(default_factory=dict)  # detected topics only


class TopicModel(Protocol):
    def predict(
        self, normalised: Sequence[str], features: sp.csr_matrix, featurize: Featurize
    ) -> list[TopicPrediction]: ...


class DetractorModel(Protocol):
    def predict_proba(
        self,
        features: sp.csr_matrix,
        sentiment_probabilities: np.ndarray,
        topics: Sequence[TopicPrediction] | None,
    ) -> np.ndarray:
        """P(detractor) per row, shape (n,), calibrated."""
        ...

    def drivers(self, topics: TopicPrediction) -> list[str]:
        """The topics that push this comment's probability up, strongest first."""
        ...
