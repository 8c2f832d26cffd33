"""``vicx bench``: throughput, cold start and memory of the pipeline, with underthesea as reference.

Numbers are measured on real corpus comments, in the same run as the references they are judged
against, so the ratios hold even on a noisy machine.
"""

from __future__ import annotations

import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from nlp.analyzer import Analyzer
from nlp.corpora import load_corpus

#: A mix of short survey answers, long reviews and forum posts.
BENCH_SOURCES: Final = (
    ("uit_vsfc", "train"),
    ("uit_visfd", "train"),
    ("vlsp2018_hotel", "train"),
    ("vlsp2018_restaurant", "train"),
    ("vlsp2016_sa", "train"),
    ("shopee_lipstick_absa", "train"),
    ("vispamreviews", "train"),
    ("aivivn2019", "train"),
)


@dataclass(slots=True)
class BenchReport:
    comments: int
    mean_chars: float
    cold_start_s: float
    analyze_per_s: float
    stages_s: dict[str, float]
    underthesea_word_tokenize_per_s: float
    speed_ratio_vs_underthesea: float
    peak_rss_mb_bench: float
    peak_rss_mb_cli: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def markdown(self) -> str:
        rows = [
            (
                "comments (real, mixed length)",
                f"{self.comments:,} (mean {self.mean_chars:.0f} chars)",
            ),
            ("`Analyzer.analyze` throughput", f"{self.analyze_per_s:,.0f} comments/s"),
            (
                "underthesea `word_tokenize` alone, same texts",
                f"{self.underthesea_word_tokenize_per_s:,.0f} comments/s",
            ),
            ("ratio vicx / word_tokenize", f"{self.speed_ratio_vs_underthesea:.2f}x"),
            ("cold start (process start to first result)", f"{self.cold_start_s:.2f} s"),
            ("peak RSS, `vicx analyze` of the same comments", f"{self.peak_rss_mb_cli:.0f} MB"),
            ("peak RSS, this benchmark process", f"{self.peak_rss_mb_bench:.0f} MB"),
        ]
        rows += [(f"stage: {name}", f"{seconds:.2f} s") for name, seconds in self.stages_s.items()]
        lines = ["| measure | value |", "|---|---|"]
        lines += [f"| {name} | {value} |" for name, value in rows]
        return "\n".join(lines)


def bench_texts(count: int, seed: int = 13) -> list[str]:
    """``count`` raw comments drawn reproducibly from several corpora."""
    pool = [record.raw for name, split in BENCH_SOURCES for record in load_corpus(name, split)]
    rng = random.Random(seed)
    return [pool[rng.randrange(len(pool))] for _ in range(count)]


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def cold_start_seconds(model_dir: Path | None) -> float:
    """Wall time of a fresh interpreter that imports vicx, loads the models, analyses a text."""
    folder = "None" if model_dir is None else f"Path({str(model_dir)!r})"
    code = (
        "from pathlib import Path; from nlp import Analyzer; "
        f"Analyzer.load({folder}).analyze(['nhân viên nhiệt tình'])"
    )
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def cli_peak_rss_mb(texts: Sequence[str]) -> float:
    """Peak resident memory of a real ``vicx analyze`` run over ``texts`` (a child process)."""
    import pandas as pd

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "bench.csv"
        pd.DataFrame({"comment": list(texts)}).to_csv(source, index=False)
        vicx = Path(sys.executable).with_name("vicx")
        command = [
            str(vicx),
            "analyze",
            str(source),
            "-c",
            "comment",
            "-o",
            f"{folder}/out.csv",
            "-q",
        ]
        # A child forked from this (large) process inherits its resident pages in ru_maxrss, so
        # a small interpreter starts the CLI and reports its own child's peak (KiB on Linux).
        probe = (
            "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        done = subprocess.run(
            [sys.executable, "-c", probe, *command], check=True, capture_output=True, text=True
        )
    return int(done.stdout.split()[-1]) / 1024


def run_bench(count: int = 20_000, model_dir: Path | None = None) -> BenchReport:
    texts = bench_texts(count)
    cold = cold_start_seconds(model_dir)
    analyzer = Analyzer.load(model_dir)
    analyzer.analyze(texts[:200])  # warm caches once, as a long-running service would be

    analyze_s = _timed(lambda: analyzer.analyze(texts))
    normalised: list[str] = []
    stages = {
        "normalise": _timed(lambda: normalised.extend(analyzer.normalizer.normalize_many(texts)))
    }
    matrix: list[Any] = []
    stages["features"] = _timed(
        lambda: matrix.append(analyzer.features.model.transform(normalised))
    )
    probabilities: list[Any] = []
    stages["sentiment head"] = _timed(
        lambda: probabilities.append(analyzer.sentiment.model.predict_proba(matrix[0]))
    )
    topics: list[Any] = [None]
    if analyzer.topics is not None:
        model = analyzer.topics.model
        stages["topics head"] = _timed(
            lambda: topics.__setitem__(0, model.predict(normalised, matrix[0], analyzer.featurize))
        )
    if analyzer.detractor is not None:
        detractor = analyzer.detractor.model
        stages["detractor head"] = _timed(
            lambda: detractor.predict_proba(matrix[0], probabilities[0], topics[0])
        )

    from underthesea import word_tokenize

    word_tokenize(texts[0])
    underthesea_s = _timed(lambda: [word_tokenize(text) for text in texts])
    peak_cli = cli_peak_rss_mb(texts)
    return BenchReport(
        comments=len(texts),
        mean_chars=sum(map(len, texts)) / len(texts),
        cold_start_s=round(cold, 3),
        analyze_per_s=round(len(texts) / analyze_s, 1),
        stages_s={name: round(seconds, 3) for name, seconds in stages.items()},
        underthesea_word_tokenize_per_s=round(len(texts) / underthesea_s, 1),
        speed_ratio_vs_underthesea=round(underthesea_s / analyze_s, 2),
        peak_rss_mb_bench=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        peak_rss_mb_cli=round(peak_cli, 1),
    )
