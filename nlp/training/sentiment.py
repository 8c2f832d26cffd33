"""``vicx train sentiment``: fit the shared features and the sentiment head, tune, evaluate."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from nlp.analyzer import FEATURES, SENTIMENT
from nlp.bundle import load_bundle, save_bundle
from nlp.corpora import corpus_licence
from nlp.errors import RETRAIN_HINT
from nlp.evaluation import SentimentMetrics, evaluate_sentiment, gold_benchmarks, markdown_table
from nlp.features import TextFeaturizer
from nlp.labelled import load_gold
from nlp.result import SENTIMENTS
from nlp.sentiment import SentimentHead
from nlp.tokenize import TokenizerName
from nlp.training.cards import features_card, sentiment_card
from nlp.training.sentiment_data import (
    SENTIMENT_CORPORA,
    SOURCE_WEIGHTS,
    Example,
    training_examples,
)

logger = logging.getLogger(__name__)

BUNDLE_VERSION: Final = "0.4.0"
#: Candidate log-odds shifts for the neutral class, chosen by macro-F1 on the gold dev split.
NEUTRAL_BIAS_GRID: Final = tuple(np.round(np.arange(-0.5, 2.01, 0.25), 2))


@dataclass(slots=True)
class TrainReport:
    output: Path
    examples: int
    per_source: dict[str, int]
    neutral_bias: float
    metrics: list[SentimentMetrics]


def fit_features(examples: list[Example], tokenizer: TokenizerName) -> TextFeaturizer:
    return TextFeaturizer(tokenizer=tokenizer).fit([e.text for e in examples])


def tune_neutral_bias(head: SentimentHead, features: TextFeaturizer) -> float:
    """Pick the neutral prior shift that maximises macro-F1 on the gold dev split."""
    dev = load_gold("dev")
    best_bias, best_f1 = 0.0, -1.0
    for bias in NEUTRAL_BIAS_GRID:
        head.neutral_bias = float(bias)
        result = gold_benchmarks(lambda t: head.predict_proba(features.transform(t)), "dev", dev)
        if result[0].macro_f1 > best_f1:
            best_bias, best_f1 = float(bias), result[0].macro_f1
    head.neutral_bias = best_bias
    logger.info("neutral_bias=%.2f (gold dev macro-F1 %.3f)", best_bias, best_f1)
    return best_bias


def train_sentiment(
    output: Path,
    *,
    tokenizer: TokenizerName = "syllable",
    C: float = 0.3,  # noqa: N803
    evaluate_split: str = "test",
    corpora: Sequence[str] = SENTIMENT_CORPORA,
) -> TrainReport:
    """Train and save the ``features`` and ``sentiment`` bundles into ``output``."""
    examples = training_examples(corpora)
    per_source = dict(Counter(e.source for e in examples))
    logger.info("training on %d examples: %s", len(examples), per_source)
    texts = [e.text for e in examples]

    featurizer = fit_features(examples, tokenizer)
    licences = {name: corpus_licence(name) for name in sorted(per_source) if name in corpora}
    save_bundle(
        output / FEATURES,
        featurizer,
        name=FEATURES,
        version=BUNDLE_VERSION,
        manifest={"tokenizer": tokenizer, "params": featurizer.get_params(), "corpora": licences},
        card=features_card(featurizer, licences),
    )
    features = load_bundle(output / FEATURES, retrain_hint=RETRAIN_HINT)

    matrix = featurizer.transform(texts)
    head = SentimentHead(C=C).fit(
        matrix, [e.label for e in examples], sample_weight=[e.weight for e in examples]
    )
    neutral_bias = tune_neutral_bias(head, featurizer)
    metrics = evaluate_sentiment(
        lambda t: head.predict_proba(featurizer.transform(t)), split=evaluate_split, corpora=corpora
    )
    logger.info("\n%s", markdown_table(metrics))

    features_sha = features.model_sha256
    save_bundle(
        output / SENTIMENT,
        head,
        name=SENTIMENT,
        version=BUNDLE_VERSION,
        manifest={
            "labels": list(SENTIMENTS),
            "features_sha256": features_sha,
            "tokenizer": tokenizer,
            "params": head.get_params(),
            "training_examples": per_source,
            "source_weights": dict(SOURCE_WEIGHTS),
            "corpora": licences,
            "metrics": {m.benchmark: m.as_dict() for m in metrics},
        },
        card=sentiment_card(metrics, per_source, licences, neutral_bias, tokenizer),
    )
    return TrainReport(output, len(examples), per_source, neutral_bias, metrics)
