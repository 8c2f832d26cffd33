"""Per-key rate limit: a token bucket per caller, refilled continuously.

In-process state: each `vicx serve` process limits on its own (one process is the default).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable


class RateLimiter:
    """At most ``per_minute`` requests per key and minute on average, in bursts up to as many."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._buckets: dict[Hashable, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: Hashable) -> float | None:
        """Take one token for ``key``: None when allowed, else seconds until the next token."""
        if self.per_minute <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - stamp) * self._rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self._rate
