"""``vicx bench``: throughput, scaling, cold start and memory of the pipeline, against references.

Every number is measured on real corpus comments, in the same run as the references it is
judged against (underthesea's ``word_tokenize`` and a plain TF-IDF + LinearSVC pipeline on the
same texts), so the ratios hold even on a noisy machine. Growth with batch size and with comment
length is reported as a ratio that is 1.0 when time grows linearly.
"""

from __future__ import annotations

import logging
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Final

from nlp.analyzer import Analyzer
from nlp.corpora import load_corpus
from nlp.markdown import markdown_table

logger = logging.getLogger(__name__)

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
DEFAULT_SIZES: Final = (1_000, 5_000, 20_000)
DEFAULT_LENGTHS: Final = (50, 200, 800, 3_200)
#: Characters analysed per length bucket (at 20,000 comments; scaled down for smaller runs).
LENGTH_BUCKET_CHARS: Final = 320_000
#: The plain reference pipeline is fitted on this many labelled uit_vsfc training comments.
REFERENCE_TRAIN_ROWS: Final = 5_000
SEED: Final = 13


@dataclass(slots=True)
class SizeTiming:
    comments: int
    seconds: float
    comments_per_s: float
    us_per_comment: float


@dataclass(slots=True)
class LengthTiming:
    target_chars: int
    comments: int
    mean_chars: float
    seconds: float
    us_per_comment: float
    us_per_1k_chars: float


@dataclass(slots=True)
class BenchReport:
    comments: int
    mean_chars: float
    cold_start_s: float
    analyze_per_s: float
    stages_s: dict[str, float]
    underthesea_word_tokenize_per_s: float
    speed_ratio_vs_underthesea: float
    tfidf_svc_predict_per_s: float
    speed_ratio_vs_tfidf_svc: float
    sizes: list[SizeTiming]
    #: Time per comment at the largest size / at the smallest (1.0 = linear in batch size).
    size_linearity: float | None
    lengths: list[LengthTiming]
    #: Time per character of the longest bucket / of the one before it (1.0 = linear).
    length_linearity: float | None
    peak_rss_mb_bench: float
    peak_rss_mb_cli: float
    machine: dict[str, Any] = field(default_factory=dict)

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
            (
                "plain TF-IDF + LinearSVC `predict` (sentiment only), same texts",
                f"{self.tfidf_svc_predict_per_s:,.0f} comments/s",
            ),
            ("ratio vicx / TF-IDF + LinearSVC", f"{self.speed_ratio_vs_tfidf_svc:.2f}x"),
            ("cold start (process start to first result)", f"{self.cold_start_s:.2f} s"),
            ("peak RSS, `vicx analyze` of the same comments", f"{self.peak_rss_mb_cli:.0f} MB"),
            ("peak RSS, this benchmark process", f"{self.peak_rss_mb_bench:.0f} MB"),
        ]
        rows += [(f"stage: {name}", f"{seconds:.2f} s") for name, seconds in self.stages_s.items()]
        lines = [markdown_table(["measure", "value"], rows), ""]
        lines.append(
            markdown_table(
                ["batch size (comments)", "seconds", "comments/s", "µs per comment"],
                [
                    (
                        f"{s.comments:,}",
                        f"{s.seconds:.2f}",
                        f"{s.comments_per_s:,.0f}",
                        f"{s.us_per_comment:,.0f}",
                    )
                    for s in self.sizes
                ],
            )
        )
        if self.size_linearity is not None:
            lines.append(
                f"\nLinearity in batch size (µs per comment at {self.sizes[-1].comments:,} / at "
                f"{self.sizes[0].comments:,}; 1.00 = linear): {self.size_linearity:.2f}"
            )
        lines += [
            "",
            markdown_table(
                [
                    "comment length (chars)",
                    "comments",
                    "mean chars",
                    "µs per comment",
                    "µs per 1k chars",
                ],
                [
                    (
                        f"~{t.target_chars:,}",
                        f"{t.comments:,}",
                        f"{t.mean_chars:,.0f}",
                        f"{t.us_per_comment:,.0f}",
                        f"{t.us_per_1k_chars:,.0f}",
                    )
                    for t in self.lengths
                ],
            ),
        ]
        if self.length_linearity is not None:
            lines.append(
                f"\nLinearity in comment length (µs per char at ~{self.lengths[-1].target_chars:,}"
                f" / at ~{self.lengths[-2].target_chars:,} chars; 1.00 = linear): "
                f"{self.length_linearity:.2f}"
            )
        if self.machine:
            lines.append(f"\nMachine: {_machine_line(self.machine)}")
        return "\n".join(lines)


