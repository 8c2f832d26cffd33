"""``vicx train topics``: fit the 7P topic head against the installed features bundle.

Steps: read the features bundle (its SHA-256 is pinned in the topics manifest) -> training rows
(:mod:`nlp.training.topic_data`) -> one logistic regression per P on [shared features + lexicon
features] -> the clause polarity model -> per-P thresholds tuned on the gold dev split pooled
with out-of-fold scores of the team rows -> an ablation of the sources on gold dev -> metrics on
gold test and the corpora's test splits -> the ``topics`` bundle with its manifest and card.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Self

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from nlp.analyzer import FEATURES, SENTIMENT, TOPICS
from nlp.bundle import Bundle, load_bundle, save_bundle
from nlp.corpora import corpus_licence
from nlp.errors import RETRAIN_HINT
from nlp.features import TextFeaturizer
from nlp.heads import SentimentContext, TopicPrediction
from nlp.labelled import LabelledComment, load_gold
from nlp.normalize import normalize, strip_diacritics
from nlp.sentiment import SentimentHead
from nlp.taxonomy import topic_names
from nlp.topic_evaluation import (
    TopicMetrics,
    TopicPredictFn,
    evaluate_topics,
    gold_topic_benchmarks,
)
from nlp.topic_lexicon import TopicLexicon
from nlp.topic_polarity import ClausePolarityModel, PolarityStacker
from nlp.topics import TopicClassifier, TopicHead
from nlp.training.topic_card import topics_card
from nlp.training.topic_data import (
    MULTI_INDUSTRY,
    POLARITY_CORPORA,
    TOPIC_CORPORA,
    WEIGHTS,
    PolarityExample,
    TopicExample,
    polarity_examples,
    topic_examples,
)

logger = logging.getLogger(__name__)

BUNDLE_VERSION: Final = "0.4.0"
THRESHOLD_GRID: Final = tuple(np.round(np.arange(0.05, 0.951, 0.025), 3))
#: Grid points averaged when smoothing the dev F1 curve (5 x 0.025 = +-0.05).
SMOOTHING: Final = 5
#: Folds of the team rows scored out of fold for the thresholds, and the seed that deals them.
THRESHOLD_FOLDS: Final = 5
FOLD_SEED: Final = 0
#: Comments per featurisation call when predicting or fitting the stacker (the Analyzer's size).
STACK_BATCH: Final = 2048
#: Scale of the lexicon columns next to the L2-normalised shared features. At 1.0 the term
#: columns dominated and the model overfitted to them (gold dev micro-F1 0.78); 0.15-0.4 gave
#: 0.80-0.81 (team rows, C=4).
LEXICON_WEIGHT: Final = 0.2


@dataclass(frozen=True, slots=True)
class Variant:
    """One training configuration of the ablation."""

    name: str
    team: bool
    corpora: bool
    shared_features: bool = True
    lexicon_features: bool = True


#: The ablation on gold dev; the last one is what ships.
VARIANTS: Final = (
    Variant("corpora-mapped only", team=False, corpora=True, lexicon_features=False),
    Variant("team set only", team=True, corpora=False, lexicon_features=False),
    Variant("corpora + team", team=True, corpora=True, lexicon_features=False),
    Variant("lexicon features + corpora", team=False, corpora=True),
    Variant("lexicon features + team", team=True, corpora=False),
    Variant("lexicon features + corpora + team", team=True, corpora=True),
)
SHIPPED: Final = VARIANTS[-1]


class LexiconRule(BaseEstimator):  # type: ignore[misc]
    """The lexicon alone as a classifier: score 1 with a strong term, 0.5 with a weak one only.

    Used for the "lexicon only" row of the ablation; it reads the per-topic count columns that
    :meth:`TopicLexicon.features` appends after the term columns.
    """

    def __init__(
        self,
        topics: Sequence[str] = (),
        n_terms: int = 0,
        thresholds: Sequence[float] | None = None,
    ) -> None:
        self.topics = topics
        self.n_terms = n_terms
        self.thresholds = thresholds

    def fit(self, X: Any = None, y: Any = None) -> Self:  # noqa: N803
        self.classes_ = np.array(self.topics)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:  # noqa: N803
        n_topics = len(self.topics)
        strong = X[:, self.n_terms : self.n_terms + n_topics].toarray() > 0
        weak = X[:, self.n_terms + n_topics :].toarray() > 0
        return np.where(strong, 1.0, np.where(weak, 0.5, 0.0))

    def decision_thresholds(self) -> np.ndarray:
        return TopicClassifier.decision_thresholds(self)


@dataclass(slots=True)
class TopicTrainReport:
    output: Path | None
    per_source: dict[str, int]
    thresholds: dict[str, float]
    ablation: list[tuple[str, list[TopicMetrics]]] = field(default_factory=list)
    metrics: list[TopicMetrics] = field(default_factory=list)
    polarity_ablation: list[tuple[str, TopicMetrics]] = field(default_factory=list)
    #: The shipped head scored on the evaluation split with each way of tuning its thresholds.
    threshold_comparison: list[tuple[str, TopicMetrics]] = field(default_factory=list)


def _label_matrix(examples: Sequence[TopicExample], topics: Sequence[str]) -> np.ndarray:
    return np.array([[t in e.topics for t in topics] for e in examples], dtype=int)


def head_predict(
    head: TopicHead, featurizer: TextFeaturizer, sentiment: SentimentHead
) -> TopicPredictFn:
    """What the Analyzer asks of a topics head, for a head not yet in a bundle."""

    def predict(normalised: Sequence[str]) -> list[TopicPrediction]:
        predictions: list[TopicPrediction] = []
        for start in range(0, len(normalised), STACK_BATCH):
            batch = normalised[start : start + STACK_BATCH]
            matrix = featurizer.transform(batch)
            context = SentimentContext(sentiment.predict_proba(matrix), sentiment.predict_proba)
            predictions += head.predict(batch, matrix, featurizer.transform, context)
        return predictions

    return predict


def fit_stacker(
    head: TopicHead,
    featurizer: TextFeaturizer,
    sentiment: SentimentHead,
    examples: Sequence[TopicExample],
) -> PolarityStacker:
    """The polarity stacker, fitted on the team rows' labelled topics through ``head``'s own
    carrier clauses: the inputs it will see at prediction time, for the topics the writers
    marked (the corpora's reviews label aspects, not the carriers the head picks).

    The sentiment head and the clause model were trained on these rows too, so their opinions
    here are more often right than on new comments; gold dev, not this fit, is what the card
    reports.
    """
    topics = head.topics
    rows = [e for e in examples if e.source == MULTI_INDUSTRY]
    inputs: list[np.ndarray] = []
    labels: list[str] = []
    for start in range(0, len(rows), STACK_BATCH):
        batch = rows[start : start + STACK_BATCH]
        texts = [e.text for e in batch]
        comments = head.analyse_texts(texts)
        matrix = featurizer.transform(texts)
        scored = head.topic_probabilities(comments, matrix, featurizer.transform)
        context = SentimentContext(sentiment.predict_proba(matrix), sentiment.predict_proba)
        pairs = []
        for row, example in enumerate(batch):
            for topic, polarity in example.topics.items():
                if polarity is not None:
                    pairs.append((row, topics.index(topic)))
                    labels.append(polarity)
        _, opinions = head.polarity_inputs(comments, scored, pairs, featurizer.transform, context)
        inputs.append(PolarityStacker.features(*opinions))
    return PolarityStacker().fit(np.vstack(inputs), labels)


def head_probabilities(
    head: TopicHead, featurizer: TextFeaturizer, texts: Sequence[str]
) -> np.ndarray:
    """The topic scores ``head`` gives already-normalised ``texts`` (pooled with clauses)."""
    comments = head.analyse_texts(texts)
    return head.topic_probabilities(
        comments, featurizer.transform(texts), featurizer.transform
    ).probabilities


def truth_matrix(topic_sets: Sequence[Collection[str]], topics: Sequence[str]) -> np.ndarray:
    return np.array([[t in labelled for t in topics] for labelled in topic_sets], dtype=bool)


def thresholds_from(probabilities: np.ndarray, truth: np.ndarray) -> list[float]:
    """Per topic (column), the threshold that maximises that topic's F1 on these rows."""
    thresholds = []
    grid = np.asarray(THRESHOLD_GRID)
    for column in range(truth.shape[1]):
        positive = truth[:, column]
        curve = []
        for threshold in grid:
            guess = probabilities[:, column] >= threshold
            tp = int(np.sum(guess & positive))
            curve.append(2 * tp / max(1, int(guess.sum()) + int(positive.sum())))
        # With 40-120 positives per P the raw F1 curve is jagged (retrains moved the process
        # threshold from 0.375 to 0.6): pick the best of the curve smoothed over +-0.05, ties
        # going to the threshold nearest 0.5.
        smooth = np.convolve(np.asarray(curve), np.ones(SMOOTHING) / SMOOTHING, mode="same")
        best = np.flatnonzero(smooth >= smooth.max() - 1e-9)
        thresholds.append(float(grid[best[np.argmin(np.abs(grid[best] - 0.5))]]))
    return thresholds


def tune_thresholds(
    head: TopicHead, featurizer: TextFeaturizer, dev: Sequence[LabelledComment]
) -> list[float]:
    """Per topic, the threshold that maximises that topic's F1 on the gold dev split."""
    probabilities = head_probabilities(head, featurizer, [normalize(c.text) for c in dev])
    return thresholds_from(probabilities, truth_matrix([c.topics for c in dev], head.topics))


def fold_assignment(texts: Sequence[str], folds: int) -> np.ndarray:
    """A fold per text, dealt at random (seeded) to the texts as written without diacritics, so
    a comment and its copy without diacritics always share one."""
    keys = sorted({strip_diacritics(text) for text in texts})
    dealt = np.random.default_rng(FOLD_SEED).permutation(len(keys)) % folds
    fold_of = dict(zip(keys, dealt.tolist(), strict=True))
    return np.array([fold_of[strip_diacritics(text)] for text in texts], dtype=np.int_)


def out_of_fold(
    fit: Callable[[Sequence[TopicExample]], TopicHead],
    featurizer: TextFeaturizer,
    topics: Sequence[str],
    examples: Sequence[TopicExample],
) -> tuple[np.ndarray, np.ndarray]:
    """Scores of every team row from a head ``fit`` without its fold, and the rows' truth.

    A row and its copy without diacritics share a fold, or the copy would answer for it.
    """
    team = [i for i, e in enumerate(examples) if e.source == MULTI_INDUSTRY]
    folds = fold_assignment([examples[i].text for i in team], THRESHOLD_FOLDS)
    scores = np.zeros((len(team), len(topics)))
    for fold in range(THRESHOLD_FOLDS):
        held = np.flatnonzero(folds == fold)
        left_out = {team[i] for i in held.tolist()}
        rest = [e for i, e in enumerate(examples) if i not in left_out]
        head = fit(rest)
        scores[held] = head_probabilities(head, featurizer, [examples[team[i]].text for i in held])
        logger.info("threshold fold %d of %d scored", fold + 1, THRESHOLD_FOLDS)
    return scores, truth_matrix([examples[i].topics for i in team], topics)


def pooled_thresholds(
    oof_scores: np.ndarray, oof_truth: np.ndarray, dev_scores: np.ndarray, dev_truth: np.ndarray
) -> list[float]:
    """Thresholds tuned on gold dev pooled with the team rows' out-of-fold scores.

    Dev alone is 261 comments, 40-120 positives per P: its best thresholds fit its own noise.
    The out-of-fold rows beside it (18,300 at training round 8: the team rows and their copies
    without diacritics) steady them; the card compares the two on the evaluation split
    (:func:`compare_thresholds`).
    """
    return thresholds_from(np.vstack([oof_scores, dev_scores]), np.vstack([oof_truth, dev_truth]))


def compare_thresholds(
    head: TopicHead,
    featurizer: TextFeaturizer,
    sentiment: SentimentHead,
    dev_only: Sequence[float],
    split: str,
    shipped: TopicMetrics,
) -> list[tuple[str, TopicMetrics]]:
    """The head on gold ``split`` with the ``dev_only`` thresholds, and as shipped (pooled)."""
    pooled = head.classifier.thresholds
    head.classifier.thresholds = list(dev_only)
    try:
        predict = head_predict(head, featurizer, sentiment)
        scored = gold_topic_benchmarks(predict, split, head.topics, load_gold(split))[0]
    finally:
        head.classifier.thresholds = pooled
    return [("gold dev alone", scored), ("gold dev + out-of-fold team rows (shipped)", shipped)]


def fit_polarity(lexicon: TopicLexicon, *, corpora: bool = True) -> ClausePolarityModel:
    rows: list[PolarityExample] = polarity_examples(lexicon, corpora=corpora)
    logger.info("clause polarity rows: %s", dict(Counter(r.source for r in rows)))
    return ClausePolarityModel().fit(
        [r.text for r in rows], [r.label for r in rows], sample_weight=[r.weight for r in rows]
    )


def fit_head(
    variant: Variant,
    featurizer: TextFeaturizer,
    lexicon: TopicLexicon,
    polarity: ClausePolarityModel,
    topics: Sequence[str],
    examples: Sequence[TopicExample],
) -> TopicHead:
    rows = [
        e
        for e in examples
        if (variant.team and e.source == "multi_industry")
        or (variant.corpora and e.source != "multi_industry")
    ]
    head = TopicHead(
        lexicon,
        TopicClassifier(topics=tuple(topics)),
        polarity,
        use_features=variant.shared_features,
        use_lexicon_features=variant.lexicon_features,
        lexicon_weight=LEXICON_WEIGHT,
    )
    texts = [e.text for e in rows]
    matches = [lexicon.match(t) for t in texts]
    features = featurizer.transform(texts) if variant.shared_features else sp.csr_matrix((0, 0))
    head.classifier.fit(
        head.design_matrix(features, matches),
        _label_matrix(rows, topics),
        sample_weight=np.array([e.weight for e in rows]),
    )
    return head


def lexicon_only_head(
    lexicon: TopicLexicon, polarity: ClausePolarityModel, topics: Sequence[str]
) -> TopicHead:
    rule = LexiconRule(topics=tuple(topics), n_terms=len(lexicon.term_ids)).fit()
    return TopicHead(lexicon, rule, polarity, use_features=False)


def run_ablation(
    featurizer: TextFeaturizer,
    sentiment: SentimentHead,
    shipped: TopicHead,
    topics: Sequence[str],
    examples: Sequence[TopicExample],
) -> list[tuple[str, list[TopicMetrics]]]:
    """Gold dev metrics of each source combination, thresholds tuned on dev for each; every
    variant shares the shipped head's lexicon, clause polarity model and stacker."""
    dev = load_gold("dev")
    results = []
    lexicon, polarity, stacker = shipped.lexicon, shipped.polarity, shipped.stacker
    rule_head = lexicon_only_head(lexicon, polarity, topics)
    rule_head.stacker = stacker
    rule_head.classifier.thresholds = tune_thresholds(rule_head, featurizer, dev)
    predict = head_predict(rule_head, featurizer, sentiment)
    results.append(("lexicon only (rule)", gold_topic_benchmarks(predict, "dev", topics, dev)))
    for variant in VARIANTS:
        head = fit_head(variant, featurizer, lexicon, polarity, topics, examples)
        head.stacker = stacker
        head.classifier.thresholds = tune_thresholds(head, featurizer, dev)
        predict = head_predict(head, featurizer, sentiment)
        metrics = gold_topic_benchmarks(predict, "dev", topics, dev)
        logger.info("ablation %s: dev micro-F1 %.3f", variant.name, metrics[0].micro_f1)
        results.append((variant.name, metrics))
    return results


def polarity_ablation(
    head: TopicHead, featurizer: TextFeaturizer, sentiment: SentimentHead
) -> list[tuple[str, TopicMetrics]]:
    """Gold dev pair F1 and polarity accuracy of ``head`` without and with its stacker."""
    dev = load_gold("dev")
    stacker, rows = head.stacker, []
    for name, used in (("clause polarity model only", None), ("stacked (shipped)", stacker)):
        head.stacker = used
        predict = head_predict(head, featurizer, sentiment)
        rows.append((name, gold_topic_benchmarks(predict, "dev", head.topics, dev)[0]))
    head.stacker = stacker
    return rows


def train_topics(
    models_dir: Path,
    output: Path | None,
    *,
    ablation: bool = True,
    evaluate_split: str = "test",
) -> TopicTrainReport:
    """Train the topic head on the features bundle in ``models_dir``; save it under ``output``."""
    features: Bundle = load_bundle(models_dir / FEATURES, retrain_hint=RETRAIN_HINT)
    featurizer: TextFeaturizer = features.model
    sentiment_bundle: Bundle = load_bundle(models_dir / SENTIMENT, retrain_hint=RETRAIN_HINT)
    sentiment: SentimentHead = sentiment_bundle.model
    topics = topic_names()
    lexicon = TopicLexicon.load(topics=topics)
    examples = topic_examples(topics)
    per_source = dict(Counter(e.source for e in examples))
    logger.info("topic rows: %s", per_source)
    polarity = fit_polarity(lexicon)
    head = fit_head(SHIPPED, featurizer, lexicon, polarity, topics, examples)
    dev = load_gold("dev")
    oof = out_of_fold(
        lambda rows: fit_head(SHIPPED, featurizer, lexicon, polarity, topics, rows),
        featurizer,
        topics,
        examples,
    )
    # Dev is scored once: for the pooled thresholds and for the dev-only ones they are compared
    # with.
    dev_scores = head_probabilities(head, featurizer, [normalize(c.text) for c in dev])
    dev_truth = truth_matrix([c.topics for c in dev], topics)
    head.classifier.thresholds = pooled_thresholds(*oof, dev_scores, dev_truth)
    thresholds = dict(zip(topics, head.classifier.thresholds, strict=True))
    logger.info("thresholds: %s", thresholds)
    head.stacker = fit_stacker(head, featurizer, sentiment, examples)
    ablation_rows = run_ablation(featurizer, sentiment, head, topics, examples) if ablation else []
    metrics = evaluate_topics(head_predict(head, featurizer, sentiment), evaluate_split, topics)
    report = TopicTrainReport(output, per_source, thresholds, ablation_rows, metrics)
    report.threshold_comparison = compare_thresholds(
        head,
        featurizer,
        sentiment,
        thresholds_from(dev_scores, dev_truth),
        evaluate_split,
        metrics[0],
    )
    if ablation:
        report.polarity_ablation = polarity_ablation(head, featurizer, sentiment)
    if output is None:
        return report
    corpora = sorted({*TOPIC_CORPORA, *POLARITY_CORPORA})
    licences = {name: corpus_licence(name) for name in corpora}
    save_bundle(
        output / TOPICS,
        head,
        name=TOPICS,
        version=BUNDLE_VERSION,
        manifest={
            "labels": list(topics),
            "features_sha256": features.model_sha256,
            # The stacker reads the sentiment head's probabilities: the Analyzer refuses another.
            "sentiment_sha256": sentiment_bundle.model_sha256,
            "thresholds": thresholds,
            "classifier_params": head.classifier.get_params(),
            "polarity_params": polarity.get_params(),
            "stacker_params": head.stacker.get_params(),
            "training_examples": per_source,
            "source_weights": dict(WEIGHTS),
            "corpora": licences,
            "metrics": {m.benchmark: m.as_dict() for m in metrics},
            "ablation_dev": {name: [m.as_dict() for m in rows] for name, rows in ablation_rows},
            "polarity_ablation_dev": {name: m.as_dict() for name, m in report.polarity_ablation},
            "threshold_comparison": {name: m.as_dict() for name, m in report.threshold_comparison},
        },
        card=topics_card(report, topics, licences, _previous_card(output / TOPICS)),
    )
    return report


def _previous_card(bundle_dir: Path) -> str:
    card = bundle_dir / "CARD.md"
    return card.read_text(encoding="utf-8") if card.is_file() else ""
