"""Prometheus metrics: request latency, comments analysed, batch queue depth.

Each app owns its registry (several apps can live in one test process). The queue depth is
read from the database when Prometheus scrapes, so it is right even when `vicx worker`
processes elsewhere move batches along.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.service.models import Batch

logger = logging.getLogger(__name__)

#: Statuses that count as "in the queue": waiting for or held by a worker.
QUEUED_STATUSES: Final = ("queued", "running")
LATENCY_BUCKETS: Final = (
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip


class QueueDepthCollector(Collector):
    """``vicx_batch_queue_depth``: batches queued or running, counted at scrape time."""

    def __init__(self, sessions: Callable[[], sessionmaker[Session] | None]) -> None:
        self._sessions = sessions

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("vicx_batch_queue_depth", self._help())

    def collect(self) -> Iterator[Metric]:
        sessions = self._sessions()
        if sessions is None:  # scraped before the lifespan opened the database
            return
        try:
            with sessions() as session:
                depth = session.scalar(
                    select(func.count()).select_from(Batch).where(Batch.status.in_(QUEUED_STATUSES))
                )
        except Exception:  # a scrape must not fail because the database is down
            logger.warning("batch queue depth unavailable", exc_info=True)
            return
        yield GaugeMetricFamily("vicx_batch_queue_depth", self._help(), value=float(depth or 0))

    @staticmethod
    def _help() -> str:
        return "Batches queued or running (counted in the database at scrape time)."


class ServiceMetrics:
    """The service's metrics, registered on their own registry."""

    def __init__(self, sessions: Callable[[], sessionmaker[Session] | None]) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "vicx_request_duration_seconds",
            "HTTP request latency by method, route template and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.comments_analysed = Counter(
            "vicx_comments_analysed",
            "Comments analysed, by source (realtime: POST /v1/analyze; batch: batch jobs).",
            ["source"],
            registry=self.registry,
        )
        self.realtime_group_texts = Histogram(
            "vicx_realtime_group_texts",
            "Texts per analyze() call of the real-time route (concurrent requests are grouped).",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
            registry=self.registry,
        )
        self.registry.register(QueueDepthCollector(sessions))
        ProcessCollector(registry=self.registry)
