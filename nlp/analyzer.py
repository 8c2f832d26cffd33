"""The Analyzer facade: the one entry point the CLI, the API, batch jobs and Dask all call."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import scipy.sparse as sp

from nlp.bundle import Bundle, load_bundle
from nlp.errors import RETRAIN_HINT, MissingColumnError, ModelIncompatibleError
from nlp.gc_pause import collector_paused
from nlp.heads import SentimentContext, TopicPrediction
from nlp.normalize import Normalizer
from nlp.paths import models_dir
from nlp.result import (
    FLAG_EMPTY_TEXT,
    FLAG_NOT_TEXT,
    FLAG_TRUNCATED,
    RESULT_FIELDS,
    SENTIMENTS,
    Result,
)

logger = logging.getLogger(__name__)

FEATURES: Final = "features"
SENTIMENT: Final = "sentiment"
TOPICS: Final = "topics"
DETRACTOR: Final = "detractor"
#: Heads an installation may lack; the Result keeps their fields empty until they are installed.
OPTIONAL_HEADS: Final = (TOPICS, DETRACTOR)
BATCH_SIZE: Final = 2048
#: Longest text analysed, in characters; longer ones are analysed from their first
#: ``MAX_TEXT_CHARS`` characters and flagged ``truncated``. Reviews and survey answers are far
#: shorter (1 in 68,705 comments of the bench corpora is longer; 99.9% are under 1,300), and
#: the bound keeps the time per comment bounded whatever a file holds. It matches the longest
#: text the service's POST /v1/analyze accepts.
MAX_TEXT_CHARS: Final = 10_000


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Analyzer:
    """Load once, then analyse many comments.

    >>> analyzer = Analyzer.load()
    >>> analyzer.analyze(["Nhân viên nhiệt tình, giao hàng nhanh"])[0].sentiment
    'positive'
    """

    def __init__(
        self,
        features: Bundle,
        sentiment: Bundle,
        *,
        topics: Bundle | None = None,
        detractor: Bundle | None = None,
        normalizer: Normalizer | None = None,
    ) -> None:
        for head in (sentiment, topics, detractor):
            _check_pin(head, "features_sha256", features, required=True)
        # A head that reads the sentiment head's output (the topics polarity stacker) pins it.
        for head in (topics, detractor):
            _check_pin(head, "sentiment_sha256", sentiment, required=False)
        self.features = features
        self.sentiment = sentiment
        self.topics = topics
        self.detractor = detractor
        self.normalizer = normalizer or Normalizer()
        bundles = [b for b in (features, sentiment, topics, detractor) if b is not None]
        self.model_version = {bundle.name: bundle.version for bundle in bundles}

    @classmethod
    def load(cls, model_dir: Path | None = None) -> Analyzer:
        """Load the bundles from ``model_dir`` (default: shipped models or ``VICX_MODEL_DIR``)."""
        root = model_dir or models_dir()
        features = load_bundle(root / FEATURES, retrain_hint=RETRAIN_HINT)
        sentiment = load_bundle(root / SENTIMENT, retrain_hint=RETRAIN_HINT)
        # An absent optional head is fine; a present but broken one fails loudly in load_bundle.
        optional = {
            name: load_bundle(root / name, retrain_hint=RETRAIN_HINT)
            for name in OPTIONAL_HEADS
            if (root / name).exists()
        }
        logger.info("loaded %s from %s", ", ".join([FEATURES, SENTIMENT, *optional]), root)
        return cls(
            features, sentiment, topics=optional.get(TOPICS), detractor=optional.get(DETRACTOR)
        )

    def featurize(self, normalised: Sequence[str]) -> sp.csr_matrix:
        """Rows of the shared feature space for already-normalised texts."""
        matrix: sp.csr_matrix = self.features.model.transform(normalised)
        return matrix

    def sentiment_probabilities(self, normalised: Sequence[str]) -> np.ndarray:
        """Probabilities in ``SENTIMENTS`` order for already-normalised texts."""
        probabilities: np.ndarray = self.sentiment.model.predict_proba(self.featurize(normalised))
        return probabilities

    def predict_topics(
        self,
        normalised: Sequence[str],
        matrix: sp.csr_matrix | None = None,
        probabilities: np.ndarray | None = None,
    ) -> list[TopicPrediction]:
        """The topics head on already-normalised texts (their features and sentiment
        probabilities are computed when not given). Needs a topics bundle."""
        if self.topics is None:
            raise ValueError("No topics bundle is installed")
        if matrix is None:
            matrix = self.featurize(normalised)
        if probabilities is None:
            probabilities = self.sentiment.model.predict_proba(matrix)
        context = SentimentContext(probabilities, self.sentiment.model.predict_proba)
        predictions: list[TopicPrediction] = self.topics.model.predict(
            normalised, matrix, self.featurize, context
        )
        return predictions

    def _analyze_texts(self, texts: Sequence[str]) -> list[Result]:
        with collector_paused():
            normalised = self.normalizer.normalize_many(texts)
            analysable = [i for i, text in enumerate(normalised) if text]
            analysed = dict(
                zip(analysable, self._analyze_normalised(normalised, analysable), strict=True)
            )
            return [
                analysed.get(i) or Result.empty(FLAG_EMPTY_TEXT, self.model_version)
                for i in range(len(texts))
            ]

    def _analyze_normalised(self, normalised: Sequence[str], rows: Sequence[int]) -> list[Result]:
        """Results for the non-empty ``normalised[i]`` of ``rows``, in that order."""
        if not rows:
            return []
        kept = [normalised[i] for i in rows]
        matrix = self.featurize(kept)
        probabilities = self.sentiment.model.predict_proba(matrix)
        topics: list[TopicPrediction] | None = None
        if self.topics is not None:
            topics = self.predict_topics(kept, matrix, probabilities)
        detractor: list[float] | None = None
        if self.detractor is not None:
            detractor = self.detractor.model.predict_proba(matrix, probabilities, topics).tolist()
        labels = np.argmax(probabilities, axis=1).tolist()
        results = []
        for row, scores in enumerate(probabilities.tolist()):
            result = Result(
                sentiment=SENTIMENTS[labels[row]],
                sentiment_scores={
                    name: round(p, 4) for name, p in zip(SENTIMENTS, scores, strict=True)
                },
                model_version=dict(self.model_version),
            )
            if topics is not None:
                prediction = topics[row]
                result.topics = prediction.topics
                result.topic_scores = prediction.topic_scores
                result.topic_sentiments = prediction.topic_sentiments
                result.evidence = prediction.evidence
            if detractor is not None and self.detractor is not None:
                result.detractor_probability = round(detractor[row], 4)
                if topics is not None:
                    result.detractor_drivers = self.detractor.model.drivers(topics[row])
            results.append(result)
        return results

    def analyze(self, texts: Sequence[object]) -> list[Result]:
        """Analyse comments in input order; empty or non-text items get a flagged neutral result.

        Texts longer than :data:`MAX_TEXT_CHARS` are analysed from their beginning and flagged.
        """
        results: list[Result] = []
        for batch in _chunks(texts, BATCH_SIZE):
            strings = [text[:MAX_TEXT_CHARS] if isinstance(text, str) else "" for text in batch]
            batch_results = self._analyze_texts(strings)
            for item, result in zip(batch, batch_results, strict=True):
                if not isinstance(item, str) and not _is_missing(item):
                    result.flags = [FLAG_NOT_TEXT]
                elif isinstance(item, str) and len(item) > MAX_TEXT_CHARS:
                    result.flags = [*result.flags, FLAG_TRUNCATED]
            results.extend(batch_results)
        return results

    def analyze_frame(self, frame: pd.DataFrame, text_column: str) -> pd.DataFrame:
        """Return ``frame`` with one column per Result field appended (nested values kept)."""
        if text_column not in frame.columns:
            raise MissingColumnError(
                f"Column {text_column!r} not found; "
                f"available: {', '.join(map(str, frame.columns))}",
                column=text_column,
                available=[str(c) for c in frame.columns],
            )
        results = self.analyze(frame[text_column].tolist())
        fields = pd.DataFrame(
            [r.to_dict() for r in results], index=frame.index, columns=list(RESULT_FIELDS)
        )
        # An input column named like a result field keeps its data under an ``input_`` prefix
        # rather than being shadowed by (or shadowing) vicx's output.
        renamed = {c: f"input_{c}" for c in frame.columns if c in RESULT_FIELDS}
        return pd.concat([frame.rename(columns=renamed), fields], axis=1)


def _check_pin(head: Bundle | None, key: str, base: Bundle, *, required: bool) -> None:
    """Refuse a head whose manifest pins (``key``) another ``base`` bundle than the loaded one."""
    if head is None:
        return
    pinned = head.manifest.get(key)
    if pinned is None and not required:
        return
    if pinned != base.model_sha256:
        raise ModelIncompatibleError(
            f"The {head.name} bundle was trained on another {base.name} bundle than the one in "
            f"{base.path}. {RETRAIN_HINT}",
            head=head.name,
            expected=pinned,
            actual=base.model_sha256,
        )


def _is_missing(value: object) -> bool:
    """None and NaN are 'no answer', not a wrong type."""
    if value is None:
        return True
    return isinstance(value, float) and value != value