def _machine_line(machine: dict[str, Any]) -> str:
    return (
        f"{machine['cpus']} CPUs; load average {machine['load_start']:.2f} at start, "
        f"{machine['load_end']:.2f} at end"
    )


def machine_load() -> float:
    """The 1-minute load average: other work on the machine skews every timing."""
    return os.getloadavg()[0]


@lru_cache(maxsize=1)
def comment_pool() -> tuple[str, ...]:
    """Every raw comment of :data:`BENCH_SOURCES`, in a fixed order."""
    return tuple(record.raw for name, split in BENCH_SOURCES for record in load_corpus(name, split))


def bench_texts(count: int, seed: int = SEED) -> list[str]:
    """``count`` raw comments drawn reproducibly (with replacement) from several corpora."""
    pool = comment_pool()
    rng = random.Random(seed)
    return [pool[rng.randrange(len(pool))] for _ in range(count)]


def length_texts(pool: Sequence[str], target: int, count: int, seed: int = SEED) -> list[str]:
    """``count`` texts of about ``target`` characters, made by joining random real comments.

    Each text is cut at the last space before ``target`` so no word is split.
    """
    rng = random.Random(seed + target)
    texts = []
    for _ in range(count):
        parts: list[str] = []
        length = 0
        while length < target:
            piece = pool[rng.randrange(len(pool))].strip()
            parts.append(piece)
            length += len(piece) + 1
        text = " ".join(parts)
        cut = text.rfind(" ", 0, target + 1)
        texts.append(text[:cut] if cut > target // 2 else text[:target])
    return texts


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


def vicx_command(*args: str) -> list[str]:
    """The installed ``vicx`` console script next to this interpreter, with ``args``."""
    return [str(Path(sys.executable).with_name("vicx")), *args]


@dataclass(frozen=True, slots=True)
class Measured:
    wall_s: float
    #: Peak RSS of the largest single process (a pool's parent or one of its workers).
    peak_rss_mb: float
    #: User + system CPU seconds of the command and every process it waited for (contention
    #: from other work on the machine inflates it too, but less than wall time).
    cpu_s: float


def measure_command(command: Sequence[str]) -> Measured:
    """Run ``command`` to completion and measure it.

    A child forked from this (large) process would inherit its resident pages in ru_maxrss, so
    a small interpreter starts the command and reports its own children's usage (KiB on Linux).
    """
    probe = (
        "import resource, subprocess, sys, time; start = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], check=True); "
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(time.perf_counter() - start, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *command], check=True, capture_output=True, text=True
    )
    wall, peak_kib, cpu = done.stdout.split()[-3:]
    return Measured(float(wall), int(peak_kib) / 1024, float(cpu))


def cli_peak_rss_mb(texts: Sequence[str], model_dir: Path | None = None) -> float:
    """Peak resident memory of a real ``vicx analyze`` run over ``texts`` (a child process)."""
    import pandas as pd

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "bench.csv"
        pd.DataFrame({"comment": list(texts)}).to_csv(source, index=False)
        args = ["analyze", str(source), "-c", "comment", "-o", f"{folder}/out.csv", "-q"]
        if model_dir is not None:
            args += ["--model-dir", str(model_dir)]
        return measure_command(vicx_command(*args)).peak_rss_mb


def tfidf_svc_reference(train_rows: int = REFERENCE_TRAIN_ROWS) -> Any:
    """A plain TF-IDF + LinearSVC sentiment pipeline fitted on labelled uit_vsfc comments."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    labelled = [r for r in load_corpus("uit_vsfc", "train") if r.sentiment is not None]
    sample = random.Random(SEED).sample(labelled, min(train_rows, len(labelled)))
    pipeline = make_pipeline(TfidfVectorizer(), LinearSVC())
    return pipeline.fit([r.raw for r in sample], [r.sentiment for r in sample])


def time_sizes(analyzer: Analyzer, texts: Sequence[str], sizes: Sequence[int]) -> list[SizeTiming]:
    """Time ``analyze`` on the first ``size`` texts, for each size."""
    timings = []
    for size in sorted(sizes):
        logger.info("analyse %d comments", size)
        seconds = _timed(partial(analyzer.analyze, texts[:size]))
        timings.append(
            SizeTiming(
                size, round(seconds, 3), round(size / seconds, 1), round(seconds / size * 1e6)
            )
        )
    return timings


def time_lengths(
    analyzer: Analyzer, pool: Sequence[str], lengths: Sequence[int], bucket_chars: int
) -> list[LengthTiming]:
    """Time ``analyze`` on the same number of characters cut into comments of each length."""
    timings = []
    for target in sorted(lengths):
        texts = length_texts(pool, target, max(bucket_chars // target, 2))
        logger.info("analyse %d comments of ~%d chars", len(texts), target)
        seconds = _timed(partial(analyzer.analyze, texts))
        chars = sum(map(len, texts))
        timings.append(
            LengthTiming(
                target_chars=target,
                comments=len(texts),
                mean_chars=round(chars / len(texts), 1),
                seconds=round(seconds, 3),
                us_per_comment=round(seconds / len(texts) * 1e6),
                us_per_1k_chars=round(seconds / chars * 1e9),
            )
        )
    return timings


def stage_seconds(analyzer: Analyzer, texts: Sequence[str]) -> dict[str, float]:
    """Seconds per pipeline stage over ``texts``, each stage fed the previous one's output."""
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
        # Through the Analyzer, as analyze() calls it: the polarity stacker needs the sentiment.
        stages["topics head"] = _timed(
            lambda: topics.__setitem__(
                0, analyzer.predict_topics(normalised, matrix[0], probabilities[0])
            )
        )
    if analyzer.detractor is not None:
        detractor = analyzer.detractor.model
        stages["detractor head"] = _timed(
            lambda: detractor.predict_proba(matrix[0], probabilities[0], topics[0])
        )
    return {name: round(seconds, 3) for name, seconds in stages.items()}


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 2)


