"""The shipped Analyzer: the result contract, order, empty input, clear-cut comments."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from nlp import Analyzer
from nlp.errors import MissingColumnError
from nlp.result import RESULT_FIELDS, SENTIMENTS

CLEAR_CASES = [
    ("Nhân viên rất nhiệt tình, tôi cực kỳ hài lòng, sẽ giới thiệu bạn bè", "positive"),
    ("Thái độ phục vụ quá tệ, chờ cả tiếng, không bao giờ quay lại", "negative"),
    ("nhan vien nhiet tinh, phong sach, rat hai long", "positive"),
    ("hàng lỗi mà shop ko chịu đổi, bực mình ghê 😡", "negative"),
]


def test_result_contract(analyzer: Analyzer) -> None:
    [result] = analyzer.analyze(["Đồ ăn ngon nhưng phục vụ chậm quá"])
    data = result.to_dict()
    assert tuple(data) == RESULT_FIELDS
    assert result.sentiment in SENTIMENTS
    assert set(result.sentiment_scores) == set(SENTIMENTS)
    assert math.isclose(sum(result.sentiment_scores.values()), 1.0, abs_tol=1e-3)
    assert result.model_version == analyzer.model_version
    assert {"features", "sentiment"} <= result.model_version.keys()
    assert result.flags == []


@pytest.mark.parametrize(("text", "expected"), CLEAR_CASES)
def test_clear_cut_comments(analyzer: Analyzer, text: str, expected: str) -> None:
    assert analyzer.analyze([text])[0].sentiment == expected


def test_order_is_kept_across_batches(analyzer: Analyzer) -> None:
    texts = [CLEAR_CASES[0][0], CLEAR_CASES[1][0]] * 1500  # more than one internal batch
    results = analyzer.analyze(texts)
    assert [r.sentiment for r in results[:4]] == ["positive", "negative"] * 2
    assert [r.sentiment for r in results[-2:]] == ["positive", "negative"]
    assert len(results) == 3000


@pytest.mark.parametrize("value", ["", "   ", "\u200b\u200b", None, float("nan"), 42])
def test_empty_and_non_text_items_are_flagged_not_crashing(
    analyzer: Analyzer, value: object
) -> None:
    [result] = analyzer.analyze([value])
    assert result.sentiment == "neutral"
    assert result.flags == (["not_text"] if value == 42 else ["empty_text"])


def test_analyze_frame_keeps_columns_and_index(analyzer: Analyzer) -> None:
    frame = pd.DataFrame(
        {"comment": [CLEAR_CASES[0][0], CLEAR_CASES[1][0]], "branch": ["Q1", "Q3"]}, index=[10, 20]
    )
    out = analyzer.analyze_frame(frame, "comment")
    assert list(out.index) == [10, 20]
    assert list(out.columns[:2]) == ["comment", "branch"]
    assert list(out["sentiment"]) == ["positive", "negative"]


def test_analyze_frame_missing_column_lists_available(analyzer: Analyzer) -> None:
    with pytest.raises(MissingColumnError) as caught:
        analyzer.analyze_frame(pd.DataFrame({"text": ["a"], "nps": [3]}), "comment")
    assert caught.value.details["available"] == ["text", "nps"]
