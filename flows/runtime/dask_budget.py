"""A provider's call windows shared by every Dask worker: one `distributed.Semaphore` per window.

Each worker process extracts with a budget of its own (extract/ratelimit.py); alone, N workers
would each send a full window's calls. The scheduler holds one semaphore per account and window,
of the window's size: a call takes a lease before it is sent and gives it back a window after
its answer, so every call of every worker follows the rule one in-process budget follows. A
worker that dies loses its leases after the scheduler's lease timeout
(`distributed.scheduler.locks.lease-timeout`), so its slots are not lost for good.
"""

from __future__ import annotations

import heapq
import threading
import time

from distributed import Semaphore


class SemaphoreSlots:
    """`limit` slots of the scheduler's semaphore `name`, given back on a timer: a single thread
    releases the leases whose time has come, so a window's worth of calls costs no thread each."""

    def __init__(self, name: str, limit: int) -> None:
        self.semaphore = Semaphore(max_leases=limit, name=name)
        self._due: list[float] = []
        self._held = 0
        self._changed = threading.Condition()
        self._releaser: threading.Thread | None = None

    def acquire(self) -> None:
        self.semaphore.acquire()
        with self._changed:
            self._held += 1

    def release_after(self, seconds: float) -> None:
        with self._changed:
            if self._held == 0:  # taken from the pool of limits since replaced (a plan learned)
                return
            self._held -= 1
            heapq.heappush(self._due, time.monotonic() + seconds)
            if self._releaser is None:
                self._releaser = threading.Thread(target=self._release_due, name=f"release {self.semaphore.name}")
                self._releaser.daemon = True
                self._releaser.start()
            self._changed.notify()

    def _release_due(self) -> None:
        while True:
            with self._changed:
                while not self._due or self._due[0] > time.monotonic():
                    self._changed.wait(timeout=self._due[0] - time.monotonic() if self._due else None)
                heapq.heappop(self._due)
            self.semaphore.release()
