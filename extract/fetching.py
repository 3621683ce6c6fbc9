"""Fetch many assets concurrently under one provider budget, one asset's failure isolated.

Each asset is fetched whole (all its windows, validated) in a worker thread; results come back
to the caller's thread, which hands them to dlt and moves the asset's cursor, so dlt state is
only touched from the resource's own thread. When the day budget runs out, no new asset
starts: the ones not fetched are reported as deferred and their cursors stay put. A
configuration error (no key, a key of another plan) stops the provider the same way, reported
once instead of once per asset.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from extract.errors import ConfigurationError, ProviderError, redact
from extract.ledger import BudgetExhaustedError
from extract.report import ProviderReport

T = TypeVar("T")


def _progress(description: str, total: int) -> Progress:
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    progress.add_task(description, total=total)
    return progress


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
    progress = _progress(f"{report.provider} {label}".rstrip(), len(pending_assets))
    exhausted: str | None = None  # why no new asset starts (day budget spent, configuration)
    # Twice as many submitted as running: while this thread hands results to dlt (which
    # writes them), the workers start the next ones instead of waiting for it.
    queued = max(1, workers) * 2
    with progress, ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=report.provider) as pool:
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
                progress.advance(0)
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
