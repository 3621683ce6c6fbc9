"""Prefect tasks shared by the flows: small, re-runnable steps."""

from __future__ import annotations

import datetime as dt
import json

from prefect import get_run_logger, runtime, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from extract.alpaca import alpaca_symbols
from extract.alpaca.intraday import backfill_lake, refresh_lake
from extract.assets import load_assets
from extract.backfill import Backfill
from extract.batches import BatchResult, commit_changes, fresh_working_dir, run_batch
from extract.pipeline import backfill_provider, extract_provider, finished_assets, pipeline_for
from extract.registry import PROVIDERS
from extract.report import ProviderReport
from extract.settings import Settings
from flows.gate import Verdict, decide
from flows.runtime import console
from flows.runtime.build_scope import build_scope, record_build
from flows.runtime.dbt import DbtSummary, invoke_dbt, parse_project
from flows.runtime.runlog import record_run
from flows.runtime.summary import RunSummary
from flows.runtime.task_runner import coordination
from flows.runtime.warehouse import marts_summary, table_exists


# Inputs hold locks and live connections: nothing here is cacheable.
@task(retries=2, retry_delay_seconds=5, task_run_name="extract-{provider}", cache_policy=NO_CACHE)
def extract(provider: str, settings: Settings, assets: list[str] | None = None) -> ProviderReport:
    """Extract and load one provider (`assets`: these of its ids, default all it serves).
    Retried only when loading itself failed: per-asset failures are already isolated in the
    report, and merges make a retry idempotent."""
    report = extract_provider(provider, settings, assets=assets, coordination=coordination(settings))
    get_run_logger().info(report.summary_line())
    return report


@task(retries=2, retry_delay_seconds=5, task_run_name="extract-{provider}-{part}", cache_policy=NO_CACHE)
def extract_batch(provider: str, settings: Settings, assets: list[str], part: str, now: dt.datetime) -> BatchResult:
    """One batch of a provider's assets, in whichever process or machine runs it
    (extract/batches.py); `part` names it (e.g. `2of5`). Retried like `extract`."""
    result = run_batch(
        provider,
        settings,
        coordination(settings),
        lambda shared: extract_provider(provider, settings, now, assets, coordination=shared),
    )
    get_run_logger().info(result.report.summary_line())
    return result


@task(retries=1, retry_delay_seconds=5, task_run_name="backfill-{provider}-{part}", cache_policy=NO_CACHE)
def backfill_batch(
    provider: str, settings: Settings, window: Backfill, assets: list[str], part: str, now: dt.datetime
) -> BatchResult:
    """One batch of a backfill, one dlt load (extract/batches.py); a retry skips the assets
    it finished."""
    result = run_batch(
        provider,
        settings,
        coordination(settings),
        lambda shared: backfill_provider(
            provider, settings, window, assets=assets, now=now, batch_size=len(assets), coordination=shared
        ),
    )
    get_run_logger().info(result.report.summary_line())
    return result


@task(retries=2, retry_delay_seconds=5, task_run_name="commit-state-{provider}", cache_policy=NO_CACHE)
def commit_batches(provider: str, settings: Settings, changes: list[dict]) -> None:
    """The provider's dlt state with every batch's changes, committed (extract/batches.py)."""
    commit_changes(provider, settings, changes, coordination(settings))


@task(retries=2, retry_delay_seconds=5, task_run_name="backfill-done-{provider}", cache_policy=NO_CACHE)
def backfill_finished(provider: str, settings: Settings, window: Backfill) -> set[str]:
    """The assets earlier runs of this backfill finished, read from the warehouse's state."""
    with fresh_working_dir(provider, coordination(settings)) as shared:
        pipeline = pipeline_for(provider, settings, shared.working_dir)
        return finished_assets(pipeline, provider, window, settings, shared.writer_for(settings))


@task(retries=1, retry_delay_seconds=5, task_run_name="backfill-{provider}", cache_policy=NO_CACHE)
def backfill(
    provider: str, settings: Settings, window: Backfill, assets: list[str] | None, limit: int | None
) -> ProviderReport:
    """Resumable: a retry (or a rerun after a crash) skips the assets already finished."""
    report = backfill_provider(
        provider, settings, window, assets=assets, limit=limit, coordination=coordination(settings)
    )
    get_run_logger().info(report.summary_line())
    return report


@task(task_run_name="lake-backfill-{timeframe}", cache_policy=NO_CACHE)
def lake_backfill(
    settings: Settings, timeframe: str, window: Backfill, symbols: list[str] | None, limit: int | None
) -> ProviderReport:
    """Alpaca's intraday bars into the Parquet lake; resumable like the daily backfill."""
    wanted = symbols or alpaca_symbols(load_assets(settings.assets_csv))
    result = backfill_lake(wanted[:limit] if limit else wanted, settings, timeframe, window)
    get_run_logger().info(f"{result.report.summary_line()} ({result.bars_per_second:,.0f} bars/s)")
    return result.report


@task(task_run_name="lake-refresh-{timeframe}", cache_policy=NO_CACHE)
def lake_refresh(settings: Settings, timeframe: str) -> ProviderReport:
    """The daily run's intraday bars: each Alpaca symbol's lake from its last day on."""
    result = refresh_lake(alpaca_symbols(load_assets(settings.assets_csv)), settings, timeframe)
    get_run_logger().info(result.report.summary_line())
    return result.report


