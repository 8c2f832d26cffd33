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
