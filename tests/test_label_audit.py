"""`vicx audit-labels`: which training rows the held-out topic scores contradict."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.labelled import LabelledComment
from nlp.training.label_audit import flag_rows
from nlp.training.topic_data import team_examples, team_texts

TOPICS = ("product", "price", "process")


def _comment(row_id: str, text: str, topics: dict[str, str]) -> LabelledComment:
    return LabelledComment(row_id, text, "negative", topics, 3, "retail", "standard", (), None, "t")


def test_flags_a_labelled_topic_scored_low_and_an_unlabelled_topic_scored_high() -> None:
    comments = [
        _comment("a", "giá cao", {"price": "negative"}),
        _comment("b", "đồ ăn ngon", {"product": "positive"}),
    ]
    scores = np.array(
        [
            [0.95, 0.02, 0.10],  # a: product unlabelled but sure, price labelled but near 0
            [0.60, 0.10, 0.50],  # b: nothing strong enough either way
        ]
    )
    flagged = flag_rows(comments, [0, 1], scores, TOPICS)
    assert [row.comment.id for row in flagged] == ["a"]
    kinds = {(c.topic, c.labelled, c.held_out_score) for c in flagged[0].contradictions}
    assert kinds == {("product", False, 0.95), ("price", True, 0.02)}


def test_the_bounds_are_strict_and_configurable() -> None:
    comments = [_comment("a", "giá cao", {"price": "negative"})]
    scores = np.array([[0.9, 0.05, 0.0]])
    assert flag_rows(comments, [0], scores, TOPICS) == []
    flagged = flag_rows(comments, [0], scores, TOPICS, low=0.1, high=0.8)
    assert {c.topic for c in flagged[0].contradictions} == {"product", "price"}


def test_a_comment_and_its_unaccented_copy_are_listed_once_with_the_stronger_score() -> None:
    comments = [_comment("a", "phục vụ chậm", {"process": "negative"})]
    scores = np.array([[0.0, 0.92, 0.04], [0.0, 0.99, 0.30]])
    flagged = flag_rows(comments, [0, 0], scores, TOPICS)
    assert len(flagged) == 1
    assert flagged[0].contradictions[0].topic == "price"
    assert flagged[0].contradictions[0].held_out_score == 0.99
    assert [c.topic for c in flagged[0].contradictions] == ["price", "process"]


def test_review_line_carries_the_labels_and_the_contradictions() -> None:
    comments = [_comment("t-x-1", "giá cao", {"price": "negative"})]
    line = flag_rows(comments, [0], np.array([[0.97, 0.5, 0.0]]), TOPICS)[0].as_dict()
    assert line == {
        "id": "t-x-1",
        "text": "giá cao",
        "sentiment": "negative",
        "topics": {"price": "negative"},
        "contradictions": [{"topic": "product", "labelled": False, "held_out_score": 0.97}],
    }


def test_owners_must_match_the_score_rows() -> None:
    with pytest.raises(ValueError, match="2 owners for 1 score rows"):
        flag_rows([_comment("a", "x", {})], [0, 0], np.zeros((1, 3)), TOPICS)


def test_team_texts_are_the_texts_team_examples_train_on_in_order() -> None:
    comments = [
        _comment("a", "Phục vụ chậm", {"process": "negative"}),
        _comment("b", "giao hang nhanh", {"process": "positive"}),
    ]
    assert [len(team_texts(c)) for c in comments] == [2, 1]
    assert [e.text for e in team_examples(comments)] == [
        text for comment in comments for text in team_texts(comment)
    ]
