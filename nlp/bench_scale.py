"""Scale-out benchmarks of the real ``vicx analyze`` command, each run as its own process.

One process vs ``--jobs N`` local processes vs a Dask LocalCluster of N workers on the same
file of real comments (with a check that every engine wrote the same rows), and a
million-row file for wall time and peak memory. These runs take minutes, so ``vicx bench``
does them only when asked (``--parallel``, ``--dask``, ``--million``).
"""

from __future__ import annotations

import csv
import filecmp
import logging
import random
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from nlp.bench import SEED, comment_pool, machine_load, measure_command, vicx_command
from nlp.markdown import markdown_table

logger = logging.getLogger(__name__)

WRITE_ROWS: Final = 100_000


@dataclass(slots=True)
class CliRun:
    label: str
    command: str
    rows: int
    input_mb: float
    wall_s: float
    rows_per_s: float
    #: The largest single process of the run (with --jobs, the parent or one worker).
    peak_rss_mb: float
    #: CPU seconds of every process of the run.
    cpu_s: float
    #: The 1-minute load average when the run started (other work skews the timing).
    load_at_start: float = 0.0
    speedup_vs_one_process: float | None = None
    #: CPU seconds / the one-process run's: what the extra processes cost in total work.
    cpu_vs_one_process: float | None = None
    identical_to_one_process: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def runs_markdown(runs: Sequence[CliRun]) -> str:
    headers = [
        "run",
        "rows",
        "wall s",
        "rows/s",
        "speed-up vs one process",
        "CPU s (vs one process)",
        "same rows as one process",
        "peak RSS (largest process)",
        "load at start",
    ]
    rows = []
    for run in runs:
        speedup = "-" if run.speedup_vs_one_process is None else f"{run.speedup_vs_one_process}x"
        cpu = f"{run.cpu_s:.0f}"
        if run.cpu_vs_one_process is not None:
            cpu += f" ({run.cpu_vs_one_process:.2f}x)"
        same = {None: "-", True: "yes", False: "NO"}[run.identical_to_one_process]
        rows.append(
            [
                f"{run.label} (`{run.command}`)",
                f"{run.rows:,}",
                f"{run.wall_s:.1f}",
                f"{run.rows_per_s:,.0f}",
                speedup,
                cpu,
                same,
                f"{run.peak_rss_mb:.0f} MB",
                f"{run.load_at_start:.1f}",
            ]
        )
    return markdown_table(headers, rows)


def write_comments_csv(path: Path, rows: int, seed: int = SEED) -> None:
    """A CSV of ``rows`` real comments (drawn with replacement) with an id column, in blocks."""
    import pandas as pd

    pool = comment_pool()
    rng = random.Random(seed)
    for start in range(0, rows, WRITE_ROWS):
        count = min(WRITE_ROWS, rows - start)
        block = pd.DataFrame(
            {
                "id": range(start, start + count),
                "comment": [pool[rng.randrange(len(pool))] for _ in range(count)],
            }
        )
        block.to_csv(path, mode="a", header=start == 0, index=False)


def _csv_rows(paths: Sequence[Path]) -> Iterator[list[str]]:
    """The data rows of CSV files read one after the other, each file's header skipped."""
    for path in paths:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            records = csv.reader(handle)
            next(records, None)
            yield from records


def same_rows(single: Path, parts: Sequence[Path]) -> bool:
    """Whether ``parts`` (read in order) hold exactly the rows of ``single``, cell for cell."""
    sentinel = ["<missing row>"]
    expected, actual = _csv_rows([single]), _csv_rows(parts)
    for want in expected:
        if next(actual, sentinel) != want:
            return False
    return next(actual, None) is None


def _run(
    label: str, source: Path, output: Path, rows: int, extra: Sequence[str], model: Sequence[str]
) -> CliRun:
    args = ["analyze", str(source), "-c", "comment", "-o", str(output), "-q", *extra, *model]
    logger.info("%s: vicx %s", label, " ".join(args))
    load = machine_load()
    measured = measure_command(vicx_command(*args))
    shown = " ".join(["vicx analyze", source.name, "-c comment -o", output.name, "-q", *extra])
    return CliRun(
        label=label,
        command=shown,
        rows=rows,
        input_mb=round(source.stat().st_size / 2**20, 1),
        wall_s=round(measured.wall_s, 2),
        rows_per_s=round(rows / measured.wall_s, 1),
        peak_rss_mb=round(measured.peak_rss_mb, 1),
        cpu_s=round(measured.cpu_s, 1),
        load_at_start=round(load, 2),
    )


def _model_args(model_dir: Path | None) -> list[str]:
    return [] if model_dir is None else ["--model-dir", str(model_dir)]


def scale_runs(
    rows: int,
    jobs: int,
    *,
    parallel: bool = True,
    dask: bool = True,
    model_dir: Path | None = None,
) -> list[CliRun]:
    """One process, then ``--jobs`` and/or Dask with ``jobs`` workers, on the same file."""
    model = _model_args(model_dir)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / f"scale_{rows}.csv"
        write_comments_csv(source, rows)
        single = Path(folder) / "one_process.csv"
        baseline = _run("one process", source, single, rows, [], model)
        runs = [baseline]
        if parallel:
            output = Path(folder) / "local_jobs.csv"
            run = _run(f"{jobs} local processes", source, output, rows, ["-j", str(jobs)], model)
            run.identical_to_one_process = filecmp.cmp(single, output, shallow=False)
            runs.append(run)
        if dask:
            output = Path(folder) / "dask_parts.csv"
            extra = ["--engine", "dask", "-j", str(jobs)]
            run = _run(f"Dask LocalCluster, {jobs} workers", source, output, rows, extra, model)
            run.identical_to_one_process = same_rows(single, sorted(output.glob("part-*.csv")))
            runs.append(run)
        for run in runs[1:]:
            run.speedup_vs_one_process = round(baseline.wall_s / run.wall_s, 2)
            run.cpu_vs_one_process = round(run.cpu_s / baseline.cpu_s, 2)
        return runs


def million_run(rows: int = 1_000_000, model_dir: Path | None = None) -> CliRun:
    """``vicx analyze`` of a ``rows``-row CSV of real comments: wall time and peak memory."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / f"comments_{rows}.csv"
        logger.info("writing %d real comments to %s", rows, source)
        write_comments_csv(source, rows)
        output = Path(folder) / "scored.csv"
        return _run(f"{rows:,} rows, one process", source, output, rows, [], _model_args(model_dir))