def run_bench(
    count: int = 20_000,
    model_dir: Path | None = None,
    *,
    sizes: Sequence[int] = DEFAULT_SIZES,
    lengths: Sequence[int] = DEFAULT_LENGTHS,
) -> BenchReport:
    """Measure on ``count`` real comments; ``sizes`` and ``lengths`` give the growth curves."""
    load_start = machine_load()
    logger.info("drawing %d real comments from the corpora", max(count, *sizes))
    drawn = bench_texts(max(count, *sizes))
    texts = drawn[:count]
    logger.info("cold start")
    cold = cold_start_seconds(model_dir)
    analyzer = Analyzer.load(model_dir)
    analyzer.analyze(texts[:200])  # warm caches once, as a long-running service would be

    size_timings = time_sizes(analyzer, drawn, sorted({*sizes, count}))
    analyze_s = next(t.seconds for t in size_timings if t.comments == count)
    logger.info("stage split")
    stages = stage_seconds(analyzer, texts)
    bucket_chars = min(LENGTH_BUCKET_CHARS, count * LENGTH_BUCKET_CHARS // 20_000)
    length_timings = time_lengths(analyzer, comment_pool(), lengths, bucket_chars)

    logger.info("references: word_tokenize and TF-IDF + LinearSVC on the same texts")
    from underthesea import word_tokenize

    word_tokenize(texts[0])
    underthesea_s = _timed(lambda: [word_tokenize(text) for text in texts])
    reference = tfidf_svc_reference()
    reference.predict(texts[:200])
    tfidf_s = _timed(lambda: reference.predict(texts))
    logger.info("peak memory of vicx analyze")
    peak_cli = cli_peak_rss_mb(texts, model_dir)
    measured_sizes = [t for t in size_timings if t.comments in sizes]
    return BenchReport(
        comments=len(texts),
        mean_chars=round(sum(map(len, texts)) / len(texts), 1),
        cold_start_s=round(cold, 3),
        analyze_per_s=round(len(texts) / analyze_s, 1),
        stages_s=stages,
        underthesea_word_tokenize_per_s=round(len(texts) / underthesea_s, 1),
        speed_ratio_vs_underthesea=_ratio(underthesea_s, analyze_s),
        tfidf_svc_predict_per_s=round(len(texts) / tfidf_s, 1),
        speed_ratio_vs_tfidf_svc=_ratio(tfidf_s, analyze_s),
        sizes=measured_sizes,
        size_linearity=(
            _ratio(
                measured_sizes[-1].seconds / measured_sizes[-1].comments,
                measured_sizes[0].seconds / measured_sizes[0].comments,
            )
            if len(measured_sizes) > 1
            else None
        ),
        lengths=length_timings,
        length_linearity=(
            _ratio(length_timings[-1].us_per_1k_chars, length_timings[-2].us_per_1k_chars)
            if len(length_timings) > 1
            else None
        ),
        peak_rss_mb_bench=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        peak_rss_mb_cli=round(peak_cli, 1),
        machine={
            "cpus": os.cpu_count(),
            "load_start": round(load_start, 2),
            "load_end": round(machine_load(), 2),
        },
    )
