"""The detractor head: estimator contract, calibration, drivers, training on a user's scores."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from nlp.analyzer import DETRACTOR, Analyzer
from nlp.corpora import load_corpus
from nlp.detractor import DetractorHead, binary_labels, sentiment_signal, topic_driver_weights
from nlp.detractor_evaluation import (
    binary_metrics,
    expected_calibration_error,
    markdown_table,
    reliability_bins,
)
from nlp.errors import ModelNotFoundError, SingleClassError, TooFewRowsError
from nlp.heads import TopicPrediction
from nlp.training.detractor import (
    GOLD_CALIBRATION_WEIGHT,
    calibration_examples,
    corpus_examples,
)
from nlp.training.detractor_scores import fit_on_scores, save_model_dir
from tests.conftest import requires_corpora, run_cli

RNG_SEED = 7
PROMOTER_TEXTS = [
    "Nhân viên nhiệt tình, rất hài lòng",
    "Phục vụ nhanh, đồ ăn ngon",
    "Sản phẩm tốt, sẽ giới thiệu bạn bè",
    "Giao hàng đúng hẹn, cảm ơn shop",
    "Tuyệt vời, giá hợp lý",
]
DETRACTOR_TEXTS = [
    "Chờ quá lâu, thái độ tệ",
    "Hàng lỗi, không bao giờ quay lại",
    "Phí cao mà dịch vụ kém",
    "App lỗi liên tục, bực mình",
    "Nhân viên thô lỗ, thất vọng",
]


def synthetic(n: int, seed: int = RNG_SEED) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Features whose first column carries the label with noise; sentiment agrees loosely."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    signal = y * 1.0 + rng.normal(0, 0.6, n)
    noise = rng.random((n, 5))
    features = sp.csr_matrix(np.column_stack([signal, noise]))
    negative = np.clip(0.2 + 0.5 * y + rng.normal(0, 0.15, n), 0.02, 0.9)
    positive = np.clip(1 - negative - 0.1, 0.02, None)
    sentiment = np.column_stack([positive, np.full(n, 0.1), negative])
    sentiment /= sentiment.sum(axis=1, keepdims=True)
    return features, y, sentiment


@pytest.fixture(scope="module")
def fitted() -> tuple[DetractorHead, sp.csr_matrix, np.ndarray, np.ndarray]:
    features, y, sentiment = synthetic(600)
    head = DetractorHead(C=1.0, stack_folds=3).fit(features, y, sentiment_probabilities=sentiment)
    return head, features, y, sentiment


def test_params_are_stored_as_given_and_clone() -> None:
    head = DetractorHead(C=2.0, calibration="isotonic", stack_folds=None)
    assert head.get_params() == {
        "C": 2.0,
        "calibration": "isotonic",
        "stack_folds": None,
        "random_state": 0,
    }
    assert clone(head).get_params() == head.get_params()
    assert not any(name.endswith("_") for name in vars(head))


def test_fit_learns_state_and_pickles(
    fitted: tuple[DetractorHead, sp.csr_matrix, np.ndarray, np.ndarray],
) -> None:
    head, features, _, sentiment = fitted
    assert {"text_", "combiner_", "isotonic_", "driver_weights_"} <= set(vars(head))
    probabilities = head.predict_proba(features[:10], sentiment[:10], None)
    assert probabilities.shape == (10,)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    restored = pickle.loads(pickle.dumps(head))
    assert np.allclose(restored.predict_proba(features[:10], sentiment[:10]), probabilities)


def test_probabilities_rank_and_are_calibrated_on_fresh_rows(
    fitted: tuple[DetractorHead, sp.csr_matrix, np.ndarray, np.ndarray],
) -> None:
    head = fitted[0]
    features, y, sentiment = synthetic(3000, seed=11)
    probabilities = head.predict_proba(features, sentiment)
    metrics = binary_metrics("synthetic", y, probabilities)
    assert metrics.roc_auc > 0.85
    assert abs(probabilities.mean() - y.mean()) < 0.03  # the prior is restored after balancing
    assert metrics.ece < 0.05


def test_isotonic_calibration_is_monotone_in_the_platt_score() -> None:
    features, y, sentiment = synthetic(600)
    head = DetractorHead(C=1.0, calibration="isotonic", stack_folds=3)
    head.fit(features, y, sentiment_probabilities=sentiment)
    assert head.isotonic_ is not None
    fresh, _, fresh_sentiment = synthetic(500, seed=3)
    platt = head.combiner_.predict_proba(
        np.column_stack([head.text_.decision_function(fresh), sentiment_signal(fresh_sentiment)])
    )[:, 1]
    calibrated = head.predict_proba(fresh, fresh_sentiment)
    order = np.argsort(platt)
    assert np.all(np.diff(calibrated[order]) >= -1e-12)


def test_calibrate_keeps_the_text_model_and_moves_the_prior(
    fitted: tuple[DetractorHead, sp.csr_matrix, np.ndarray, np.ndarray],
) -> None:
    head = copy.deepcopy(fitted[0])
    text_coefficients = head.text_.coef_.copy()
    features, y, sentiment = synthetic(800, seed=5)
    # A population where the same comments are detractors more often (a third of the others
    # turn detractor): recalibration must follow the new rate without touching the text model.
    y = y | (np.random.default_rng(5).random(len(y)) < 1 / 3)
    head.calibrate(features, y, sentiment_probabilities=sentiment)
    assert np.array_equal(head.text_.coef_, text_coefficients)
    assert head.predict_proba(features, sentiment).mean() == pytest.approx(y.mean(), abs=0.02)


def test_labels_must_be_binary_with_both_classes() -> None:
    assert binary_labels([0, 1, 1]).tolist() == [False, True, True]
    with pytest.raises(ValueError, match="single class"):
        binary_labels([1, 1, 1])
    with pytest.raises(ValueError, match="0/1"):
        binary_labels([0, 2])


def test_sentiment_signal_is_negative_vs_positive_log_odds() -> None:
    signal = sentiment_signal(np.array([[0.2, 0.4, 0.4], [0.5, 0.5, 0.0]]))
    assert signal[0, 0] == pytest.approx(np.log(2))
    assert signal[1, 0] == pytest.approx(np.log(1e-4 / 0.5))  # floored, stays finite


def test_drivers_are_negative_topics_strongest_first(
    fitted: tuple[DetractorHead, sp.csr_matrix, np.ndarray, np.ndarray],
) -> None:
    head = copy.deepcopy(fitted[0]).set_driver_weights(
        {"process": 1.5, "people": 1.0, "price": -0.2}
    )
    prediction = TopicPrediction(
        topics=["people", "process", "price", "product"],
        topic_scores={"people": 0.9, "process": 0.7, "price": 0.8, "product": 0.95},
        topic_sentiments={
            "people": "negative",
            "process": "negative",
            "price": "negative",
            "product": "positive",
        },
    )
    # process 0.7 * 1.5 = 1.05 > people 0.9 * 1.0; price lowers the rate; product is positive.
    assert head.drivers(prediction) == ["process", "people"]
    assert head.drivers(TopicPrediction()) == []


def test_topic_driver_weights_by_hand() -> None:
    rows = [{"price": "negative"}, {"price": "negative"}, {"price": "positive"}, {}]
    weights = topic_driver_weights(rows, [True, True, False, False])
    # With: 2 of 2 -> log(3/1); without: 0 of 2 -> log(1/3); lift = 2 log 3.
    assert weights["price"] == pytest.approx(2 * np.log(3))


def test_ece_and_reliability_by_hand() -> None:
    truth = np.array([0, 1, 1, 1])
    predicted = np.array([0.05, 0.95, 0.95, 0.55])
    assert expected_calibration_error(truth, predicted) == 0.15
    bins = reliability_bins(truth, predicted)
    assert [b.n for b in bins] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 2]
    assert bins[9].observed_rate == 1.0
    table = markdown_table([binary_metrics("toy", truth.astype(bool), predicted)])
    assert "| toy | 4 | 75.0% | 1.000 |" in table


def scored_frame(n: int) -> pd.DataFrame:
    """``n`` survey rows: promoter texts score 9-10, detractor texts 0-6."""
    rows = []
    for i in range(n):
        if i % 2:
            rows.append({"comment": f"{DETRACTOR_TEXTS[i % 5]} lần {i}", "score": str(i % 7)})
        else:
            rows.append({"comment": f"{PROMOTER_TEXTS[i % 5]} lần {i}", "score": str(9 + i % 2)})
    return pd.DataFrame(rows)


def test_too_few_rows_and_one_class_are_refused(tiny_model_dir: Path) -> None:
    base = Analyzer.load(tiny_model_dir)
    with pytest.raises(TooFewRowsError, match="at least 50") as few:
        fit_on_scores(
            scored_frame(30), text_column="comment", score_column="score", scale="nps", base=base
        )
    assert few.value.code == "E107_too_few_rows"
    promoters_only = scored_frame(120).assign(score="10")
    with pytest.raises(SingleClassError, match="non-detractors") as single:
        fit_on_scores(
            promoters_only, text_column="comment", score_column="score", scale="nps", base=base
        )
    assert single.value.code == "E108_single_class"
    with pytest.raises(ModelNotFoundError, match="base detractor"):
        fit_on_scores(
            scored_frame(120),
            text_column="comment",
            score_column="score",
            scale="nps",
            base=base,
            mode="recalibrate",
        )


def test_recalibrate_and_refit_are_cross_validated(tiny_model_dir: Path, tmp_path: Path) -> None:
    base = Analyzer.load(tiny_model_dir)
    head, report = fit_on_scores(
        scored_frame(120), text_column="comment", score_column="score", scale="nps", base=base
    )
    assert report.mode == "refit"  # no base detractor bundle to recalibrate
    save_model_dir(tmp_path, head, report, base, source="scores.csv")
    with_detractor = Analyzer.load(tmp_path)
    assert with_detractor.detractor is not None
    _, second = fit_on_scores(
        scored_frame(120),
        text_column="comment",
        score_column="score",
        scale="nps",
        base=with_detractor,
    )
    assert set(second.cross_validated) == {"recalibrate", "refit"}
    assert second.rows == 120 and second.detractors == 60 and second.cut == 6
    assert second.chosen.roc_auc > 0.9


@pytest.mark.slow
def test_train_on_a_scored_csv_end_to_end(tiny_model_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "survey.csv"
    scored_frame(100).to_csv(data, index=False)
    output = tmp_path / "my-models"
    done = run_cli(
        "train", "detractor", "--data", str(data), "--text-column", "comment",
        "--score-column", "score", "--scale", "nps", "--output", str(output),
        "--model-dir", str(tiny_model_dir),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "ROC-AUC" in done.stdout and "Reliability" in done.stdout
    assert {p.name for p in output.iterdir()} >= {"features", "sentiment", DETRACTOR}
    manifest = json.loads((output / DETRACTOR / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["fit"]["rows"] == 100

    comments = tmp_path / "new.csv"
    pd.DataFrame({"comment": ["Thái độ tệ, chờ quá lâu", "Rất hài lòng"]}).to_csv(
        comments, index=False
    )
    analysed = tmp_path / "out.jsonl"
    done = run_cli(
        "analyze", str(comments), "-c", "comment", "-o", str(analysed), "-q",
        "--model-dir", str(output),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in analysed.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["detractor_probability"] > rows[1]["detractor_probability"]


@pytest.mark.slow
def test_cli_refuses_a_file_with_too_few_rows(tiny_model_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "tiny.csv"
    scored_frame(20).to_csv(data, index=False)
    done = run_cli(
        "train", "detractor", "--data", str(data), "--text-column", "comment",
        "--score-column", "score", "--model-dir", str(tiny_model_dir),
    )  # fmt: skip
    assert done.returncode == 2
    assert "E107_too_few_rows" in done.stderr
    scored_frame(60).assign(score="11").to_csv(data, index=False)
    done = run_cli(
        "train", "detractor", "--data", str(data), "--text-column", "comment",
        "--score-column", "score", "--model-dir", str(tiny_model_dir),
    )  # fmt: skip
    assert done.returncode == 2
    assert "E106_score_out_of_range" in done.stderr


@requires_corpora
@pytest.mark.corpora
def test_corpus_label_mapping_uses_the_star_cut() -> None:
    examples = corpus_examples("uit_visfd", "dev")
    stars = [r.stars for r in load_corpus("uit_visfd", "dev") if r.text]
    assert [e.detractor for e in examples] == [s is not None and s <= 2 for s in stars]
    held_out = calibration_examples()
    assert {e.source for e in held_out} == {"uit_visfd", "gold"}
    assert {e.weight for e in held_out if e.source == "gold"} == {GOLD_CALIBRATION_WEIGHT}
