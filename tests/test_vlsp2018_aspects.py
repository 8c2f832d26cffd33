"""The VLSP 2018 literature comparison: the shared-task metric by hand, and the command end to end
on a small slice of the corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.training.vlsp2018_metrics import score_aspects
from tests.conftest import requires_corpora, run_cli

GOLD = [
    {("ROOMS#CLEANLINESS", "negative"), ("SERVICE#GENERAL", "positive")},
    {("LOCATION#GENERAL", "neutral")},
]


def test_metric_counts_review_category_pairs_and_triples() -> None:
    guess = [
        {
            ("ROOMS#CLEANLINESS", "negative"),
            ("SERVICE#GENERAL", "negative"),
            ("HOTEL#PRICES", "positive"),
        },
        set(),
    ]
    scores = score_aspects(GOLD, guess)
    # Pairs: 3 gold, 3 predicted, 2 right. Triples: 3 gold, 3 predicted, 1 right.
    assert (scores.aspect_precision, scores.aspect_recall, scores.aspect_f1) == (0.6667,) * 3
    assert (scores.polarity_precision, scores.polarity_recall, scores.polarity_f1) == (0.3333,) * 3
    assert scores.reviews == 2


def test_metric_keeps_reviews_apart_and_handles_the_edges() -> None:
    # The same category in another review is not a hit: pairs are (review, category).
    swapped = [{("LOCATION#GENERAL", "neutral")}, GOLD[0]]
    assert score_aspects(GOLD, swapped).aspect_f1 == 0.0
    assert score_aspects(GOLD, GOLD).polarity_f1 == 1.0
    assert score_aspects(GOLD, [set(), set()]).aspect_f1 == 0.0
    with pytest.raises(ValueError, match="2 gold reviews but 1 predictions"):
        score_aspects(GOLD, [set()])


@pytest.mark.slow
@pytest.mark.corpora
@requires_corpora
def test_evaluate_vlsp2018_trains_tunes_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "vlsp.json"
    done = run_cli(
        "evaluate-vlsp2018", "--domain", "restaurant", "--limit", "200", "--json", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "| restaurant | train+dev | 200 / 200 / 200 |" in done.stdout
    [report] = json.loads(out.read_text(encoding="utf-8"))
    assert report["domain"] == "restaurant"
    assert len(report["categories"]) == 12
    assert [r["protocol"] for r in report["results"]] == ["train", "train+dev"]
    for result in report["results"]:
        for split in ("dev", "test"):
            scores = result[split]
            assert scores["reviews"] == 200
            # Even 200 reviews teach the frequent categories (FOOD#QUALITY is in most reviews).
            assert 0.4 < scores["aspect_f1"] <= 1.0
            assert 0.0 < scores["polarity_f1"] <= scores["aspect_f1"]
    bad = run_cli("evaluate-vlsp2018", "--domain", "spa")
    assert bad.returncode == 2
    assert "hotel, restaurant, all" in bad.stderr
