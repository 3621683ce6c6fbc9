"""Fetch many assets concurrently under one provider budget, one asset's failure isolated.

Each asset is fetched whole (all its windows, validated) in a worker thread; results come back
to the caller's thread, which hands them to dlt and moves the asset's cursor, so dlt state is
only touched from the resource's own thread. When the day budget runs out, no new asset
starts: the ones not fetched are reported as deferred and their cursors stay put. A
configuration error (no key, a key of another plan) stops the provider the same way, reported
once instead of once per asset.

Providers fetching at the same time in one process share one progress display (a terminal
holds one live display); a Dask worker draws none (its terminal, if any, is not the user's).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from extract.errors import ConfigurationError, ProviderError, redact
from extract.ledger import BudgetExhaustedError
from extract.report import ProviderReport

T = TypeVar("T")


def _in_dask_worker() -> bool:
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return False
    try:
        distributed.get_worker()
    except ValueError:
        return False
    return True


class _SharedProgress:
    """One live progress display for every fetch_each running in this process: a bar each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._bars = 0

    @contextlib.contextmanager
    def bar(self, description: str, total: int) -> Iterator[Callable[[], None]]:
        """A bar for the block; yields the function that advances it by one."""
        with self._lock:
            if self._progress is None:
                self._progress = Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeRemainingColumn(),
                    transient=True,
                    disable=not sys.stderr.isatty() or _in_dask_worker(),
                )
                self._progress.start()
            progress = self._progress
            task = progress.add_task(description, total=total)
            self._bars += 1
        try:
            yield lambda: progress.advance(task)
        finally:
            with self._lock:
                progress.remove_task(task)
                self._bars -= 1
                if self._bars == 0:
                    progress.stop()
                    self._progress = None


_PROGRESS = _SharedProgress()


def fetch_each(
    assets: Iterable[str],
    fetch: Callable[[str], T],
    report: ProviderReport,
    workers: int,
    secrets: list[str | None],
    label: str = "",
) -> Iterator[tuple[str, T]]:
    """Yield (asset, result) as fetches complete; failures and deferrals go to the report.
    `label` says what is fetched on the progress bar when a provider fetches in several passes."""
    pending_assets = list(assets)
    bar = _PROGRESS.bar(f"{report.provider} {label}".rstrip(), len(pending_assets))
    exhausted: str | None = None  # why no new asset starts (day budget spent, configuration)
    # Twice as many submitted as running: while this thread hands results to dlt (which
    # writes them), the workers start the next ones instead of waiting for it.
    queued = max(1, workers) * 2
    with bar as advance, ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=report.provider) as pool:
        running: dict[Future, str] = {}
        queue = iter(pending_assets)
        while True:
            if report.blocked:
                exhausted = exhausted or "not fetched: configuration error"
            while exhausted is None and len(running) < queued:
                asset = next(queue, None)
                if asset is None:
                    break
                running[pool.submit(fetch, asset)] = asset
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                asset = running.pop(future)
                advance()
                try:
                    result = future.result()
                except BudgetExhaustedError as exc:
                    reason = redact(str(exc), secrets)
                    exhausted = exhausted or reason
                    report.defer(asset, reason)
                except ConfigurationError as exc:
                    exhausted = "not fetched: configuration error"
                    report.block(ConfigurationError(exc.provider, None, redact(exc.reason, secrets)), [asset])
                except ProviderError as exc:
                    report.fail(asset, redact(str(exc), secrets))
                except Exception as exc:  # noqa: BLE001 - one asset's failure never stops the others
                    report.fail(asset, redact(f"{type(exc).__name__}: {exc}", secrets))
                else:
                    yield asset, result
        for asset in queue:
            report.defer(asset, exhausted or "not started")
