"""Agreement between the gold labels, a second annotator and the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.agreement import Annotation, agreement, aligned, read_annotations
from nlp.errors import GoldSetError
from nlp.labelled import load_gold
from tests.conftest import run_cli

TOPICS = ("product", "price", "process")


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_identical_labels_agree_fully_and_differences_are_counted() -> None:
    first = [
        Annotation("1", "negative", {"product": "positive", "process": "negative"}),
        Annotation("2", "positive", {"price": "positive"}),
        Annotation("3", "neutral", {}),
    ]
    same = agreement("same", first, first, TOPICS)
    assert (same.topics.micro_f1, same.topics.pair_micro_f1, same.sentiment_accuracy) == (1, 1, 1)
    assert same.sentiment_kappa == 1.0
    second = [
        # process missed, product's polarity differs; an extra price on a no-topic comment.
        Annotation("1", "negative", {"product": "negative"}),
        Annotation("2", "positive", {"price": "positive"}),
        Annotation("3", "negative", {"price": "neutral"}),
    ]
    other = agreement("other", first, second, TOPICS)
    # Topics: tp 2 (product, price), fp 1, fn 1 -> 4/6. Pairs: tp 1, fp 2, fn 2 -> 2/6.
    assert other.topics.micro_f1 == pytest.approx(4 / 6, abs=1e-4)
    assert other.topics.pair_micro_f1 == pytest.approx(2 / 6, abs=1e-4)
    assert other.topics.polarity_accuracy == 0.5
    assert other.sentiment_accuracy == pytest.approx(2 / 3, abs=1e-4)
    # F1 is symmetric: A against B equals B against A.
    assert agreement("back", second, first, TOPICS).topics.micro_f1 == other.topics.micro_f1


def test_annotations_are_checked_like_the_gold_labels(tmp_path: Path) -> None:
    bad_topic = _write(
        tmp_path / "a.jsonl", [{"id": "1", "sentiment": "neutral", "topics": {"x": "positive"}}]
    )
    with pytest.raises(GoldSetError, match="unknown topic 'x'"):
        read_annotations(bad_topic)
    missing = _write(tmp_path / "b.jsonl", [{"id": "1", "topics": {}}])
    with pytest.raises(GoldSetError, match="line 1: missing field 'sentiment'"):
        read_annotations(missing)
    with pytest.raises(GoldSetError, match="No second annotation"):
        read_annotations(tmp_path / "absent.jsonl")


def test_the_second_annotation_must_cover_the_split_exactly() -> None:
    gold = load_gold("test")[:3]
    annotations = [Annotation(c.id, c.sentiment, {}) for c in gold[:2]]
    with pytest.raises(GoldSetError, match="1 missing"):
        aligned(gold, annotations)
    extra = [*annotations, Annotation(gold[2].id, "neutral", {}), Annotation("zz", "neutral", {})]
    with pytest.raises(GoldSetError, match="1 unknown"):
        aligned(gold, extra)
    assert [a.id for _, a in aligned(gold, extra[:3])] == [c.id for c in gold]


def test_evaluate_agreement_prints_the_three_comparisons() -> None:
    result = run_cli("evaluate-agreement")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("| comparison | n | topic micro-F1")
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        "| annotator B against the gold labels (A)",
        "| model against A",
        "| model against B",
    ]
    assert all(line.split(" | ")[1] == "390" for line in lines[2:])
