"""`vicx train sentiment` and `vicx evaluate` end to end, on one small corpus to stay fast."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp import Analyzer
from tests.conftest import requires_corpora, run_cli


@pytest.mark.slow
@pytest.mark.corpora
@requires_corpora
def test_train_then_evaluate_reproduces_the_manifest_numbers(tmp_path: Path) -> None:
    models = tmp_path / "models"
    trained = run_cli(
        "train", "sentiment", "--output", str(models), "--corpus", "vlsp2018_restaurant"
    )
    assert trained.returncode == 0, trained.stderr
    manifest = json.loads((models / "sentiment" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["training_examples"].keys() == {"vlsp2018_restaurant", "multi_industry"}
    assert "vlsp2018_restaurant" in manifest["corpora"]
    assert (models / "sentiment" / "CARD.md").read_text(encoding="utf-8").count("gold:test") >= 1

    evaluated = run_cli("evaluate", "--model-dir", str(models), "--json", str(tmp_path / "m.json"))
    assert evaluated.returncode == 0, evaluated.stderr
    reported = {m["benchmark"]: m for m in json.loads((tmp_path / "m.json").read_text())}
    recorded = manifest["metrics"]
    for benchmark in ("gold:test", "vlsp2018_restaurant:test"):
        assert reported[benchmark]["accuracy"] == recorded[benchmark]["accuracy"]
        assert reported[benchmark]["macro_f1"] == recorded[benchmark]["macro_f1"]

    [result] = Analyzer.load(models).analyze(["Phục vụ quá chậm, đồ ăn nguội, thất vọng"])
    assert result.sentiment == "negative"


@pytest.mark.slow
def test_train_refuses_an_unknown_corpus(tmp_path: Path) -> None:
    done = run_cli("train", "sentiment", "--output", str(tmp_path), "--corpus", "imdb")
    assert done.returncode == 2
    assert "unknown corpus imdb" in done.stderr
