"""Extraction fanned out over the configured task runner (flows/runtime/task_runner.py).

Every provider is a task of its own, and they all run at once: on the thread runner in threads
of the flow's process, one dlt pipeline each; on Dask on the cluster's workers, where a provider
serving more than MARKET_ELT_BATCH_ASSETS assets is split into batches, a task each, and a
backfill's batches (sized from the provider's budget) are tasks too. A provider's first batch
runs alone, then its others together, at most as many at a time as the cluster has worker
threads (twice that submitted, so a worker finishing one starts the next at once); once a batch
reports a spent day budget, no batch of that provider starts and the assets left are reported
deferred. The flow merges the batches' reports into one per provider and commits their dlt
state changes (extract/batches.py). A task that failed after its retries is an error of the run
naming the provider and the batch's assets.
"""

from __future__ import annotations

import datetime as dt
import queue
from collections.abc import Callable
from dataclasses import dataclass, field

from prefect import get_run_logger
from prefect.futures import PrefectFuture

from extract.backfill import Backfill
from extract.batches import BatchResult, split
from extract.pipeline import backfill_batch_size, provider_assets
from extract.registry import provider as provider_spec
from extract.report import ProviderReport
from extract.settings import Settings
from flows.runtime import console
from flows.runtime.summary import RunSummary
from flows.runtime.task_runner import task_runner, worker_threads
from flows.tasks import backfill_batch, backfill_finished, collect, commit_batches, extract, extract_batch


def extract_providers(
    settings: Settings, providers: list[str], selected: dict[str, list[str]], summary: RunSummary
) -> None:
    """The daily extraction of `providers` (`selected`: the assets some of them fetch, by
    default all they serve); their reports, or their failures, go to `summary` in order."""
    with task_runner(settings) as runner:
        if settings.task_runner != "dask":
            futures = {
                provider: runner.submit(
                    extract, {"provider": provider, "settings": settings, "assets": selected.get(provider)}
                )
                for provider in providers
            }
            for provider, future in futures.items():
                future.wait()
                collect(summary, provider, future.state)
            return
        now = dt.datetime.now(dt.UTC)
        plans = [
            _Batches(
                provider, split(selected.get(provider) or provider_assets(provider, settings), settings.batch_assets)
            )
            for provider in providers
        ]

        def parameters(plan: _Batches, batch: list[str], part: str) -> dict:
            return {"provider": plan.provider, "settings": settings, "assets": batch, "part": part, "now": now}

        _run(runner, plans, extract_batch, parameters)
        _finish(runner, plans, settings, summary)


def backfill_in_batches(
    settings: Settings,
    provider: str,
    window: Backfill,
    assets: list[str] | None,
    limit: int | None,
    summary: RunSummary,
) -> None:
    """A backfill on the Dask runner: the assets not finished by an earlier run of the job, at
    most `limit`, in batches sized as `backfill_provider` sizes them, a task each; its report,
    or its failures, go to `summary`."""
    now = dt.datetime.now(dt.UTC)
    spec = provider_spec(provider)
    wanted = assets or provider_assets(provider, settings)
    with task_runner(settings) as runner:
        looked = runner.submit(backfill_finished, {"provider": provider, "settings": settings, "window": window})
        looked.wait()
        if not looked.state.is_completed():
            summary.errors.append(f"{provider}: backfill not started: {looked.state.message}")
            return
        done = looked.state.result()
        todo = [asset for asset in wanted if asset not in done][:limit]
        calls_per_asset = spec.calls_per_asset(window, settings, now)
        plan = _Batches(
            provider, split(todo, backfill_batch_size(spec.budget(settings, now), settings.workers, calls_per_asset))
        )
        plan.report.skipped = len(wanted) - len(todo)

        def parameters(plan: _Batches, batch: list[str], part: str) -> dict:
            return {
                "provider": provider,
                "settings": settings,
                "window": window,
                "assets": batch,
                "part": part,
                "now": now,
            }

        _run(runner, [plan], backfill_batch, parameters)
        _finish(runner, [plan], settings, summary)


@dataclass
class _Batches:
    """One provider's batches and what became of them."""

    provider: str
    batches: list[list[str]]
    report: ProviderReport = field(init=False)
    changes: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    submitted: int = 0
    finished: int = 0
    succeeded: int = 0
    # Why no further batch starts (a spent day budget, a configuration error).
    stopped: str | None = None

    def __post_init__(self) -> None:
        self.report = ProviderReport(self.provider)

    def ready(self) -> bool:
        """The next batch may start: none left running alone first, none stopped."""
        if self.stopped is not None or self.submitted == len(self.batches):
            return False
        return self.submitted == 0 or self.finished > 0

    def part(self) -> str:
        return f"{self.submitted + 1}of{len(self.batches)}"

    def done(self, batch: list[str], result: BatchResult | None, failure: str | None) -> None:
        self.finished += 1
        if result is None:
            self.errors.append(f"{self.provider}: extract failed ({len(batch)} assets from {batch[0]}): {failure}")
            return
        self.succeeded += 1
        self.report.absorb(result.report)
        self.changes.append(result.changes)
        if result.report.deferred or result.report.blocked:
            self.stopped = next(iter(result.report.deferred.values()), "not fetched: configuration error")


def _run(runner, plans: list[_Batches], task, parameters: Callable[[_Batches, list[str], str], dict]) -> None:
    """Submit the plans' batches as they become ready, keeping at most twice the cluster's
    worker threads submitted, until every batch has finished or its provider stopped."""
    finished: queue.SimpleQueue = queue.SimpleQueue()
    running: dict[PrefectFuture, tuple[_Batches, list[str]]] = {}
    while True:
        room = 2 * worker_threads(runner) - len(running)
        for plan in plans:
            while room > 0 and plan.ready():
                batch = plan.batches[plan.submitted]
                future = runner.submit(task, parameters(plan, batch, plan.part()))
                plan.submitted += 1
                running[future] = (plan, batch)
                future.add_done_callback(finished.put)
                room -= 1
        if not running:
            return
        future = finished.get()
        plan, batch = running.pop(future)
        future.wait()
        state = future.state
        plan.done(batch, state.result() if state.is_completed() else None, state.message)


def _finish(runner, plans: list[_Batches], settings: Settings, summary: RunSummary) -> None:
    """Commit each provider's merged state changes (tasks on the workers, which hold the
    warehouse's writer lock); its report and errors to the summary, the assets of batches never
    started reported deferred."""
    # A batch commits the state it restored plus its own changes: with one batch that changed
    # anything, the state committed last is already whole.
    commits = {
        plan.provider: runner.submit(
            commit_batches, {"provider": plan.provider, "settings": settings, "changes": plan.changes}
        )
        for plan in plans
        if sum(1 for change in plan.changes if change) > 1
    }
    for plan in plans:
        for batch in plan.batches[plan.submitted :]:
            for asset in batch:
                plan.report.defer(asset, plan.stopped or "not started")
        if plan.provider in commits:
            commits[plan.provider].wait()
            state = commits[plan.provider].state
            if not state.is_completed():  # the next run fetches those assets again
                plan.errors.append(f"{plan.provider}: state of the batches not committed: {state.message}")
        if plan.succeeded or not plan.batches:
            plan.report.finished = plan.report.finished or dt.datetime.now(dt.UTC)
            summary.providers.append(plan.report)
            get_run_logger().info(plan.report.summary_line())
            console.step(plan.report.summary_line().splitlines()[0])
        summary.errors.extend(plan.errors)
