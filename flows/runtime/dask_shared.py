"""What Dask workers share through the scheduler: each provider's call windows and the
warehouse's writer lock.

Call windows: each worker process extracts with a budget of its own (extract/ratelimit.py);
alone, N workers would each send a full window's calls. The scheduler holds one semaphore per
account and window, of the window's size: a call takes a lease before it is sent and gives it
back a window after its answer, so every call of every worker follows the rule one in-process
budget follows. A worker that dies loses its leases after the scheduler's lease timeout
(`distributed.scheduler.locks.lease-timeout`), so its slots are not lost for good.

Prefect's global concurrency limits with slot decay were the other candidate: a slot decays
at a steady rate from the moment it is taken, a token bucket, which admits up to twice the limit
within one sliding window (a full bucket, then its refill) and counts a call from when it is
sent, not from its answer; a provider counting a sliding minute refuses the excess
(docs/performance.md, "Extraction on Dask").

The writer lock: a `distributed.Lock` named after the warehouse, so loads from any worker reach
DuckDB one at a time. Every access to the warehouse of a Dask run happens on a worker (batches,
state commits, a backfill's look at what is finished), so the flow's process needs neither.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import dask
from dask.utils import parse_timedelta
from distributed import Lock, Semaphore

from extract.pipeline import warehouse_id
from extract.settings import Settings

# How many windows a call-window lease outlives its last refresh (SemaphoreSlots).
LEASE_WINDOWS = 2
# How long the writer lock outlives its holder's last refresh: a load may starve the holder's
# event loop for a while; a holder that died blocks the others this long.
WRITER_LEASE_SECONDS = 120


def _lease_timeout(seconds: float) -> dict:
    """dask config giving semaphores made and registered under it this lease timeout (at least
    distributed's default)."""
    default = parse_timedelta(dask.config.get("distributed.scheduler.locks.lease-timeout"), default="s")
    return {"distributed.scheduler.locks.lease-timeout": f"{max(default, seconds)}s"}


class SemaphoreSlots:
    """`limit` slots of the scheduler's semaphore `name`, each held a window (`seconds`) after its
    call's answer, given back on a timer: a single thread releases the leases whose time has come,
    so a window's worth of calls costs no thread each.

    The scheduler frees a lease its holder has not refreshed for the lease timeout (a worker
    that died, or one whose event loop a GIL-holding task starved: distributed warns that this
    overbooks a semaphore). A slot is held longer than a window, so the lease timeout of these
    semaphores is LEASE_WINDOWS windows (at least distributed's default): a stall shorter than
    that cannot free a slot early."""

    def __init__(self, name: str, limit: int, seconds: float) -> None:
        # The lease timeout is read when the semaphore is made (its refresh period) and registered.
        with dask.config.set(_lease_timeout(LEASE_WINDOWS * seconds)):
            self.semaphore = Semaphore(max_leases=limit, name=name)
            self.semaphore.register()
        self._due: list[float] = []
        self._changed = threading.Condition()
        self._releaser: threading.Thread | None = None

    def acquire(self) -> None:
        self.semaphore.acquire()

    def release_after(self, seconds: float) -> None:
        with self._changed:
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


_SLOTS: dict[tuple[str, int], SemaphoreSlots] = {}
_CACHE_LOCK = threading.Lock()


def shared_slots(name: str, limit: int, seconds: float) -> SemaphoreSlots:
    """This process's slots of semaphore `name`: one instance for every budget of the process,
    so a worker running task after task holds one lease-keeping semaphore per window, not one
    per task."""
    with _CACHE_LOCK:
        slots = _SLOTS.get((name, limit))
        if slots is None:
            slots = _SLOTS[(name, limit)] = SemaphoreSlots(name, limit, seconds)
        return slots


_LOCKS: dict[str, Lock] = {}


def writer_lock(settings: Settings) -> Callable[[], AbstractContextManager]:
    """The warehouse's writer lock across every worker (for a task on a worker). One instance
    per process: each keeps a lease-refreshing callback on the worker's event loop. Its lease
    outlives a stalled holder WRITER_LEASE_SECONDS (should it expire anyway, DuckDB refuses the
    second writer and that task fails and is retried: nothing is written twice)."""
    name = f"market-elt:writer:{warehouse_id(settings)}"
    with _CACHE_LOCK:
        lock = _LOCKS.get(name)
        if lock is None:
            with dask.config.set(_lease_timeout(WRITER_LEASE_SECONDS)):
                lock = _LOCKS[name] = Lock(name)
                lock.register()
    return lambda: lock
