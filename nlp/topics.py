"""The 7P topic head: which Ps a comment talks about, the polarity of each, and the evidence.

Two estimators and the lexicon make up :class:`TopicHead`, the object stored in the ``topics``
bundle (it satisfies :class:`nlp.heads.TopicModel`):

- :class:`TopicClassifier`: one logistic regression per P (log-loss, so its scores are
  probabilities) on the shared features joined with the lexicon features; a per-P threshold
  tuned on the gold dev split decides detection.
- :class:`nlp.topic_polarity.ClausePolarityModel`: the polarity of each clause. A detected P takes
  the polarity of the clauses that mention it (its carriers), so "đồ ăn ngon nhưng phục vụ chậm
  quá" is product:positive and process:negative.
- :class:`nlp.topic_polarity.PolarityStacker` (optional): weighs that clause opinion against the
  sentiment head's opinion of the carrier clauses and of the whole comment, when the caller
  passes the sentiment head's :class:`nlp.heads.SentimentContext`.
- evidence: the lexicon terms of that P as the comment wrote them; when the classifier found the
  P without a lexicon term, the clause that scores highest for it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from typing import Any, Final, Self

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from nlp.clauses import clause_spans, is_unaccented, load_clause_lexicon
from nlp.heads import Featurize, SentimentContext, TopicPrediction
from nlp.result import SENTIMENTS
from nlp.topic_lexicon import TopicLexicon, TopicMatch
from nlp.topic_polarity import ClausePolarityModel, PolarityStacker

FloatArray = npt.NDArray[np.float64]
#: Evidence strings kept per topic: enough to highlight, short enough for a CSV cell.
MAX_EVIDENCE: Final = 5
_match_start = attrgetter("start")


class TopicClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Multi-label: one logistic regression per topic over a sparse matrix.

    ``y`` is a binary indicator matrix with one column per name in ``topics``. ``thresholds``
    (one per topic, default 0.5) turn probabilities into labels; the trainer tunes them on dev.
    """

    def __init__(
        self,
        topics: Sequence[str] = (),
        C: float = 4.0,  # noqa: N803 - scikit-learn's name
        thresholds: Sequence[float] | None = None,
    ) -> None:
        self.topics = topics
        self.C = C
        self.thresholds = thresholds

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:  # noqa: N803
        labels = np.asarray(y)
        if labels.ndim != 2 or labels.shape[1] != len(self.topics):
            raise ValueError(
                f"y must have one column per topic ({len(self.topics)}); got shape {labels.shape}"
            )
        self.models_: list[LogisticRegression | float] = []
        for column in range(labels.shape[1]):
            target = labels[:, column].astype(int)
            if target.min() == target.max():
                # A topic with one class in the training data (e.g. promotion from corpora only)
                # gets a constant score instead of failing the whole fit.
                self.models_.append(float(target[0]))
                continue
            # liblinear shuffles the data: a fixed seed makes a retrain reproduce the bundle.
            model = LogisticRegression(C=self.C, max_iter=3000, solver="liblinear", random_state=0)
            self.models_.append(model.fit(X, target, sample_weight=sample_weight))
        self.classes_ = np.array(self.topics)
        return self

    def predict_proba(self, X: Any) -> FloatArray:  # noqa: N803
        if sp.issparse(X) and X.dtype != np.float64:
            # Each regression computes in float64 and would convert the matrix again: once here
            # gives the same products.
            X = X.astype(np.float64)  # noqa: N806
        columns = []
        for model in self.models_:
            if isinstance(model, float):
                columns.append(np.full(X.shape[0], model))
            else:
                columns.append(model.predict_proba(X)[:, 1])
        return np.column_stack(columns) if columns else np.zeros((X.shape[0], 0))

    def decision_thresholds(self) -> FloatArray:
        if self.thresholds is None:
            return np.full(len(self.topics), 0.5)
        return np.asarray(self.thresholds, dtype=np.float64)

    def predict(self, X: Any) -> npt.NDArray[np.int_]:  # noqa: N803
        predicted: npt.NDArray[np.int_] = (
            self.predict_proba(X) >= self.decision_thresholds()
        ).astype(int)
        return predicted


