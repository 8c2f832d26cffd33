"""Bundles load only when intact and built with the running library versions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from nlp.analyzer import FEATURES, SENTIMENT, TOPICS, Analyzer
from nlp.bundle import MANIFEST, MODEL_FILE, load_bundle, sha256
from nlp.errors import (
    RETRAIN_HINT,
    ModelCorruptedError,
    ModelIncompatibleError,
    ModelNotFoundError,
)
from nlp.paths import models_dir


@pytest.fixture()
def model_copy(tiny_model_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "models"
    shutil.copytree(tiny_model_dir, target)
    return target


def test_round_trip_loads_and_predicts(model_copy: Path) -> None:
    analyzer = Analyzer.load(model_copy)
    [result] = analyzer.analyze(["Nhân viên nhiệt tình, rất hài lòng"])
    assert abs(sum(result.sentiment_scores.values()) - 1) < 1e-3
    assert result.model_version == {"features": "0.0.1", "sentiment": "0.0.1"}


def test_missing_bundle_says_where(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=str(tmp_path)):
        Analyzer.load(tmp_path)


def test_corrupted_model_file_is_refused_with_retrain_hint(model_copy: Path) -> None:
    model_file = model_copy / SENTIMENT / MODEL_FILE
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_file.write_bytes(bytes(data))
    with pytest.raises(ModelCorruptedError, match="vicx train sentiment"):
        Analyzer.load(model_copy)


def test_unpicklable_file_with_matching_hash_is_refused(model_copy: Path) -> None:
    folder = model_copy / SENTIMENT
    (folder / MODEL_FILE).write_bytes(b"not a pickle at all")
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"][MODEL_FILE] = sha256(folder / MODEL_FILE)
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelCorruptedError, match="could not be unpickled"):
        load_bundle(folder, retrain_hint=RETRAIN_HINT)


@pytest.mark.parametrize("library", ["scikit-learn", "numpy", "scipy"])
def test_other_library_version_is_refused(model_copy: Path, library: str) -> None:
    folder = model_copy / SENTIMENT
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["libraries"][library] = "0.1.0"
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelIncompatibleError) as caught:
        load_bundle(folder, retrain_hint=RETRAIN_HINT)
    assert library in caught.value.message
    assert "vicx train sentiment" in caught.value.message
    assert caught.value.details["built_with"] == "0.1.0"


def test_manifest_that_is_not_json_is_refused(model_copy: Path) -> None:
    (model_copy / FEATURES / MANIFEST).write_text("{broken")
    with pytest.raises(ModelCorruptedError, match="not valid JSON"):
        Analyzer.load(model_copy)


def test_head_trained_on_other_features_is_refused(model_copy: Path) -> None:
    folder = model_copy / SENTIMENT
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["features_sha256"] = "0" * 64
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelIncompatibleError, match="another features bundle"):
        Analyzer.load(model_copy)


def test_topics_stacked_on_another_sentiment_bundle_is_refused(tmp_path: Path) -> None:
    # The shipped topics bundle: its polarity stacker reads the shipped sentiment head.
    model_copy = tmp_path / "models"
    for name in (FEATURES, SENTIMENT, TOPICS):
        shutil.copytree(models_dir() / name, model_copy / name)
    Analyzer.load(model_copy)
    folder = model_copy / TOPICS
    manifest = json.loads((folder / MANIFEST).read_text())
    shipped = load_bundle(model_copy / SENTIMENT, retrain_hint=RETRAIN_HINT)
    assert manifest["sentiment_sha256"] == shipped.model_sha256
    manifest["sentiment_sha256"] = "0" * 64
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelIncompatibleError, match="another sentiment bundle") as caught:
        Analyzer.load(model_copy)
    assert caught.value.details["head"] == TOPICS


def test_featurizer_of_an_older_layout_is_refused(model_copy: Path) -> None:
    import joblib

    folder = model_copy / FEATURES
    featurizer = joblib.load(folder / MODEL_FILE)
    featurizer.schema_ = 1
    joblib.dump(featurizer, folder / MODEL_FILE)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"][MODEL_FILE] = sha256(folder / MODEL_FILE)
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelIncompatibleError, match="layout 1") as caught:
        load_bundle(folder, retrain_hint=RETRAIN_HINT)
    assert "vicx train sentiment" in caught.value.message
