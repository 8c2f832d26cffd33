"""``vicx analyze --engine dask``: the same ``Analyzer.analyze_frame`` over Dask partitions.

Input CSV/TSV or Parquet is read in partitions, every partition is analysed on a worker with the
Analyzer that worker loaded once, and the flattened rows (the CSV/XLSX columns, see
:func:`api.tabular.flatten`) are written as a directory of Parquet or CSV part files, in input
order. :func:`analyse_partition` is a plain pandas -> pandas function, so Spark's
``mapInPandas`` can run it too (README, "Big files: processes, Dask and Spark").
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pandas as pd

from api.csv_partitions import PARTITION_ROWS, csv_layout, read_csv_range
from api.tabular import flatten
from nlp.analyzer import Analyzer
from nlp.errors import EmptyInputError, InputError, MissingColumnError, UnsupportedFormatError

if TYPE_CHECKING:
    import dask.dataframe as dd
    from distributed import Client

CSV_SUFFIXES: Final = (".csv", ".tsv")
PARQUET_SUFFIXES: Final = (".parquet", ".pq")
#: File names a previous Dask run leaves in its output directory (and nothing else).
_OUTPUT_FILE_PREFIXES: Final = ("part", "_metadata", "_common_metadata")

_analyzers: dict[str | None, Analyzer] = {}
_analyzers_lock = threading.Lock()


def worker_analyzer(model_dir: Path | str | None) -> Analyzer:
    """The Analyzer of this process for ``model_dir``, loaded on first use and then reused.

    A Dask worker (or a Spark Python worker) keeps it across partitions; the lock makes threads
    of one worker wait for a single load instead of loading the bundles several times.
    """
    key = None if model_dir is None else str(model_dir)
    with _analyzers_lock:
        if key not in _analyzers:
            _analyzers[key] = Analyzer.load(None if key is None else Path(key))
        return _analyzers[key]


def _load_models(model_dir: Path | str | None) -> None:
    worker_analyzer(model_dir)


def analyse_partition(
    frame: pd.DataFrame, text_column: str, model_dir: Path | str | None = None
) -> pd.DataFrame:
    """Input columns plus the flattened result columns (one schema for every partition)."""
    return flatten(worker_analyzer(model_dir).analyze_frame(frame, text_column))


def _part_name(index: int) -> str:
    # Zero-padded so that sorting the file names gives the input order back.
    return f"{index:05d}"


def _parquet_name(index: int) -> str:
    return f"part.{_part_name(index)}.parquet"


def _check_output(output: Path) -> None:
    """Refuse to replace a directory that holds anything but a previous run's part files."""
    if output.is_file():
        raise InputError(
            f"{output} is a file; --engine dask writes a directory of part files.",
            path=str(output),
        )
    if output.is_dir():
        foreign = [p.name for p in output.iterdir() if not p.name.startswith(_OUTPUT_FILE_PREFIXES)]
        if foreign:
            raise InputError(
                f"{output} already holds other files ({', '.join(sorted(foreign)[:5])}); "
                "choose a new or empty output directory.",
                path=str(output),
            )


@contextmanager
def _client(scheduler: str | None, workers: int) -> Iterator[Client]:
    # distributed ships no type hints for these constructors.
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client
        return
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client


def read_partitions(
    input_path: Path, text_column: str, partition_rows: int = PARTITION_ROWS
) -> tuple[dd.DataFrame, pd.DataFrame, int]:
    """The input as a lazy Dask frame, an empty frame of its columns, and its row count."""
    import dask.dataframe as dd

    suffix = input_path.suffix.lower()
    if not input_path.exists():
        raise EmptyInputError(f"{input_path} does not exist.", path=str(input_path))
    if suffix in CSV_SUFFIXES:
        layout = csv_layout(input_path, text_column, partition_rows)
        empty = pd.DataFrame({c: pd.Series(dtype="str") for c in layout.columns})
        frames = dd.from_map(  # type: ignore[no-untyped-call]
            read_csv_range,
            layout.ranges,
            path=str(input_path),
            encoding=layout.encoding,
            separator=layout.separator,
            columns=layout.columns,
            meta=empty,
        )
        return frames, empty, sum(layout.rows)
    if suffix in PARQUET_SUFFIXES or input_path.is_dir():
        frames = dd.read_parquet(str(input_path))
        available = [str(c) for c in frames.columns]
        if text_column not in available:
            raise MissingColumnError(
                f"Column {text_column!r} not found in {input_path.name}; "
                f"available: {', '.join(available)}",
                column=text_column,
                available=available,
            )
        empty = pd.DataFrame({c: pd.Series(dtype=t) for c, t in frames.dtypes.items()})
        rows = len(frames)
        if rows == 0:
            raise EmptyInputError(f"{input_path.name} has no rows.", path=str(input_path))
        return frames, empty, rows
    raise UnsupportedFormatError(
        f"--engine dask reads CSV, TSV or Parquet, not {input_path.name}.",
        path=str(input_path),
        supported=[*CSV_SUFFIXES, *PARQUET_SUFFIXES],
    )


def analyse_with_dask(
    input_path: Path,
    text_column: str,
    output: Path,
    *,
    model_dir: Path | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    partition_rows: int = PARTITION_ROWS,
) -> int:
    """Analyse ``input_path`` on a Dask cluster into the directory ``output``; returns the rows.

    ``scheduler`` is the address of a running cluster; without one a LocalCluster of
    ``workers`` processes is started and stopped here. Output is Parquet unless ``output`` ends
    in ``.csv``. Parts go to ``<output>.partial`` and replace ``output`` only on success.
    """
    _check_output(output)
    frames, empty, rows = read_partitions(input_path, text_column, partition_rows)
    partial = output.with_name(output.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    with _client(scheduler, workers) as client:
        # Every worker loads the models at once, before partitions arrive, rather than each on
        # its first partition while the others already work.
        addresses = list(client.scheduler_info()["workers"])
        loads = [client.submit(_load_models, model_dir, workers=[a], pure=False) for a in addresses]
        for load in loads:
            load.result()
        # The output schema comes from a worker analysing zero rows, so this process never
        # loads the models.
        meta = client.submit(analyse_partition, empty, text_column, model_dir, pure=False).result()
        analysed = frames.map_partitions(  # type: ignore[no-untyped-call]
            analyse_partition, text_column, model_dir, meta=meta
        )
        try:
            if output.suffix.lower() == ".csv":
                partial.mkdir(parents=True)
                analysed.to_csv(str(partial / "part-*.csv"), name_function=_part_name, index=False)
            else:
                analysed.to_parquet(str(partial), write_index=False, name_function=_parquet_name)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
    shutil.rmtree(output, ignore_errors=True)
    partial.replace(output)
    return rows
