"""Metric helpers on small hand-computed examples."""

from __future__ import annotations

import pytest

from nlp.evaluation import markdown_table, score


def test_score_hand_computed() -> None:
    truth = ["positive", "positive", "negative", "neutral"]
    predicted = ["positive", "negative", "negative", "positive"]
    metrics = score("toy", truth, predicted)
    assert metrics.accuracy == 0.5
    # positive: P=1/2 R=1/2 -> 0.5; negative: P=1/2 R=1 -> 0.6667; neutral: 0.
    assert metrics.f1 == {"positive": 0.5, "neutral": 0.0, "negative": 0.6667}
    assert metrics.macro_f1 == pytest.approx((0.5 + 2 / 3) / 3, abs=1e-4)


def test_binary_benchmark_scores_only_its_classes() -> None:
    metrics = score("binary", ["positive", "negative"], ["positive", "neutral"])
    assert metrics.labels == ("positive", "negative")
    assert metrics.f1["negative"] == 0.0
    assert "| binary | 2 | 0.500 |" in markdown_table([metrics])


def test_gold_scores_an_emoji_only_answer_as_analyze_answers_it() -> None:
    from collections.abc import Sequence

    import numpy as np

    from nlp.analyzer import Analyzer
    from nlp.evaluation import gold_benchmarks
    from nlp.labelled import LabelledComment

    def always_negative(texts: Sequence[str]) -> np.ndarray:
        return np.tile([0.1, 0.2, 0.7], (len(texts), 1))

    rows = [
        LabelledComment("e1", "😐", "neutral", {}, 5, "retail", "short", (), "test", "t"),
        LabelledComment("e2", "chán quá", "negative", {}, 2, "retail", "short", (), "test", "t"),
    ]
    overall = gold_benchmarks(always_negative, "test", rows)[0]
    assert overall.accuracy == 1.0  # the emoji-only row is neutral, not the model's "negative"
    assert Analyzer.load().analyze(["😐"])[0].sentiment == "neutral"
