"""`--engine dask`: partitions analysed on a LocalCluster equal the single-process rows."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from distributed import LocalCluster

from api.csv_partitions import csv_layout, read_csv_range
from api.dask_engine import analyse_with_dask
from api.tabular import flatten
from nlp.analyzer import Analyzer
from nlp.errors import InputError, MalformedFileError, MissingColumnError
from tests.conftest import REPO, run_cli

PARTITION_ROWS = 40


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """Two in-process workers: real scheduling and partitions without spawning processes."""
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as local:
        yield local


@pytest.fixture(scope="module")
def comments() -> pd.DataFrame:
    """130 rows: the example reviews, a comment with a quoted line break, an input column named
    like a result field ("sentiment")."""
    example = pd.read_csv(REPO / "examples" / "reviews.csv", dtype=str, keep_default_na=False)
    frame = pd.concat([example] * 13, ignore_index=True)
    frame.loc[5, "comment"] = 'Nhân viên "dễ thương"\nnhưng giao hàng chậm,\r\nhộp móp'
    frame["sentiment"] = "from the survey tool"
    frame["id"] = [str(i) for i in range(len(frame))]
    return frame


def _expected(analyzer: Analyzer, frame: pd.DataFrame) -> pd.DataFrame:
    return flatten(analyzer.analyze_frame(frame, "comment"))


def test_csv_layout_cuts_only_between_records(tmp_path: Path, comments: pd.DataFrame) -> None:
    source = tmp_path / "in.csv"
    comments.to_csv(source, index=False, encoding="utf-8-sig")
    layout = csv_layout(source, "comment", partition_rows=PARTITION_ROWS)
    assert layout.rows == [40, 40, 40, 10]
    parts = [
        read_csv_range(r, str(source), layout.encoding, layout.separator, layout.columns)
        for r in layout.ranges
    ]
    whole = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)


def test_a_cell_too_big_to_split_is_a_malformed_file(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    pd.DataFrame({"comment": ["ngon " * 40_000]}).to_csv(source, index=False)
    with pytest.raises(MalformedFileError, match="field larger than field limit"):
        csv_layout(source, "comment")


def test_missing_text_column_is_reported_before_any_work(
    tmp_path: Path, comments: pd.DataFrame
) -> None:
    source = tmp_path / "in.csv"
    comments.to_csv(source, index=False)
    with pytest.raises(MissingColumnError, match="'review'"):
        analyse_with_dask(source, "review", tmp_path / "out")


def test_refuses_to_replace_a_directory_of_other_files(tmp_path: Path) -> None:
    output = tmp_path / "out"
    output.mkdir()
    (output / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match=r"notes\.txt"):
        analyse_with_dask(REPO / "examples" / "reviews.csv", "comment", output)
    assert (output / "notes.txt").exists()


@pytest.mark.slow
def test_csv_in_parquet_out_equals_single_process(
    cluster: LocalCluster, analyzer: Analyzer, comments: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    comments.to_csv(source, index=False)
    output = tmp_path / "scored"
    rows = analyse_with_dask(
        source,
        "comment",
        output,
        scheduler=cluster.scheduler_address,
        partition_rows=PARTITION_ROWS,
    )
    assert rows == len(comments)
    assert len(list(output.glob("part.*.parquet"))) == 4
    analysed = pd.read_parquet(output)
    pd.testing.assert_frame_equal(analysed, _expected(analyzer, comments), check_dtype=False)


@pytest.mark.slow
# dask 2026.8's Parquet reader still calls reset_index(inplace=True), deprecated by pandas 3.1.
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")
def test_parquet_in_csv_parts_out_equals_single_process(
    cluster: LocalCluster, analyzer: Analyzer, comments: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "in.parquet"
    comments.to_parquet(source, index=False, row_group_size=50)
    output = tmp_path / "scored.csv"
    analyse_with_dask(source, "comment", output, scheduler=cluster.scheduler_address)
    parts = sorted(output.glob("part-*.csv"))
    analysed = pd.concat(
        [pd.read_csv(part, dtype=str, keep_default_na=False) for part in parts],
        ignore_index=True,
    )
    buffer = io.StringIO()
    _expected(analyzer, comments).to_csv(buffer, index=False)
    buffer.seek(0)
    expected = pd.read_csv(buffer, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(analysed, expected)


@pytest.mark.slow
def test_cli_engine_dask_writes_partitioned_parquet(tmp_path: Path, comments: pd.DataFrame) -> None:
    source = tmp_path / "in.csv"
    comments.to_csv(source, index=False)
    output = tmp_path / "scored"
    done = run_cli(
        "analyze", str(source), "-c", "comment", "-o", str(output), "--engine", "dask", "-j", "1"
    )
    assert done.returncode == 0, done.stderr
    assert f"analysed {len(comments)} rows" in done.stderr
    analysed = pd.read_parquet(output)
    assert analysed["id"].tolist() == comments["id"].tolist()
    assert analysed.loc[6, "flags"] == "empty_text"


def test_cli_scheduler_needs_the_dask_engine(tmp_path: Path) -> None:
    done = run_cli(
        "analyze",
        str(REPO / "examples" / "reviews.csv"),
        "-c",
        "comment",
        "-o",
        str(tmp_path / "out.csv"),
        "--scheduler",
        "tcp://127.0.0.1:8786",
    )
    assert done.returncode == 2
    assert "--engine dask" in done.stderr
