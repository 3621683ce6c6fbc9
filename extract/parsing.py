"""Parse large payloads in worker processes, so a load uses more than one core.

Decoding a full history's JSON and converting it to Arrow is Python holding the GIL: with the
HTTP reads and dlt's writer in the same process, a big extract ran on one core whatever the
number of fetch threads. A fetch thread hands the body (bytes) to a small process pool and
waits; the pool sends back the Arrow table (pickled as Arrow buffers) or the error.

The worker runs the same parsing code as in-process, so results and errors are the same:
errors the project raises pickle with provider, asset, reason and field
(`extract.errors.ProviderError.__reduce__`); any other exception that would not survive the
trip comes back as a RuntimeError carrying its type and message. If the pool cannot start or
breaks (a worker killed), the work is done in-process from then on: the load goes on, slower.

Off by default (`Settings.parse_processes = 0`, `MARKET_ELT_PARSE_PROCESSES`): on the 2-core
bench machine it moved ~30 CPU-s of parsing off the fetching process but made a 2,000-asset
load only ~5% faster when idle (one run each) and slower when busy: there is no free core.
Since the typed decoder halved the parse, it is within run-to-run noise (1,000 assets, one run
each: extract 14.8 s with one process, 11.7 s with two, 13.3 s with none; docs/performance.md,
"Load"). Workers are spawned: as with any
multiprocessing, a script that runs an extract must keep its top-level code under
`if __name__ == "__main__":` (the project's entry points do), since each worker imports the
script's module.
"""

from __future__ import annotations

import multiprocessing
import pickle
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")

# Bodies smaller than this are parsed in-process: sending them costs about what parsing does
# (a daily `compact` Alpha Vantage payload is ~35 kB, a full history ~1.2 MB).
MIN_POOL_BYTES = 128 * 1024
# Starting a parsing process costs about a second (importing pyarrow and dlt): worth it for a
# large load, not for a backfill batch of a few assets or a handful of symbols.
MIN_POOL_TASKS = 100


def _call(function: Callable[..., T], args: tuple) -> T:
    try:
        return function(*args)
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # noqa: BLE001 - would break the pool on the way back
            raise RuntimeError(f"{type(exc).__name__}: {exc}") from None
        raise


class ParsePool:
    """`with ParsePool(processes) as pool: pool.run(function, body, ...)` from any thread.

    `run` parses in a worker when the pool has processes and the body is at least
    `MIN_POOL_BYTES` (the first such call starts the pool), otherwise in the calling thread.
    `function` must be importable by name (a module-level function)."""

    def __init__(self, processes: int, tasks: int | None = None) -> None:
        """`tasks`: how many bodies the caller expects to parse; fewer than `MIN_POOL_TASKS`
        are parsed in-process."""
        self.processes = processes if tasks is None or tasks >= MIN_POOL_TASKS else 0
        self._executor: ProcessPoolExecutor | None = None
        self._broken = self.processes < 1
        self._lock = threading.Lock()

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            executor, self._executor, self._broken = self._executor, None, True
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _pool(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._executor is None and not self._broken:
                try:
                    context = multiprocessing.get_context("spawn")
                    self._executor = ProcessPoolExecutor(self.processes, mp_context=context)
                except (OSError, ValueError):
                    self._broken = True
            return None if self._broken else self._executor

    def run(self, function: Callable[..., T], body: bytes, *args) -> T:
        pool = self._pool() if len(body) >= MIN_POOL_BYTES else None
        if pool is not None:
            try:
                future = pool.submit(_call, function, (body, *args))
            except RuntimeError:  # broken, or shut down meanwhile
                future = None
            try:
                if future is not None:
                    return future.result()
            except BrokenProcessPool:
                pass
            with self._lock:
                self._broken = True
        return function(body, *args)
