"""The VLSP 2018 literature comparison: the shared-task metric by hand, the model's clause pooling,
category columns and clause-blended detection on a toy corpus, and the command end to end on a
small slice of the corpus."""

from __future__ import annotations

import json
from itertools import product
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from nlp.normalize import normalize
from nlp.training.vlsp2018_aspects import (
    AspectConfig,
    AspectSentimentModel,
    Review,
    best_clause_scores,
    by_category,
    pool_clauses,
)
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


def test_best_clause_scores_take_each_reviews_own_clauses() -> None:
    # Review 0 owns clauses 0-1, review 1 owns clause 2 only.
    scores = np.array([[0.1, 0.9], [0.7, 0.2], [0.3, 0.3]])
    best = best_clause_scores(scores, np.array([0, 2]))
    assert best.tolist() == [[0.7, 0.9], [0.3, 0.3]]


def test_pool_clauses_keeps_clauses_near_the_best_weighted_by_score() -> None:
    scores = np.array([[0.8, 0.1], [0.6, 0.4], [0.2, 0.0], [0.5, 0.0]])
    starts, ends = np.array([0, 3]), np.array([3, 4])
    pooled = pool_clauses(scores, starts, ends, [(0, 0), (0, 1), (1, 0)], 0.5).toarray()
    assert pooled.shape == (3, 4)
    # Category 0 of review 0: clauses 0 (best) and 1 (0.75 of it); clause 2 is below half.
    assert pooled[0].round(3).tolist() == [1.0, 0.75, 0.0, 0.0]
    # Category 1 of review 0 is best in clause 1; a pair never reads another review's clauses.
    assert pooled[1].round(3).tolist() == [0.0, 1.0, 0.0, 0.0]
    assert pooled[2].tolist() == [0.0, 0.0, 0.0, 1.0]
    # Ratio 1 reads the best clause alone; ratio 0 every clause of the review.
    assert pool_clauses(scores, starts, ends, [(0, 0)], 1.0).toarray().tolist() == [
        [1.0, 0.0, 0.0, 0.0]
    ]
    assert np.count_nonzero(pool_clauses(scores, starts, ends, [(0, 0)], 0.0).toarray()) == 3
    # A category no clause scores (a constant-0 detector) reads the whole review evenly.
    flat = pool_clauses(np.zeros((3, 1)), np.array([0]), np.array([3]), [(0, 0)], 0.5)
    assert flat.toarray().tolist() == [[1.0, 1.0, 1.0]]


def test_by_category_gives_each_category_its_own_columns() -> None:
    block = sp.csr_matrix(np.array([[1.0, 2.0], [3.0, 0.0], [0.0, 4.0]]))
    crossed = by_category(block, np.array([2, 0, 2]), 3).toarray()
    assert crossed.shape == (3, 6)
    assert crossed[0].tolist() == [0.0, 0.0, 0.0, 0.0, 1.0, 2.0]
    assert crossed[1].tolist() == [3.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert crossed[2].tolist() == [0.0, 0.0, 0.0, 0.0, 0.0, 4.0]


#: One judgement per clause, both polarities for both categories, so only the clause that
#: mentions a category tells its polarity.
_ROOMS = {"positive": "phòng rất sạch sẽ", "negative": "phòng bẩn và hôi"}
_STAFF = {"positive": "nhân viên thân thiện nhiệt tình", "negative": "nhân viên thô lỗ khó chịu"}


def _mixed_reviews() -> list[Review]:
    reviews = []
    for room, staff in product(("positive", "negative"), repeat=2):
        text = normalize(f"{_ROOMS[room]} , nhưng {_STAFF[staff]}")
        labels = frozenset({("ROOMS#CLEANLINESS", room), ("SERVICE#GENERAL", staff)})
        reviews += [Review(text, labels)] * 3
    for polarity in ("positive", "negative"):
        reviews += [
            Review(normalize(_ROOMS[polarity]), frozenset({("ROOMS#CLEANLINESS", polarity)}))
        ]
        reviews += [Review(normalize(_STAFF[polarity]), frozenset({("SERVICE#GENERAL", polarity)}))]
    return reviews * 2


@pytest.mark.parametrize("category_weight", [0.0, 2.0])
def test_model_reads_each_categorys_clause_for_its_polarity(category_weight: float) -> None:
    categories = ("ROOMS#CLEANLINESS", "SERVICE#GENERAL")
    config = AspectConfig(polarity_category_weight=category_weight)
    model = AspectSentimentModel(categories, config).fit(_mixed_reviews())
    texts = [
        normalize(f"{_ROOMS['negative']} , nhưng {_STAFF['positive']}"),
        normalize(f"{_ROOMS['positive']} , nhưng {_STAFF['negative']}"),
    ]
    assert model.predict(texts) == [
        frozenset({("ROOMS#CLEANLINESS", "negative"), ("SERVICE#GENERAL", "positive")}),
        frozenset({("ROOMS#CLEANLINESS", "positive"), ("SERVICE#GENERAL", "negative")}),
    ]


def test_detection_score_blends_the_review_with_its_best_clause() -> None:
    categories = ("ROOMS#CLEANLINESS", "SERVICE#GENERAL")
    reviews = _mixed_reviews()
    texts = [normalize(f"{_ROOMS['positive']} . khách sạn ở trung tâm . {_STAFF['negative']}")]
    scores = {}
    for weight in (0.0, 0.5, 1.0):
        model = AspectSentimentModel(categories, AspectConfig(clause_score_weight=weight))
        scores[weight], context = model.fit(reviews).category_probabilities(texts)
    assert context.clause_scores is not None and context.clause_scores.shape == (3, 2)
    assert np.allclose(scores[1.0], context.clause_scores.max(axis=0))
    assert np.allclose(scores[0.5], (scores[0.0] + scores[1.0]) / 2)