@dataclass(slots=True)
class TopicScores:
    """The topic scores of a batch, with the clause-level work kept for the polarity step."""

    probabilities: FloatArray  # comments x topics, pooled with the best clause
    clause_scores: dict[int, FloatArray] = field(default_factory=dict)  # by multi-clause comment
    first_clause: dict[int, int] = field(default_factory=dict)  # its first row in clause_features
    clause_features: sp.csr_matrix = field(default_factory=lambda: sp.csr_matrix((0, 0)))


@dataclass(slots=True)
class _Comment:
    """Per-comment working state: tokens, clauses and lexicon matches."""

    tokens: list[str]
    spans: list[tuple[int, int]]
    matches: list[TopicMatch]

    def clause_text(self, index: int) -> str:
        start, end = self.spans[index]
        return " ".join(self.tokens[start:end])

    def clause_of(self, position: int) -> int:
        # Spans and matches are sorted by start: bisecting instead of scanning keeps a comment
        # of thousands of clauses linear ("giá, " * 2000 took 1.4 s, most of it here).
        index = bisect_right(self.spans, position, key=itemgetter(0)) - 1
        if index >= 0 and position < self.spans[index][1]:
            return index
        return len(self.spans) - 1

    def matches_in(self, start: int, end: int) -> list[TopicMatch]:
        """The matches that start at a token in ``[start, end)``."""
        first = bisect_left(self.matches, start, key=_match_start)
        return self.matches[first : bisect_left(self.matches, end, key=_match_start)]


