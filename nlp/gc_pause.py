"""Pause the cyclic garbage collector while one batch is analysed.

A batch builds tens of thousands of short-lived containers (token lists, clause spans, lexicon
matches) and no reference cycles; they are freed by reference counting when the batch ends. With
the collector running, every one of them alive at a collection is promoted to the oldest
generation, which then triggers full collections that walk every object of the process (the
loaded models, the caller's data, all results so far): about a fifth of the analyser's time on
the 20k-comment bench. Paused, only what the batch returns survives it.

The pause is bounded by one batch and undone on exit, also on error. Only the call that found the
collector enabled re-enables it, so concurrent batches never leave it off, and a process that
turned it off itself keeps it off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with automatic garbage collection off, then restore it.

    >>> import gc
    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    with _lock:
        paused_here = gc.isenabled()
        if paused_here:
            gc.disable()
    try:
        yield
    finally:
        if paused_here:
            gc.enable()
