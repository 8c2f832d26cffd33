"""Analyse DataFrame chunks on local worker processes, each holding one loaded Analyzer.

The CLI's ``vicx analyze --jobs N`` and the HTTP service's batch worker share this pool, so
results never depend on how many processes produced them:

>>> with AnalyzerPool(None, jobs=2) as pool:  # doctest: +SKIP
...     for frame in pool.map_frames(chunks, "comment"):
...         writer.write(frame)

Results come back in input order. Chunks are taken from the input lazily and at most
``max_in_flight`` are submitted at once, so memory stays bounded however long the input is.
``jobs=1`` analyses in this process, with no pool at all.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from types import TracebackType

import pandas as pd

from nlp.analyzer import Analyzer
from nlp.errors import VicxError

#: The Analyzer of this worker process, loaded once by :func:`_load_worker_analyzer`.
_worker_analyzer: Analyzer | None = None
#: A load failure is kept and raised with each chunk, so the caller sees the real error (E2xx)
#: instead of a broken pool.
_worker_load_error: VicxError | None = None


def _load_worker_analyzer(model_dir: Path | None) -> None:
    global _worker_analyzer, _worker_load_error
    try:
        _worker_analyzer = Analyzer.load(model_dir)
    except VicxError as error:
        _worker_load_error = error


def _analyze_in_worker(frame: pd.DataFrame, text_column: str) -> pd.DataFrame:
    if _worker_load_error is not None:
        raise _worker_load_error
    assert _worker_analyzer is not None, "worker initializer did not run"
    return _worker_analyzer.analyze_frame(frame, text_column)


class AnalyzerPool:
    """``jobs`` processes analysing chunks with ``Analyzer.analyze_frame``, results in order."""

    def __init__(
        self, model_dir: Path | None, jobs: int, *, max_in_flight: int | None = None
    ) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        self.model_dir = model_dir
        self.jobs = jobs
        # Two chunks per worker keep every worker busy while the caller writes a result.
        self.max_in_flight = max_in_flight or 2 * jobs
        self._analyzer: Analyzer | None = None
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> AnalyzerPool:
        if self.jobs == 1:
            self._analyzer = Analyzer.load(self.model_dir)
        else:
            # spawn, not fork: the parent may run threads (progress bars, servers) that a
            # forked child would inherit in an unknown state.
            self._executor = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_load_worker_analyzer,
                initargs=(self.model_dir,),
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self._analyzer = None

    def map_frames(
        self, frames: Iterable[pd.DataFrame], text_column: str
    ) -> Iterator[pd.DataFrame]:
        """``analyze_frame`` of each frame, yielded in input order as soon as it is ready."""
        if self._analyzer is not None:
            for frame in frames:
                yield self._analyzer.analyze_frame(frame, text_column)
            return
        if self._executor is None:
            raise RuntimeError("AnalyzerPool.map_frames called outside its with-block")
        pending: deque[Future[pd.DataFrame]] = deque()
        for frame in frames:
            pending.append(self._executor.submit(_analyze_in_worker, frame, text_column))
            if len(pending) >= self.max_in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