class TopicHead:
    """What the ``topics`` bundle stores; see the module docstring.

    ``use_features`` / ``use_lexicon_features`` say which inputs the classifier was trained on
    (the ablation trains variants without one of them).
    """

    def __init__(
        self,
        lexicon: TopicLexicon,
        classifier: TopicClassifier,
        polarity: ClausePolarityModel,
        *,
        use_features: bool = True,
        use_lexicon_features: bool = True,
        lexicon_weight: float = 1.0,
        stacker: PolarityStacker | None = None,
    ) -> None:
        self.lexicon = lexicon
        self.stacker = stacker
        self.classifier = classifier
        self.polarity = polarity
        self.use_features = use_features
        self.use_lexicon_features = use_lexicon_features
        self.lexicon_weight = lexicon_weight
        # Pickled with the head, so the bundle keeps the clause rules it was evaluated with.
        self.clause_lexicon = load_clause_lexicon()

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(self.classifier.topics)

    def design_matrix(
        self, features: sp.csr_matrix, matches: Sequence[Sequence[TopicMatch]]
    ) -> sp.csr_matrix:
        """The classifier's input: shared features and/or lexicon features, side by side."""
        blocks = []
        if self.use_features:
            blocks.append(features)
        if self.use_lexicon_features:
            blocks.append(self.lexicon.features(matches) * self.lexicon_weight)
        return sp.hstack(blocks, format="csr")

    def analyse_texts(self, normalised: Sequence[str]) -> list[_Comment]:
        clause_lexicon = self.clause_lexicon
        comments = []
        for text in normalised:
            tokens = text.split()
            unaccented = is_unaccented(tokens)
            matches = self.lexicon.match_tokens(tokens, unaccented)
            spans = clause_spans(tokens, clause_lexicon, unaccented) or [(0, len(tokens))]
            comments.append(_Comment(tokens, spans, matches))
        return comments

    def topic_probabilities(
        self, comments: Sequence[_Comment], features: sp.csr_matrix, featurize: Featurize
    ) -> TopicScores:
        """Per comment, the mean of its own score and its best clause's score, for every P.

        A bag of words over the whole comment lets one loud clause drown another ("đồ ăn ngon
        nhưng phục vụ chậm quá" scored process 0.19): scoring each clause too and pooling lifted
        gold dev micro-F1 from 0.811 to 0.819 (max alone: 0.815). Only comments of several
        clauses pay for the clause featurisation. Also keeps the clause scores and features.
        """
        matrix = self.design_matrix(features, [c.matches for c in comments])
        probabilities = self.classifier.predict_proba(matrix)
        texts: list[str] = []
        matches: list[list[TopicMatch]] = []
        owners: list[int] = []
        for row, comment in enumerate(comments):
            if len(comment.spans) < 2:
                continue
            for index, (start, end) in enumerate(comment.spans):
                texts.append(comment.clause_text(index))
                matches.append(comment.matches_in(start, end))
                owners.append(row)
        scored = TopicScores(probabilities)
        if texts:
            clause_features = featurize(texts) if self.use_features else sp.csr_matrix((0, 0))
            scores = self.classifier.predict_proba(self.design_matrix(clause_features, matches))
            # Clauses were appended comment by comment, so each comment's rows are contiguous:
            # one reduceat gives every comment's best clause, without a loop over comments.
            rows, starts = np.unique(np.asarray(owners), return_index=True)
            best = np.maximum.reduceat(scores, starts, axis=0)
            own = probabilities[rows]
            probabilities[rows] = (own + np.maximum(own, best)) / 2
            ends = [*starts[1:].tolist(), len(scores)]
            scored.clause_scores = {
                row: scores[start:end]
                for row, start, end in zip(rows.tolist(), starts.tolist(), ends, strict=True)
            }
            scored.first_clause = dict(zip(rows.tolist(), starts.tolist(), strict=True))
            scored.clause_features = clause_features
        return scored

    def predict(
        self,
        normalised: Sequence[str],
        features: sp.csr_matrix,
        featurize: Featurize,
        sentiment: SentimentContext | None = None,
    ) -> list[TopicPrediction]:
        comments = self.analyse_texts(normalised)
        scored = self.topic_probabilities(comments, features, featurize)
        probabilities = scored.probabilities
        detected = probabilities >= self.classifier.decision_thresholds()
        pairs = [(int(r), int(c)) for r, c in zip(*np.nonzero(detected), strict=True)]
        carriers, opinions = self.polarity_inputs(comments, scored, pairs, featurize, sentiment)
        polarity = self.polarity_from(opinions, sentiment)
        labels = dict(zip(pairs, np.argmax(polarity, axis=1).tolist(), strict=True))

        topics = self.topics
        rounded = np.round(probabilities, 4).tolist()
        predictions = [
            TopicPrediction(topic_scores=dict(zip(topics, scores, strict=True)))
            for scores in rounded
        ]
        detected_rows = np.flatnonzero(detected.any(axis=1)).tolist()
        for row in detected_rows:
            prediction = predictions[row]
            # Highest score first; argsort of the whole row keeps the order of ties as before.
            for column in np.argsort(-probabilities[row]).tolist():
                if not detected[row, column]:
                    continue
                topic = topics[column]
                prediction.topics.append(topic)
                prediction.topic_sentiments[topic] = SENTIMENTS[labels[(row, column)]]
                prediction.evidence[topic] = carriers[(row, column)][1]
        return predictions

    def polarity_from(
        self,
        opinions: tuple[FloatArray, FloatArray, FloatArray],
        sentiment: SentimentContext | None,
    ) -> FloatArray:
        """The polarity of each pair from :meth:`polarity_inputs`' opinions: the stacker's
        weighing of all three, or the clause model's alone without a stacker (or without the
        sentiment head's opinion)."""
        stacker: PolarityStacker | None = getattr(self, "stacker", None)
        if stacker is None or sentiment is None:
            return opinions[0]
        return stacker.predict_proba(PolarityStacker.features(*opinions))

    def polarity_inputs(
        self,
        comments: Sequence[_Comment],
        scored: TopicScores,
        pairs: Sequence[tuple[int, int]],
        featurize: Featurize,
        sentiment: SentimentContext | None,
    ) -> tuple[
        dict[tuple[int, int], tuple[list[int], list[str]]],
        tuple[FloatArray, FloatArray, FloatArray],
    ]:
        """Carriers, then the three opinions :class:`PolarityStacker` weighs, one row per pair:
        the clause model on the carrier clauses, the sentiment head on them (the comment's own
        sentiment when it is one clause) and the sentiment head on the whole comment.
        """
        carriers: dict[tuple[int, int], tuple[list[int], list[str]]] = {}
        # Polarity only for the clauses that carry a detected topic: most clauses carry none.
        needed: dict[tuple[int, int], int] = {}
        for row, column in pairs:
            clauses, evidence = self._carrier(
                comments[row], self.topics[column], scored.clause_scores.get(row), column
            )
            carriers[(row, column)] = (clauses, evidence)
            for clause in clauses:
                needed.setdefault((row, clause), len(needed))
        clause_polarity = self.polarity.predict_proba(
            [comments[row].clause_text(clause) for row, clause in needed]
        )
        clause_sentiment = self._clause_sentiment(comments, scored, needed, featurize, sentiment)
        # One sparse (pair x needed clause) averaging matrix instead of a loop over pairs: a
        # batch of 20,000 comments holds about 25,000 pairs.
        sizes = [len(carriers[pair][0]) for pair in pairs]
        columns = [needed[(pair[0], clause)] for pair in pairs for clause in carriers[pair][0]]
        average = sp.csr_matrix(
            (np.repeat(1.0 / np.maximum(sizes, 1), sizes), columns, np.cumsum([0, *sizes])),
            shape=(len(pairs), len(needed)),
        )
        by_clause: FloatArray = average @ clause_polarity
        n = len(SENTIMENTS)
        if sentiment is None:
            return carriers, (by_clause, np.zeros((len(pairs), n)), np.zeros((len(pairs), n)))
        rows = np.fromiter((row for row, _ in pairs), dtype=np.int_, count=len(pairs))
        whole: FloatArray = sentiment.probabilities[rows]
        # A one-clause comment's carrier is the comment itself: its sentiment is the whole's.
        several = np.fromiter((row in scored.first_clause for row in rows.tolist()), dtype=bool)
        by_carrier = np.where(several[:, None], average @ clause_sentiment, whole)
        return carriers, (by_clause, by_carrier, whole)

    @staticmethod
    def _clause_sentiment(
        comments: Sequence[_Comment],
        scored: TopicScores,
        needed: dict[tuple[int, int], int],
        featurize: Featurize,
        sentiment: SentimentContext | None,
    ) -> FloatArray:
        """The sentiment head on each needed clause of a multi-clause comment (rows of ``needed``;
        single-clause comments are left at 0: their carrier is the whole comment)."""
        result = np.zeros((len(needed), len(SENTIMENTS)))
        if sentiment is None:
            return result
        wanted = [
            (i, row, clause) for (row, clause), i in needed.items() if row in scored.first_clause
        ]
        if not wanted:
            return result
        if scored.clause_features.shape[0]:
            # The clause rows are already featurised for the topic scores: reuse them.
            indices = [scored.first_clause[row] + clause for _, row, clause in wanted]
            matrix = scored.clause_features[indices]
        else:
            matrix = featurize([comments[row].clause_text(clause) for _, row, clause in wanted])
        result[[i for i, _, _ in wanted]] = sentiment.predict_proba(matrix)
        return result

    @staticmethod
    def _carrier(
        comment: _Comment, topic: str, clause_scores: FloatArray | None, column: int
    ) -> tuple[list[int], list[str]]:
        """The clauses that carry a detected topic, and its evidence.

        The clauses holding its strong lexicon terms (else its weak ones), the terms as
        evidence; without a term, the clause that scores highest for the topic, as evidence.
        """
        own = [m for m in comment.matches if m.topic == topic]
        strong = [m for m in own if not m.weak] or own
        if strong:
            clauses = sorted({comment.clause_of(m.start) for m in strong})
            return clauses, list(dict.fromkeys(m.surface for m in strong))[:MAX_EVIDENCE]
        best = 0 if clause_scores is None else int(np.argmax(clause_scores[:, column]))
        return [best], [comment.clause_text(best)]
