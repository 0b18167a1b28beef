"""A keyed, de-duplicating work queue, in the manner of client-go's workqueue.

A key waits in the queue at most once however often it is added; a key being processed is
never handed to a second worker, and if it is added meanwhile it is processed once more right
after. Failed keys come back after a per-key exponential backoff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class WorkQueue(Generic[K]):
    """The queue of keys to reconcile; all methods must be called in the event loop's thread."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[K] = asyncio.Queue()
        self._waiting: set[K] = set()
        self._processing: set[K] = set()
        self._dirty: set[K] = set()
        self._timers: dict[K, asyncio.TimerHandle] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def add(self, key: K) -> None:
        """Queue `key` unless it already waits; if it is being processed, queue it after."""
        if key in self._processing:
            self._dirty.add(key)
        elif key not in self._waiting:
            self._waiting.add(key)
            self._queue.put_nowait(key)

    def add_after(self, key: K, delay: float) -> None:
        """Queue `key` in `delay` seconds; an earlier pending delay for the key wins."""
        loop = asyncio.get_running_loop()
        when = loop.time() + delay
        pending = self._timers.get(key)
        if pending is not None:
            if pending.when() <= when:
                return
            pending.cancel()
        self._timers[key] = loop.call_at(when, self._fire, key)

    def _fire(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    async def get(self) -> K:
        """The next key; the caller must call `done(key)` when finished with it."""
        key = await self._queue.get()
        self._waiting.discard(key)
        self._processing.add(key)
        return key

    def done(self, key: K) -> None:
        """Mark `key` processed; queue it again if it was added while being processed."""
        self._processing.discard(key)
        if key in self._dirty:
            self._dirty.discard(key)
            self.add(key)

    def close(self) -> None:
        """Cancel the delayed additions; queued keys are simply abandoned."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()


class Backoff(Generic[K]):
    """Per-key exponential delays for keys that keep failing; `forget` resets a key."""

    def __init__(self, base: float = 1.0, cap: float = 300.0) -> None:
        self._base = base
        self._cap = cap
        self._failures: dict[K, int] = {}

    def next_delay(self, key: K) -> float:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        return float(min(self._base * 2**failures, self._cap))

    def forget(self, key: K) -> None:
        self._failures.pop(key, None)
