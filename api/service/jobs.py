"""The durable batch queue: huey on a SQLite file (``settings.queue_path``).

A queued message is only a batch id; the batch's state lives in the database, so the queue may
lose a message (a consumer killed mid-task has already taken it off the queue) without losing
work: every consumer, when it starts, re-enqueues the batches left ``queued`` or ``running``
that have no message waiting, and processing resumes after the rows already stored.

- ``enqueue_batch(settings, batch_id)``: what the upload route calls.
- ``start_embedded_consumer(app_state)``: worker threads inside `vicx serve`, stopped (between
  chunks) by ``.stop()`` in the app's lifespan.
- ``run_worker(settings)``: a standalone consumer for `vicx worker` (blocks; Ctrl+C stops it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any, Final

import pandas as pd
from huey import SqliteHuey
from huey.consumer import Consumer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.service.batch_processing import QUEUED, RUNNING, BatchContext, process_batch
from api.service.models import Batch
from api.service.settings import Settings
from nlp.parallel import AnalyzerPool

logger = logging.getLogger(__name__)

QUEUE_NAME: Final = "vicx-batches"
TASK_NAME: Final = "process_batch"
#: Longest pause between two polls of an idle queue: a new batch starts within it.
MAX_POLL_SECONDS: Final = 0.5
#: How long stop() waits for a worker to reach the end of its chunk.
STOP_TIMEOUT_SECONDS: Final = 30.0

Runner = Callable[[str], None]


class BatchQueue:
    """The huey instance and its one task. Producers create it without a runner."""

    def __init__(self, settings: Settings, runner: Runner | None = None) -> None:
        settings.ensure_dirs()
        self.huey = SqliteHuey(
            QUEUE_NAME, filename=str(settings.queue_path), results=False, timeout=30
        )
        self.runner = runner
        self._task = self.huey.task(name=TASK_NAME)(self._run)

    def _run(self, batch_id: str) -> None:
        if self.runner is None:
            raise RuntimeError("this BatchQueue only enqueues; start a consumer to process")
        self.runner(batch_id)

    def enqueue(self, batch_id: str) -> None:
        self._task(batch_id)

    def waiting_batch_ids(self) -> set[str]:
        return {str(task.args[0]) for task in self.huey.pending() if task.args}


_producers: dict[str, BatchQueue] = {}
_producers_lock = threading.Lock()


def enqueue_batch(settings: Settings, batch_id: str) -> None:
    """Put a batch on the queue (blocking SQLite write: call it from a thread in async code)."""
    key = str(settings.queue_path.resolve())
    with _producers_lock:
        queue = _producers.get(key)
        if queue is None:
            queue = _producers[key] = BatchQueue(settings)
    queue.enqueue(batch_id)


def requeue_unfinished(sessions: sessionmaker[Session], queue: BatchQueue) -> list[str]:
    """Enqueue every batch left queued or running that has no message waiting (its consumer
    died or was stopped mid-batch); returns their ids."""
    with sessions() as session:
        unfinished = session.scalars(
            select(Batch.id).where(Batch.status.in_((QUEUED, RUNNING))).order_by(Batch.created_at)
        ).all()
    waiting = queue.waiting_batch_ids()
    requeued = [batch_id for batch_id in unfinished if batch_id not in waiting]
    for batch_id in requeued:
        queue.enqueue(batch_id)
    if requeued:
        logger.info("re-enqueued %d unfinished batch(es): %s", len(requeued), ", ".join(requeued))
    return requeued


class _EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """huey's consumer without signal handlers: inside `vicx serve`, uvicorn owns them."""

    def _set_signal_handlers(self) -> None:
        pass


def _pool(settings: Settings, stack: ExitStack) -> Any | None:
    """An entered ``nlp.parallel.AnalyzerPool`` when ``batch_jobs > 1`` (None otherwise)."""
    if settings.batch_jobs <= 1:
        return None
    pool = stack.enter_context(AnalyzerPool(settings.model_dir, settings.batch_jobs))
    # Worker processes load the models when they start (seconds): start them now, in the
    # background, rather than when the first batch is waiting.
    warm_up = [pd.DataFrame({"text": ["khởi động"]}) for _ in range(settings.batch_jobs)]

    def start_workers() -> None:
        try:
            list(pool.map_frames(warm_up, "text"))
        except Exception:  # a stop during start-up: the next batch reports real errors
            logger.debug("analyser pool warm-up interrupted", exc_info=True)

    threading.Thread(target=start_workers, name="pool-warm-up", daemon=True).start()
    return pool


class ConsumerHandle:
    """A running consumer: ``stop()`` lets each worker finish its chunk, then returns."""

    def __init__(self, consumer: Consumer, stack: ExitStack) -> None:
        self.consumer = consumer
        self._stack = stack

    def stop(self) -> None:
        self.consumer.stop(graceful=True)
        self._stack.close()


def _consumer(
    settings: Settings,
    sessions: sessionmaker[Session],
    analyzer: Any | None,
    on_rows: Callable[[int], None] | None,
    consumer_class: type[Consumer],
) -> tuple[Consumer, ExitStack]:
    stack = ExitStack()
    context = BatchContext(
        settings, sessions, analyzer=analyzer, pool=_pool(settings, stack), on_rows=on_rows
    )
    queue = BatchQueue(settings)
    consumer = consumer_class(
        queue.huey,
        workers=max(settings.queue_workers, 1),
        worker_type="thread",
        periodic=False,
        max_delay=MAX_POLL_SECONDS,
        check_worker_health=False,
        shutdown_timeout=STOP_TIMEOUT_SECONDS,
    )
    stop_flag = consumer.stop_flag

    def run(batch_id: str) -> None:
        # huey's own stop flag is checked between chunks, so a stop never waits a batch out.
        process_batch(context, batch_id, should_stop=stop_flag.is_set)

    queue.runner = run
    requeue_unfinished(sessions, queue)
    return consumer, stack


def start_embedded_consumer(app_state: Any) -> ConsumerHandle:
    """Start ``settings.queue_workers`` worker threads in this process (used by the lifespan)."""
    settings: Settings = app_state.settings
    metrics = getattr(app_state, "metrics", None)
    on_rows = None
    if metrics is not None and hasattr(metrics, "comments_analysed"):

        def on_rows(rows: int) -> None:
            metrics.comments_analysed.labels("batch").inc(rows)

    consumer, stack = _consumer(
        settings, app_state.sessions, app_state.analyzer, on_rows, _EmbeddedConsumer
    )
    consumer.start()
    logger.info("batch consumer started: %d worker thread(s)", max(settings.queue_workers, 1))
    return ConsumerHandle(consumer, stack)


def run_worker(settings: Settings) -> None:
    """`vicx worker`: migrate, load the models, consume until SIGINT/SIGTERM."""
    from api.service import migrate
    from api.service.db import make_engine, make_sessionmaker

    settings.ensure_dirs()
    migrate.upgrade(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        consumer, stack = _consumer(settings, make_sessionmaker(engine), None, None, Consumer)
        with stack:
            consumer.run()
    finally:
        engine.dispose()
