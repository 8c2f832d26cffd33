"""The clause polarity model: positive / neutral / negative for one clause of a comment.

It sees the clause's word uni- and bigrams, with the words inside a negator's scope marked
(``không hề chậm`` -> ``không hề NEG_chậm``, so "NEG_chậm" can learn the opposite weight of
"chậm"), plus the lexicon's negation-aware polarity scores. It has its own small hashed word
space rather than the shared features: clauses are scored per comment on the hot path, and
character n-grams of every clause would double the pipeline's featurisation cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Self

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize as l2_normalize

from nlp.clauses import is_unaccented, load_clause_lexicon, polarity_cues
from nlp.hashing import word_hasher
from nlp.result import SENTIMENTS

FloatArray = npt.NDArray[np.float64]
WORD_FEATURES: Final = 2**18


class ClausePolarityModel(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Three-class polarity of normalised clauses (input: a sequence of strings).

    >>> model = ClausePolarityModel().fit(["ngon", "chậm", "bao nhiêu ?"] * 3,
    ...                                   ["positive", "negative", "neutral"] * 3)
    >>> str(model.predict(["không hề chậm"])[0])
    'positive'
    """

    def __init__(self, C: float = 1.0, cue_weight: float = 1.0) -> None:  # noqa: N803
        self.C = C
        self.cue_weight = cue_weight

    def _matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        lexicon = self.lexicon_
        marked_tokens: list[list[str]] = []
        cues = np.zeros((len(texts), 5), dtype=np.float64)
        for row, text in enumerate(texts):
            tokens = text.split()
            marked, scores = polarity_cues(tokens, lexicon, is_unaccented(tokens))
            marked_tokens.append(marked)
            cues[row] = scores
        # log1p tames clauses that stack many sentiment words; the sign split keeps it monotone.
        dense = np.log1p(cues) * self.cue_weight
        # Word uni- and bigrams of the marked clause, L2-normalised: the counts scikit-learn's
        # HashingVectorizer(ngram_range=(1, 2), n_features=WORD_FEATURES, alternate_sign=False,
        # norm="l2") gives, from the cached hasher (tests/test_hashing.py).
        counts = word_hasher(WORD_FEATURES, (1, 2)).counts(marked_tokens)
        words = l2_normalize(counts, copy=False)
        return sp.hstack([words, sp.csr_matrix(dense.astype(np.float32))], format="csr")

    def fit(self, X: Sequence[str], y: Any, sample_weight: Any = None) -> Self:  # noqa: N803
        labels = np.asarray(y)
        unknown = set(labels) - set(SENTIMENTS)
        if unknown:
            raise ValueError(f"Unknown polarity labels {sorted(unknown)}; valid: {SENTIMENTS}")
        # The lexicon is kept in the fitted model: a later edit of the lexicon files must not
        # change what a shipped bundle computes.
        self.lexicon_ = load_clause_lexicon()
        self.model_ = LogisticRegression(C=self.C, max_iter=2000, class_weight="balanced")
        self.model_.fit(self._matrix(list(X)), labels, sample_weight=sample_weight)
        self.classes_ = np.array(SENTIMENTS)
        self.column_order_ = [list(self.model_.classes_).index(c) for c in SENTIMENTS]
        return self

    def predict_proba(self, X: Sequence[str]) -> FloatArray:  # noqa: N803
        if len(X) == 0:
            return np.zeros((0, len(SENTIMENTS)))
        probabilities: FloatArray = self.model_.predict_proba(self._matrix(list(X)))
        return probabilities[:, self.column_order_]

    def predict(self, X: Sequence[str]) -> npt.NDArray[np.str_]:  # noqa: N803
        labels: npt.NDArray[np.str_] = self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return labels


class PolarityStacker(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """The polarity of a detected topic from three opinions, weighed by a logistic regression.

    Inputs, each a probability row in ``SENTIMENTS`` order (see :meth:`features`):
    the clause model on the topic's carrier clauses, the sentiment head on the same clauses, and
    the sentiment head on the whole comment. Most comments hold one feeling, so the whole
    comment is a strong prior; the clause opinions move it when a comment holds two ("ngon
    nhưng đắt"). The topics card compares it with the clause model alone on gold dev.
    """

    def __init__(self, C: float = 1.0) -> None:  # noqa: N803
        self.C = C

    @staticmethod
    def features(clause: FloatArray, carrier: FloatArray, whole: FloatArray) -> FloatArray:
        # Log-probabilities: a linear model over them multiplies the opinions (a product of
        # experts), and the floor keeps a hard 0 from one model from vetoing the others.
        return np.hstack([np.log(np.clip(p, 1e-4, 1.0)) for p in (clause, carrier, whole)])

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:  # noqa: N803
        labels = np.asarray(y)
        unknown = set(labels) - set(SENTIMENTS)
        if unknown:
            raise ValueError(f"Unknown polarity labels {sorted(unknown)}; valid: {SENTIMENTS}")
        self.model_ = LogisticRegression(C=self.C, max_iter=2000, class_weight="balanced")
        self.model_.fit(np.asarray(X), labels, sample_weight=sample_weight)
        self.classes_ = np.array(SENTIMENTS)
        self.column_order_ = [list(self.model_.classes_).index(c) for c in SENTIMENTS]
        return self

    def predict_proba(self, X: Any) -> FloatArray:  # noqa: N803
        matrix = np.asarray(X)
        if len(matrix) == 0:
            return np.zeros((0, len(SENTIMENTS)))
        probabilities: FloatArray = self.model_.predict_proba(matrix)
        return probabilities[:, self.column_order_]
