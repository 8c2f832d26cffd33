"""NPS, CSAT and CES analytics on small analysed frames whose figures are computed by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from nlp.errors import MissingColumnError, ScoreRangeError
from nlp.nps import (
    box_scores_by_topic,
    box_summary,
    by_group,
    detractor_labels,
    driver_impact,
    infer_scale,
    key_drivers,
    month_of,
    nps_by_topic,
    nps_summary,
    nps_table,
    predicted_detractor_summary,
    predicted_driver_impact,
    topic_mentions,
    validate_scores,
)


@pytest.fixture
def rows() -> pd.DataFrame:
    """Six analysed comments: 2 promoters, 2 passives, 2 detractors; NPS 0.

    process is mentioned negatively by both detractors and positively by one promoter;
    price positively by both promoters; people neutrally by one passive.
    """
    return pd.DataFrame(
        {
            "nps": [10, 9, 8, 7, 6, 0],
            "branch": ["Q1", "Q1", "Q1", "Q3", "Q3", "Q3"],
            "topics": [
                ["price", "process"],
                ["price"],
                [],
                ["people"],
                ["process"],
                ["process"],
            ],
            "topic_sentiments": [
                {"price": "positive", "process": "positive"},
                {"price": "positive"},
                {},
                {"people": "neutral"},
                {"process": "negative"},
                {"process": "negative"},
            ],
            "detractor_probability": [0.1, 0.1, 0.2, 0.4, 0.6, 0.8],
            "date": ["2026-10-03", "2026-10-20", "2026-11-01", "2026-11-02", "bad", None],
        }
    )


def test_nps_summary_counts_and_wald_interval() -> None:
    summary = nps_summary(pd.Series([10, 9, 8, 7, 6, 0]))
    # p = d = 1/3: NPS 0; variance (p + d) - (p - d)^2 = 2/3; SE = sqrt(2/3 / 6) = 1/3.
    assert (summary.promoters, summary.passives, summary.detractors) == (2, 2, 2)
    assert summary.nps == 0.0
    assert summary.ci_low == pytest.approx(-65.33, abs=0.01)
    assert summary.ci_high == pytest.approx(65.33, abs=0.01)


def test_nps_summary_clips_and_handles_empty() -> None:
    everyone_promotes = nps_summary(pd.Series([9, 10, 10]))
    assert (everyone_promotes.nps, everyone_promotes.ci_low, everyone_promotes.ci_high) == (
        100.0,
        100.0,
        100.0,
    )
    # 3 promoters and 1 detractor: NPS 50, variance 1 - 0.25 = 0.75, margin 1.96*sqrt(0.75/4).
    mixed = nps_summary(pd.Series([10, 10, 9, 0]))
    assert mixed.nps == 50.0
    assert mixed.ci_high == 100.0  # 50 + 84.87, clipped
    assert mixed.ci_low == pytest.approx(50 - 84.87, abs=0.01)
    empty = nps_summary(pd.Series([], dtype=float))
    assert empty.n == 0 and math.isnan(empty.nps)


def test_nps_table_overall_and_per_group(rows: pd.DataFrame) -> None:
    overall = nps_table(rows, "nps")
    assert overall.loc["all", "nps"] == 0.0
    per_branch = nps_table(rows, "nps", by="branch")
    # Q1: 10, 9, 8 -> NPS 66.67; Q3: 7, 6, 0 -> NPS -66.67.
    assert per_branch.loc["Q1", "nps"] == pytest.approx(66.67)
    assert per_branch.loc["Q3", "nps"] == pytest.approx(-66.67)
    assert per_branch.loc["Q3", "detractors"] == 2


def test_nps_by_topic(rows: pd.DataFrame) -> None:
    table = nps_by_topic(rows, "nps")
    assert table.loc["price", "nps"] == 100.0  # 10, 9
    assert table.loc["process", "nps"] == pytest.approx(-33.33)  # 10, 6, 0
    assert table.loc["people", "n"] == 1
    assert table.loc["promotion", "n"] == 0 and math.isnan(table.loc["promotion", "nps"])


def test_driver_impact_overall_and_by_polarity(rows: pd.DataFrame) -> None:
    table = driver_impact(rows, "nps")
    # Without process: 9, 8, 7 -> NPS 33.33, so process costs 33.33 points.
    assert table.loc["process", "impact"] == pytest.approx(-33.33)
    # Without its negative mentions: 10, 9, 8, 7 -> 50; without its positive one: 9..0 -> -20.
    assert table.loc["process", "impact_negative"] == pytest.approx(-50.0)
    assert table.loc["process", "impact_positive"] == pytest.approx(20.0)
    assert table.loc["process", "mentions_negative"] == 2
    # Without price: 8, 7, 6, 0 -> -50, so price adds 50.
    assert table.loc["price", "impact"] == pytest.approx(50.0)


def test_key_drivers_observed(rows: pd.DataFrame) -> None:
    table = key_drivers(rows, "nps").set_index(["topic", "polarity"])
    negative_process = table.loc[("process", "negative")]
    assert negative_process["mentions"] == 2
    assert negative_process["share"] == pytest.approx(2 / 6, abs=1e-4)
    assert negative_process["detractor_rate_present"] == 1.0
    assert negative_process["detractor_rate_absent"] == 0.0
    assert math.isnan(negative_process["lift"])  # no detractor without it: lift undefined
    positive_price = table.loc[("price", "positive")]
    assert positive_price["detractor_rate_present"] == 0.0
    assert positive_price["detractor_rate_absent"] == 0.5
    assert positive_price["lift"] == 0.0
    assert set(table["basis"]) == {"observed"}


def test_key_drivers_predicted_without_scores(rows: pd.DataFrame) -> None:
    table = key_drivers(rows.drop(columns=["nps"])).set_index(["topic", "polarity"])
    negative_process = table.loc[("process", "negative")]
    # Present: mean(0.6, 0.8) = 0.7; absent: mean(0.1, 0.1, 0.2, 0.4) = 0.2; lift 3.5.
    assert negative_process["detractor_rate_present"] == pytest.approx(0.7)
    assert negative_process["detractor_rate_absent"] == pytest.approx(0.2)
    assert negative_process["lift"] == pytest.approx(3.5)
    assert set(table["basis"]) == {"predicted"}
    assert table.index[0] == ("process", "negative")  # sorted by lift


def test_predicted_summary_and_impact(rows: pd.DataFrame) -> None:
    summary = predicted_detractor_summary(rows)
    assert summary == {
        "n": 6,
        "expected_detractors": 2.2,
        "detractor_rate": pytest.approx(0.3667, abs=1e-4),
        "basis": "predicted",
    }
    impact = predicted_driver_impact(rows)
    # All: 2.2 / 6 = 0.3667; without process: (0.1 + 0.2 + 0.4) / 3 = 0.2333 -> +13.33 points.
    assert impact.loc["process", "impact"] == pytest.approx(13.33, abs=0.01)
    assert impact.loc["process", "basis"] == "predicted"


def test_box_scores_for_csat_and_ces() -> None:
    assert box_summary(pd.Series([5, 4, 3, 1]), "csat") == {
        "n": 4,
        "mean": 3.25,
        "top2_share": 0.5,
        "bottom2_share": 0.25,
    }
    # CES 1-7: top-2 = 6-7, bottom-2 = 1-2.
    assert box_summary(pd.Series([7, 6, 5, 2, 1]), "ces")["top2_share"] == 0.4
    frame = pd.DataFrame(
        {
            "csat": [5, 1, 4, ""],
            "topics": [["people"], ["people", "price"], [], ["price"]],
            "topic_sentiments": [{}, {}, {}, {}],
        }
    )
    table = box_scores_by_topic(frame, "csat", "csat")
    assert table.loc["all", "n"] == 3  # the blank score is left out
    assert table.loc["people", "mean"] == 3.0
    assert table.loc["people", "bottom2_share"] == 0.5
    assert table.loc["price", "n"] == 1


def test_by_group_and_month(rows: pd.DataFrame) -> None:
    rows = rows.assign(month=month_of(rows, "date"))
    assert rows["month"].tolist()[:4] == ["2026-10", "2026-10", "2026-11", "2026-11"]
    assert rows["month"].isna().tolist()[4:] == [True, True]
    table = by_group(rows, "branch", nps_by_topic, "nps")
    assert table.loc[("Q1", "price"), "nps"] == 100.0
    assert table.loc[("Q3", "process"), "nps"] == -100.0  # 6 and 0


@pytest.mark.parametrize(
    ("values", "scale"),
    [([10, 11], "nps"), ([0, 5], "csat"), ([8], "ces"), (["nine"], "nps"), ([7.5], "nps")],
)
def test_out_of_range_scores_are_refused_with_the_rows(values: list[object], scale: str) -> None:
    with pytest.raises(ScoreRangeError, match="whole numbers") as error:
        validate_scores(pd.Series(values), scale)  # type: ignore[arg-type]
    assert error.value.code == "E106_score_out_of_range"
    assert error.value.details["rows"]


def test_table_functions_check_their_columns(rows: pd.DataFrame) -> None:
    with pytest.raises(ScoreRangeError):
        nps_table(rows.assign(nps=[10, 9, 8, 7, 6, 42]), "nps")
    with pytest.raises(MissingColumnError):
        nps_table(rows, "score")
    with pytest.raises(MissingColumnError):
        key_drivers(rows.drop(columns=["detractor_probability"]))


def test_detractor_labels_and_scale_inference() -> None:
    scores = pd.Series([0.0, 6.0, 7.0, math.nan])
    assert detractor_labels(scores, "nps").tolist() == [True, True, False]
    assert detractor_labels(pd.Series([1.0, 3.0]), "csat", cut=3).tolist() == [True, True]
    with pytest.raises(ScoreRangeError, match="cut"):
        detractor_labels(pd.Series([1.0]), "csat", cut=5)
    assert infer_scale("CSAT score", pd.Series([1, 5])) == "csat"
    assert infer_scale("rating", pd.Series([1, 7])) == "ces"
    assert infer_scale("likelihood", pd.Series([0, 10])) == "nps"


def test_topic_mentions_accept_flattened_exports() -> None:
    frame = pd.DataFrame({"topics": ["price;people", None], "topic_sentiments": [None, None]})
    mentions = topic_mentions(frame)
    assert mentions["people"].tolist() == [True, False]
    assert topic_mentions(frame, "negative")["price"].tolist() == [False, False]
