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
#: Rows of the shared feature space -> sentiment probabilities in ``SENTIMENTS`` order.
SentimentProba = Callable[[sp.csr_matrix], np.ndarray]


@dataclass(frozen=True, slots=True)
class SentimentContext:
    """What the sentiment head says about a batch, for heads that build on it.

    The topic head's polarity stacker reads the overall sentiment of each comment and asks the
    sentiment head about the clauses that carry a topic.
    """

    probabilities: np.ndarray  # one row per comment of the batch, SENTIMENTS order
    predict_proba: SentimentProba


@dataclass(slots=True)
class TopicPrediction:
    """The topic fields of one Result."""

    topics: list[str] = field(default_factory=list)  # detected topics, highest score first
    topic_scores: dict[str, float] = field(default_factory=dict)  # every topic of the taxonomy
    topic_sentiments: dict[str, str] = field(default_factory=dict)  # detected topics only
    evidence: dict[str, list[str]] = field(default_factory=dict)  # detected topics only


class TopicModel(Protocol):
    def predict(
        self,
        normalised: Sequence[str],
        features: sp.csr_matrix,
        featurize: Featurize,
        sentiment: SentimentContext | None = None,
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