@task(task_run_name="dbt-{label}", cache_policy=NO_CACHE)
def dbt(command: list[str], settings: Settings, label: str, tests_decide: bool = False, manifest=None) -> DbtSummary:
    """One dbt step on the run's parsed `manifest`, passed in `quote()`: Prefect otherwise walks
    every object of a task's arguments looking for futures, and the manifest's thousands of
    nodes and macros cost about a second of each step."""
    summary = invoke_dbt(command, settings, tests_decide=tests_decide, manifest=manifest)
    get_run_logger().info(summary.line())
    console.step(f"dbt {summary.short_line()}")
    return summary


@task(task_run_name="dbt-parse", cache_policy=NO_CACHE)
def parse(settings: Settings):
    """The project parsed once for the run's dbt steps."""
    return parse_project(settings)


@task(task_run_name="gate", cache_policy=NO_CACHE)
def gate(settings: Settings, tests: DbtSummary) -> Verdict:
    """Decide from the tests' stored failures what publishes (flows/gate.py)."""
    verdict = decide(settings, tests.tests)
    for line in verdict.error_lines() + verdict.warning_lines():
        get_run_logger().warning(line)
    return verdict


def collect(summary: RunSummary, provider: str, state) -> None:
    """Add a finished extract task's report, or its crash, to the summary."""
    if state.is_completed():
        summary.providers.append(state.result())
    else:
        summary.errors.append(f"{provider}: extract failed: {state.message}")


def run_transform(
    settings: Settings,
    summary: RunSummary,
    providers: list[str] | None = None,
    lake_changed: bool = False,
    full_refresh: bool = False,
) -> None:
    """Write-audit-publish: dbt builds the marts in the audit schema (seeds and models), dbt
    test checks them, the gate decides what publishes (everything, everything but the
    quarantined assets, or nothing), and publish_marts copies it. Only what changed since the
    last build that published is run (flows/runtime/build_scope.py): the nodes fed by the
    providers loaded since, with their tests, or everything when the dbt project changed.
    A failing build step stops the steps after it, so the published marts stay as they were.
    Source freshness (on dlt's load times) is reported last. `providers`: the run's (default
    every provider); assets without bars and stale sources are reported for these only.
    `lake_changed`: the Parquet lake was written, so its models' tests run too."""
    specs = [PROVIDERS[name] for name in (PROVIDERS if providers is None else providers)]
    scope = build_scope(settings, list(PROVIDERS), full_refresh=full_refresh, lake_changed=lake_changed)
    console.step(f"dbt scope: {scope.describe()}")
    manifest = None
    if not scope.nothing:
        parsed = parse(settings, return_state=True)
        if not parsed.is_completed():
            summary.errors.append(str(parsed.message))
            return
        manifest = parsed.result()
        if not _build_test_publish(settings, summary, scope, manifest, full_refresh):
            return
        record_build(settings, scope)
    summary.marts, problems = marts_summary(settings, {t for spec in specs for t in spec.asset_types})
    summary.errors.extend(problems)
    loaded = [spec.name for spec in specs if table_exists(settings, "raw", spec.raw_tables[0])]
    if not loaded or settings.destination == "spark":  # no source freshness on Spark (README, "Spark")
        return
    selected = [f"source:{name}" for name in loaded]
    command = ["source", "freshness", "--select", *selected]
    freshness = dbt(command, settings, "freshness", manifest=quote(manifest), return_state=True)
    if freshness.is_completed():
        summary.dbt.append(freshness.result())
    else:
        summary.errors.append(str(freshness.message))


def _build_test_publish(settings: Settings, summary: RunSummary, scope, manifest, full_refresh: bool) -> bool:
    """The dbt steps of run_transform; True when the build published (all of it, or all but
    the quarantined assets)."""
    # Spark's tables cannot delete the rows an incremental model recomputes: always rebuilt there.
    refresh = ["--full-refresh"] if full_refresh or settings.destination == "spark" else []
    for label, command in (("seed", scope.seed_args()), ("run", scope.run_args(manifest))):
        if command is None:
            continue
        command = [*command, *refresh] if label == "run" else command
        state = dbt(command, settings, label, manifest=quote(manifest), return_state=True)
        if not state.is_completed():
            summary.errors.append(str(state.message))
            return False
        summary.dbt.append(state.result())
    test_args = scope.test_args(manifest)
    if test_args is None:
        tests = DbtSummary(command="test")
    else:
        tested = dbt(test_args, settings, "test", tests_decide=True, manifest=quote(manifest), return_state=True)
        if not tested.is_completed():
            summary.errors.append(str(tested.message))
            return False
        tests = tested.result()
        summary.dbt.append(tests)
    verdict = gate(settings, tests)
    summary.gate = verdict
    summary.errors.extend(verdict.error_lines())
    summary.warnings.extend(verdict.warning_lines())
    if not verdict.publishes:
        return False
    publish = ["run-operation", "publish_marts", "--args", json.dumps({"quarantined": sorted(verdict.quarantined)})]
    published = dbt(publish, settings, "publish", manifest=quote(manifest), return_state=True)
    if not published.is_completed():
        summary.errors.append(str(published.message))
        return False
    summary.dbt.append(published.result())
    return True


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def log_run(settings: Settings, summary: RunSummary, flow: str, started: dt.datetime) -> None:
    """Append this run's rows to ops.run_log (after the outcome is known, before raising)."""
    record_run(settings, summary, flow, started, runtime.flow_run.id)


def finish(settings: Settings, summary: RunSummary, flow: str, started: dt.datetime) -> RunSummary:
    """Print the summary, write the run log, and fail the flow run if anything failed."""
    print(summary.text())
    state = log_run(settings, summary, flow, started, return_state=True)
    if not state.is_completed():
        summary.errors.append(f"run log not written: {state.message}")
    summary.raise_if_failed()
    return summary
