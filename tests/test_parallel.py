"""AnalyzerPool and `vicx analyze --jobs`: local processes give the rows one Analyzer gives."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from nlp.analyzer import Analyzer
from nlp.errors import MissingColumnError, ModelNotFoundError
from nlp.parallel import AnalyzerPool
from tests.conftest import REPO, run_cli

CHUNK_ROWS = 10


@pytest.fixture(scope="module")
def comments() -> pd.DataFrame:
    """The example reviews six times over (60 rows, one empty text each time)."""
    example = pd.read_csv(REPO / "examples" / "reviews.csv", dtype=str, keep_default_na=False)
    frame = pd.concat([example] * 6, ignore_index=True)
    frame.index = frame.index + 100  # results must keep the caller's index, not 0..n
    return frame


@pytest.fixture(scope="module")
def pool() -> Iterator[AnalyzerPool]:
    with AnalyzerPool(None, jobs=2) as started:
        yield started


def _chunks(frame: pd.DataFrame) -> list[pd.DataFrame]:
    return [frame.iloc[start : start + CHUNK_ROWS] for start in range(0, len(frame), CHUNK_ROWS)]


@pytest.mark.slow
def test_two_processes_give_one_analyzers_rows_in_input_order(
    pool: AnalyzerPool, analyzer: Analyzer, comments: pd.DataFrame
) -> None:
    analysed = pd.concat(pool.map_frames(_chunks(comments), "comment"))
    pd.testing.assert_frame_equal(analysed, analyzer.analyze_frame(comments, "comment"))


@pytest.mark.slow
def test_chunks_are_pulled_lazily_with_bounded_work_in_flight(
    pool: AnalyzerPool, comments: pd.DataFrame
) -> None:
    pulled = 0

    def source() -> Iterator[pd.DataFrame]:
        nonlocal pulled
        for chunk in _chunks(comments):
            pulled += 1
            yield chunk

    results = pool.map_frames(source(), "comment")
    next(results)
    assert pulled == pool.max_in_flight == 4
    next(results)
    assert pulled == 5
    assert len(list(results)) == len(comments) // CHUNK_ROWS - 2
    assert pulled == len(comments) // CHUNK_ROWS


@pytest.mark.slow
def test_a_worker_error_reaches_the_caller_with_its_code(
    pool: AnalyzerPool, comments: pd.DataFrame
) -> None:
    with pytest.raises(MissingColumnError) as raised:
        list(pool.map_frames(_chunks(comments), "no_such_column"))
    assert raised.value.code == "E103_missing_column"


@pytest.mark.slow
def test_a_model_that_fails_to_load_in_the_workers_is_reported(
    tmp_path: Path, comments: pd.DataFrame
) -> None:
    with AnalyzerPool(tmp_path / "no-models", jobs=2) as broken, pytest.raises(ModelNotFoundError):
        list(broken.map_frames(_chunks(comments), "comment"))


def test_one_job_analyses_in_this_process(analyzer: Analyzer, comments: pd.DataFrame) -> None:
    children = set(multiprocessing.active_children())
    with AnalyzerPool(None, jobs=1) as in_process:
        analysed = pd.concat(in_process.map_frames(_chunks(comments), "comment"))
        assert set(multiprocessing.active_children()) == children
    pd.testing.assert_frame_equal(analysed, analyzer.analyze_frame(comments, "comment"))


def test_jobs_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AnalyzerPool(None, jobs=0)


@pytest.mark.slow
def test_cli_jobs_two_writes_the_same_file_as_one_process(
    tmp_path: Path, comments: pd.DataFrame
) -> None:
    source = tmp_path / "in.csv"
    comments.to_csv(source, index=False)
    outputs = []
    for jobs in ("1", "2"):
        output = tmp_path / f"out_{jobs}.jsonl"
        done = run_cli("analyze", str(source), "-c", "comment", "-o", str(output), "-q", "-j", jobs)
        assert done.returncode == 0, done.stderr
        assert f"analysed {len(comments)} rows" in done.stderr
        outputs.append(output.read_bytes())
    assert outputs[0] == outputs[1]
