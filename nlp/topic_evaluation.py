"""Evaluation of the 7P topic head on the gold set and on the corpora's mapped aspect labels.

Every topic number in the README and the topics model card comes from here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

from nlp.aspect_mapping import load_mapping, map_record
from nlp.corpora import load_corpus
from nlp.evaluation import gold_style_groups
from nlp.heads import TopicPrediction
from nlp.labelled import LabelledComment, load_gold
from nlp.markdown import markdown_table
from nlp.normalize import normalize

#: Maps already-normalised texts to topic predictions.
TopicPredictFn = Callable[[Sequence[str]], list[TopicPrediction]]
#: The corpora whose test splits the mapped-aspect benchmark uses.
ASPECT_BENCHMARKS: Final = (
    "uit_visfd",
    "vlsp2018_hotel",
    "vlsp2018_restaurant",
    "tiki_fashion_absa",
    "shopee_lipstick_absa",
)


@dataclass(frozen=True, slots=True)
class TopicMetrics:
    benchmark: str
    n: int
    micro_f1: float
    f1: dict[str, float]  # per topic present in the truth
    pair_micro_f1: float  # (topic, polarity) pairs; pairs of unknown polarity are left out
    polarity_accuracy: float  # on the topics both truth and prediction have, polarity known

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def lowest_f1(self) -> float:
        return min(self.f1.values(), default=0.0)


def _f1(tp: int, fp: int, fn: int) -> float:
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def score_topics(
    benchmark: str,
    truth: Sequence[Mapping[str, str | None]],
    predicted: Sequence[TopicPrediction],
    topics: Sequence[str],
) -> TopicMetrics:
    """Micro-F1 and per-topic F1 of detection, pair micro-F1, polarity accuracy."""
    counts = {t: [0, 0, 0] for t in topics}  # tp, fp, fn
    pair = [0, 0, 0]
    agree = total = 0
    for gold, guess in zip(truth, predicted, strict=True):
        found = set(guess.topics)
        for topic in topics:
            if topic in gold and topic in found:
                counts[topic][0] += 1
            elif topic in found:
                counts[topic][1] += 1
            elif topic in gold:
                counts[topic][2] += 1
        gold_pairs = {(t, p) for t, p in gold.items() if p is not None}
        known = {t for t, p in gold.items() if p is not None}
        guess_pairs = {
            (t, p) for t, p in guess.topic_sentiments.items() if t in known or t not in gold
        }
        pair[0] += len(gold_pairs & guess_pairs)
        pair[1] += len(guess_pairs - gold_pairs)
        pair[2] += len(gold_pairs - guess_pairs)
        for topic in known & found:
            total += 1
            agree += guess.topic_sentiments.get(topic) == gold[topic]
    present = [t for t in topics if counts[t][0] + counts[t][2] > 0]
    tp = sum(counts[t][0] for t in topics)
    fp = sum(counts[t][1] for t in topics)
    fn = sum(counts[t][2] for t in topics)
    return TopicMetrics(
        benchmark=benchmark,
        n=len(truth),
        micro_f1=round(_f1(tp, fp, fn), 4),
        f1={t: round(_f1(*counts[t]), 4) for t in present},
        pair_micro_f1=round(_f1(*pair), 4),
        polarity_accuracy=round(agree / total, 4) if total else 0.0,
    )


def gold_topic_benchmarks(
    predict: TopicPredictFn,
    split: str,
    topics: Sequence[str],
    comments: Sequence[LabelledComment] | None = None,
) -> list[TopicMetrics]:
    """The gold split overall, then its standard rows and its unaccented/teencode rows apart."""
    rows = list(comments) if comments is not None else load_gold(split)
    predicted = predict([normalize(c.text) for c in rows])
    truth = [c.topics for c in rows]
    return [
        score_topics(name, t, p, topics)
        for name, t, p in gold_style_groups(split, rows, truth, predicted)
    ]


def corpus_topic_benchmark(
    predict: TopicPredictFn, name: str, split: str, topics: Sequence[str]
) -> TopicMetrics:
    """Mapped aspect detection on a corpus split (records with unresolved labels left out).

    Only the Ps the corpus labels at all are scored: a corpus that never labels promotion cannot
    say whether a promotion detection is wrong.
    """
    labels = load_mapping(topics)[name]
    mapped = [m for m in (map_record(r, labels) for r in load_corpus(name, split)) if m]
    labelled = sorted({v for v in labels.values() if v in topics}, key=list(topics).index)
    predicted = predict([m.text for m in mapped])
    restricted = [
        TopicPrediction(
            topics=[t for t in p.topics if t in labelled],
            topic_sentiments={t: s for t, s in p.topic_sentiments.items() if t in labelled},
        )
        for p in predicted
    ]
    return score_topics(f"{name}:{split}", [m.topics for m in mapped], restricted, labelled)


def evaluate_topics(
    predict: TopicPredictFn,
    split: str = "test",
    topics: Sequence[str] | None = None,
    corpora: Sequence[str] = ASPECT_BENCHMARKS,
) -> list[TopicMetrics]:
    """Gold ``split`` (overall, standard, informal) plus each corpus's mapped ``split``."""
    from nlp.taxonomy import topic_names

    names = tuple(topics) if topics is not None else topic_names()
    metrics = gold_topic_benchmarks(predict, split, names)
    metrics += [corpus_topic_benchmark(predict, name, split, names) for name in corpora]
    return metrics


def analyzer_topics(analyzer: Any) -> TopicPredictFn:
    """The topic predictions of an :class:`nlp.Analyzer` with a topics bundle installed."""

    def predict(normalised: Sequence[str]) -> list[TopicPrediction]:
        predictions: list[TopicPrediction] = []
        for start in range(0, len(normalised), 2048):
            batch = list(normalised[start : start + 2048])
            predictions += analyzer.predict_topics(batch)
        return predictions

    return predict


def topic_markdown_table(metrics: Sequence[TopicMetrics], topics: Sequence[str]) -> str:
    short = {"physical_evidence": "phys_ev"}
    headers = [
        "benchmark",
        "n",
        "topic micro-F1",
        "lowest P F1",
        "pair micro-F1",
        "polarity acc",
        *(f"F1 {short.get(t, t)}" for t in topics),
    ]
    rows = [
        [
            m.benchmark,
            m.n,
            f"{m.micro_f1:.3f}",
            f"{m.lowest_f1:.3f}",
            f"{m.pair_micro_f1:.3f}",
            f"{m.polarity_accuracy:.3f}",
            *("-" if t not in m.f1 else f"{m.f1[t]:.3f}" for t in topics),
        ]
        for m in metrics
    ]
    return markdown_table(headers, rows)
