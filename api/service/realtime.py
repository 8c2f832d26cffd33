"""Runs the CPU-bound Analyzer off the event loop for the real-time route.

Concurrent requests are grouped: while one ``analyze()`` call runs on the analysis thread,
new requests queue up, and the next call takes all of them at once. Vectorising 20 comments
costs about twice one, so under load this beats one thread per request (which would also fight
over the GIL); a lone request does not wait for company.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final

from nlp.result import Result

#: Most texts one grouped ``analyze()`` call takes; a bigger request runs on its own.
MAX_GROUP_TEXTS: Final = 256


@dataclass
class _Pending:
    texts: Sequence[str]
    future: asyncio.Future[list[Result]] = field(repr=False)


class MicroBatcher:
    """``await batcher.analyze(texts)`` from any number of concurrent requests."""

    def __init__(
        self,
        analyze: Callable[[Sequence[str]], list[Result]],
        max_group_texts: int = MAX_GROUP_TEXTS,
        on_group: Callable[[int], None] | None = None,
    ) -> None:
        self._analyze = analyze
        self._on_group = on_group
        self._max_group_texts = max_group_texts
        self._pending: deque[_Pending] = deque()
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vicx-analyze")
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="vicx-microbatch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for pending in self._pending:
            if not pending.future.done():
                pending.future.cancel()
        self._executor.shutdown(wait=True)

    async def analyze(self, texts: Sequence[str]) -> list[Result]:
        future: asyncio.Future[list[Result]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(texts, future))
        self._wakeup.set()
        return await future

    def _take_group(self) -> list[_Pending]:
        group = [self._pending.popleft()]
        size = len(group[0].texts)
        while self._pending and size + len(self._pending[0].texts) <= self._max_group_texts:
            size += len(self._pending[0].texts)
            group.append(self._pending.popleft())
        return group

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                group = [p for p in self._take_group() if not p.future.done()]
                if not group:
                    continue
                texts = [text for pending in group for text in pending.texts]
                if self._on_group is not None:
                    self._on_group(len(texts))
                try:
                    results = await loop.run_in_executor(self._executor, self._analyze, texts)
                except Exception as error:  # each waiting request gets the failure
                    for pending in group:
                        if not pending.future.done():
                            pending.future.set_exception(error)
                    continue
                start = 0
                for pending in group:
                    end = start + len(pending.texts)
                    if not pending.future.done():
                        pending.future.set_result(results[start:end])
                    start = end
