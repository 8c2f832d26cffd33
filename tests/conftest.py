"""Shared fixtures: the shipped analyzer, a tiny trained bundle pair, the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nlp.analyzer import FEATURES, SENTIMENT, Analyzer
from nlp.bundle import save_bundle
from nlp.features import TextFeaturizer
from nlp.normalize import normalize
from nlp.paths import corpora_dir
from nlp.sentiment import SentimentHead

REPO = Path(__file__).resolve().parent.parent

TINY_TRAINING = [
    ("Nhân viên nhiệt tình, rất hài lòng", "positive"),
    ("Phục vụ nhanh, đồ ăn ngon", "positive"),
    ("Sản phẩm tốt, sẽ ủng hộ tiếp", "positive"),
    ("Giao hàng đúng hẹn, cảm ơn shop", "positive"),
    ("Tuyệt vời, giá hợp lý", "positive"),
    ("Chờ quá lâu, thái độ tệ", "negative"),
    ("Hàng lỗi, không bao giờ quay lại", "negative"),
    ("Phí cao mà dịch vụ kém", "negative"),
    ("App lỗi liên tục, bực mình", "negative"),
    ("Nhân viên thô lỗ, thất vọng", "negative"),
    ("Cho hỏi chi nhánh mở cửa mấy giờ?", "neutral"),
    ("Tôi dùng dịch vụ được 2 năm", "neutral"),
    ("Nên có thêm chỗ để xe", "neutral"),
    ("Không có ý kiến gì", "neutral"),
    ("Khi nào có chương trình mới?", "neutral"),
]


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    """The shipped bundles, loaded once for the whole session."""
    return Analyzer.load()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A features + sentiment bundle pair trained in a second on 15 comments (for error paths)."""
    root = tmp_path_factory.mktemp("tiny-models")
    texts = [normalize(t) for t, _ in TINY_TRAINING] * 2
    labels = [label for _, label in TINY_TRAINING] * 2
    featurizer = TextFeaturizer(word_features=2**12, char_features=2**12).fit(texts)
    save_bundle(
        root / FEATURES, featurizer, name=FEATURES, version="0.0.1", manifest={}, card="# t\n"
    )
    from nlp.bundle import read_manifest

    sha = read_manifest(root / FEATURES)["files"]["model.joblib"]
    head = SentimentHead(calibration_folds=2).fit(featurizer.transform(texts), labels)
    save_bundle(
        root / SENTIMENT,
        head,
        name=SENTIMENT,
        version="0.0.1",
        manifest={"features_sha256": sha},
        card="# t\n",
    )
    return root


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``vicx`` console script for real, as a user would."""
    env = {k: v for k, v in os.environ.items() if k != "VICX_MODEL_DIR"}
    vicx = Path(sys.executable).with_name("vicx")
    return subprocess.run(
        [str(vicx), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


requires_corpora = pytest.mark.skipif(
    not corpora_dir().is_dir(), reason=f"corpora not found at {corpora_dir()} (set VICX_DATA_DIR)"
)
