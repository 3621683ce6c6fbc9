"""Run one provider's dlt source into the warehouse's `raw` dataset and report what happened.

Each provider has its own dlt pipeline (and so its own state): one provider's outage or
crash leaves the others' cursors and data untouched. Backfills load in batches of assets,
each batch one dlt load committing its data and its "finished" marks together, so a crash or
Ctrl-C loses at most the batch in flight and a rerun skips what was finished. The batches of
one backfill share one call budget, and a batch is sized from it (`backfill_batch_size`).

Providers extract side by side (threads of one process, or Dask workers: `Coordination`): each
run fetches, parses and normalizes on its own, and takes the warehouse's writer lock to touch
the warehouse. DuckDB admits one writing process, so every access to it holds the lock; on
Postgres a load that creates tables or columns does (two creating the same one at once would
fail), and so does a load that merges (its staging tables are shared: `merges`); appends load
in parallel.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import dlt
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from extract.assets import load_assets
from extract.backfill import Backfill
from extract.ratelimit import RateBudget, SharedSlots
from extract.registry import provider as provider_spec
from extract.report import ProviderReport
from extract.settings import Settings

RAW_DATASET = "raw"


def destination(settings: Settings):
    """The dlt destination for the configured warehouse (DuckDB file, Postgres via libpq vars, or
    for Spark, which dlt cannot load, Parquet files under the Spark directory that dbt reads as the
    raw sources: dbt_project/macros/sources/raw_relations.sql)."""
    if settings.destination == "spark":
        return dlt.destinations.filesystem(bucket_url=str(settings.spark_dir))
    if settings.destination == "postgres":
        pg = settings.postgres
        return dlt.destinations.postgres(
            credentials={
                "host": pg.host,
                "port": pg.port,
                "username": pg.user,
                # dlt requires a password even where the server trusts the connection.
                "password": pg.password or "unused",
                "database": pg.dbname,
            }
        )
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    # Rows reach `raw` in no particular order anyway (the fetching threads finish in any
    # order); keeping the load files' order slows DuckDB's insert (docs/performance.md, "Load").
    credentials = DuckDbCredentials(str(settings.duckdb_path), global_config={"preserve_insertion_order": False})
    return dlt.destinations.duckdb(credentials=credentials)


def pipeline_for(provider: str, settings: Settings, working_dir: Path | None = None) -> dlt.Pipeline:
    """The provider's pipeline, working in `working_dir` (default `settings.dlt_dir`). Its state
    and schemas are committed to the warehouse with every load, so a pipeline in a new directory
    (another process or machine) restores them from there before it runs."""
    return dlt.pipeline(
        pipeline_name=f"market_elt_{provider}",
        pipelines_dir=str(working_dir or settings.dlt_dir),
        destination=destination(settings),
        dataset_name=RAW_DATASET,
    )


def warehouse_id(settings: Settings) -> str:
    """Names the warehouse for the locks that serialize its writers."""
    if settings.destination == "postgres":
        pg = settings.postgres
        return f"postgres://{pg.host}:{pg.port}/{pg.dbname}"
    if settings.destination == "spark":
        return f"spark://{settings.spark_dir}"
    return f"duckdb://{settings.duckdb_path}"


_LOCAL_WRITERS: dict[str, threading.Lock] = {}
_LOCAL_WRITERS_LOCK = threading.Lock()


def local_writer(settings: Settings) -> Callable[[], AbstractContextManager]:
    """The warehouse's writer lock among the threads of this process."""
    with _LOCAL_WRITERS_LOCK:
        lock = _LOCAL_WRITERS.setdefault(warehouse_id(settings), threading.Lock())
    return lambda: lock


@dataclass(frozen=True)
class Coordination:
    """What an extraction shares with the ones running beside it. `writer()` holds the
    warehouse's writer lock (default: among this process's threads); `slots(name, limit)`, when
    set, shares each call window with budgets in other processes (extract/ratelimit.py);
    `working_dir` is dlt's working directory (default the persistent `settings.dlt_dir`; a
    fresh one restores the pipeline's state from the warehouse)."""

    writer: Callable[[], AbstractContextManager] | None = None
    slots: Callable[[str, int], SharedSlots] | None = None
    working_dir: Path | None = None

    def writer_for(self, settings: Settings) -> Callable[[], AbstractContextManager]:
        return self.writer or local_writer(settings)

    def budget(self, provider: str, settings: Settings, now: dt.datetime) -> RateBudget:
        """A fresh call budget of the provider, its windows shared when `slots` is set."""
        budget = provider_spec(provider).budget(settings, now)
        if self.slots is not None:
            budget.share(self.slots)
        return budget


def provider_assets(provider: str, settings: Settings | None = None) -> list[str]:
    """The active assets a provider serves, by the provider's own ids (from the universe of
    `settings`' dbt project, default the repository's)."""
    return provider_spec(provider).asset_ids(load_assets(settings.assets_csv) if settings else load_assets())


DLT_CONFIG = {
    # Arrow tables carry the same dlt columns as dict rows; dlt adds neither to Arrow by default.
    # `_dlt_load_id` (what staging reads as `load_id`) is added by dlt while extracting; the
    # sources add `_dlt_id` (NOT NULL in existing tables) themselves, so normalize can take the
    # extracted parquet files as they are instead of rewriting them.
    "normalize.parquet_normalizer.add_dlt_load_id": True,
    # Load files are read once, locally: compressing them only costs normalize time.
    "normalize.data_writer.disable_compression": True,
    # Parquet pages uncompressed, for the same reason: DuckDB reads them once from local disk
    # and dlt then deletes them.
    "data_writer.compression": "none",
    # Once loaded, the files are only a copy of what the warehouse holds.
    "load.delete_completed_jobs": True,
}


def loader_file_format(settings: Settings, arrow: bool = False) -> str:
    """Arrow tables go to the warehouse in a format it bulk-reads, written by dlt straight from
    the tables: parquet on DuckDB, CSV for COPY on Postgres. Dict rows on DuckDB: dlt's JSONL
    files, read by DuckDB's own reader (faster than the default INSERT statements:
    docs/performance.md); on Postgres INSERT statements; Parquet files for Spark. Always explicit:
    dlt keeps the format given to a table's earlier runs as a hint, and a row format would turn
    tables back into rows."""
    if settings.destination == "spark":
        return "parquet"
    if arrow:
        return "parquet" if settings.destination == "duckdb" else "csv"
    return "jsonl" if settings.destination == "duckdb" else "insert_values"


def append_first_loads(pipeline: dlt.Pipeline, source) -> list[str]:
    """Load a merge table whose raw table does not exist yet by appending: there is nothing to
    merge with, so dlt's delete-insert would only copy every row twice (into a staging table,
    then into `raw`). Only for resources that declare their keys unique within a load
    (`deduplicated`), since append skips the merge's dedup too; the next run (a new source)
    merges again. Whenever the check itself fails, the resource keeps merging (always correct).
    Returns the tables appended."""
    unique_merges = {}
    for resource in source.resources.selected.values():
        table = resource.compute_table_schema()
        if table.get("write_disposition") == "merge" and table.get("x-stage-data-deduplicated"):
            unique_merges[table["name"]] = resource
    if not unique_merges:
        return []
    try:
        with pipeline.destination_client() as client:
            absent = [name for name, columns in client.get_storage_tables(list(unique_merges)) if not columns]
    except Exception:  # noqa: BLE001 - an unreachable warehouse fails the run itself, with its own error
        return []
    for name in absent:
        unique_merges[name].apply_hints(write_disposition="append")
    return absent


def changes_storage(pipeline: dlt.Pipeline) -> bool:
    """Whether loading what the pipeline normalized creates the dataset, a table or a column."""
    with contextlib.ExitStack() as stack:
        for name in pipeline.schema_names:
            schema = pipeline.schemas[name]
            client = stack.enter_context(pipeline.destination_client(name))
            if not client.is_storage_initialized():
                return True
            wanted = {table: schema.get_table_columns(table) for table in schema.tables}
            wanted = {table: columns for table, columns in wanted.items() if columns}
            for table, stored in client.get_storage_tables(list(wanted)):
                if not stored or set(wanted[table]) - set(stored):
                    return True
    return False


def merges(source) -> bool:
    """Whether a table of the source loads by merging. dlt's delete-insert copies the rows into
    the staging dataset first (`raw_staging`, one table per raw table, emptied by each load),
    so two loads merging into one table at once (a provider's batches on Dask) would each
    empty the other's staged rows: one batch's rows would be lost without an error."""
    tables = (resource.compute_table_schema() for resource in source.resources.selected.values())
    return any(table.get("write_disposition") == "merge" for table in tables)


def holding_warehouse(
    settings: Settings, writer: Callable[[], AbstractContextManager], exclusive: bool = False
) -> AbstractContextManager:
    """The writer lock where the warehouse needs it: for any access to DuckDB or to Spark's
    files (dlt's filesystem destination keeps no transaction); on Postgres for a load that
    creates a table or a column, or merges (`exclusive`)."""
    return writer() if settings.destination in ("duckdb", "spark") or exclusive else contextlib.nullcontext()


def _run(
    pipeline: dlt.Pipeline,
    provider: str,
    source,
    report: ProviderReport,
    settings: Settings,
    coordination: Coordination | None = None,
    synced: bool = False,
) -> None:
    """dlt's run in its steps: sync the state from the warehouse (unless `synced` already),
    extract, normalize, load; the steps touching the warehouse hold the writer lock
    (`coordination`) as `holding_warehouse` says. Pending packages of an interrupted run of this
    working directory are loaded with the new one, in order."""
    for key, value in DLT_CONFIG.items():  # here, so every caller's run gets them
        dlt.config[key] = value
    writer = (coordination or Coordination()).writer_for(settings)
    with holding_warehouse(settings, writer):
        if not synced:
            pipeline.sync_destination()
        append_first_loads(pipeline, source)
    pipeline.extract(source, loader_file_format=loader_file_format(settings, provider_spec(provider).arrow))
    normalized = pipeline.normalize()
    counts = normalized.row_counts if normalized else {}
    report.rows += sum(n for table, n in counts.items() if not table.startswith("_dlt"))
    exclusive = settings.destination == "postgres" and (merges(source) or changes_storage(pipeline))
    with holding_warehouse(settings, writer, exclusive):
        pipeline.load()


def extract_provider(
    provider: str,
    settings: Settings,
    now: dt.datetime | None = None,
    assets: list[str] | None = None,
    coordination: Coordination | None = None,
) -> ProviderReport:
    """The daily extract of one provider (default: its active assets). Per-asset failures are
    recorded on the report; only a failure to load at all raises."""
    now = now or dt.datetime.now(dt.UTC)
    coordination = coordination or Coordination()
    spec = provider_spec(provider)
    report = ProviderReport(provider)
    pipeline = pipeline_for(provider, settings, coordination.working_dir)
    assets = provider_assets(provider, settings) if assets is None else assets
    budget = coordination.budget(provider, settings, now)
    source = spec.source(assets, settings, report, now, None, budget)
    _run(pipeline, provider, source, report, settings, coordination)
    report.record_budget(budget.usage())
    report.finished = dt.datetime.now(dt.UTC)
    return report


def finished_assets(
    pipeline: dlt.Pipeline,
    provider: str,
    backfill: Backfill,
    settings: Settings,
    writer: Callable[[], AbstractContextManager],
) -> set[str]:
    """Assets a previous (possibly interrupted) run of this backfill finished and loaded (the
    pipeline's state synced from the warehouse)."""
    with holding_warehouse(settings, writer):
        pipeline.sync_destination()
    resources = pipeline.state.get("sources", {}).get(provider, {}).get("resources", {})
    return set(
        resources.get(provider_spec(provider).backfill_resource, {}).get("backfills", {}).get(backfill.job_id, [])
    )


# A backfill batch is one dlt run (extract, normalize, load), and no call is made while it
# normalizes and loads: batches worth about this many seconds of the provider's calls keep the
# runs to a few per minute, so the budget sets the pace, and a crash loses at most that much.
BATCH_BUDGET_SECONDS = 15.0
MAX_BATCH_ASSETS = 1000


def backfill_batch_size(budget: RateBudget, workers: int, calls_per_asset: int = 1) -> int:
    """Assets per backfill batch: the calls the budget allows in BATCH_BUDGET_SECONDS, at least
    enough to keep the workers busy (workers x 2, also the size when the budget is unlimited),
    at most MAX_BATCH_ASSETS."""
    floor = max(1, workers * 2)
    if budget.per_minute is None:
        return floor
    calls = budget.per_minute * BATCH_BUDGET_SECONDS / budget.window
    return max(floor, min(MAX_BATCH_ASSETS, int(calls // max(1, calls_per_asset))))


def backfill_provider(
    provider: str,
    settings: Settings,
    backfill: Backfill,
    assets: list[str] | None = None,
    limit: int | None = None,
    now: dt.datetime | None = None,
    batch_size: int | None = None,
    coordination: Coordination | None = None,
) -> ProviderReport:
    """Load [start, end] for the given (default: all active) assets, resuming a previous run
    of the same range: finished assets are not fetched again. `limit` caps how many assets
    this invocation takes on (the rest are left for the next one). `batch_size` overrides
    `backfill_batch_size` (assets per dlt load)."""
    now = now or dt.datetime.now(dt.UTC)
    coordination = coordination or Coordination()
    spec = provider_spec(provider)
    report = ProviderReport(provider)
    pipeline = pipeline_for(provider, settings, coordination.working_dir)
    wanted = assets or provider_assets(provider, settings)
    done = finished_assets(pipeline, provider, backfill, settings, coordination.writer_for(settings))
    todo = [asset for asset in wanted if asset not in done][:limit]
    report.skipped = len(wanted) - len(todo)
    budget = coordination.budget(provider, settings, now)  # one set of windows across the batches
    calls_per_asset = spec.calls_per_asset(backfill, settings, now)
    batch_size = batch_size or backfill_batch_size(budget, settings.workers, calls_per_asset)
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        source = spec.source(batch, settings, report, now, backfill, budget)
        _run(pipeline, provider, source, report, settings, coordination, synced=True)
        if report.deferred:
            reason = next(iter(report.deferred.values()))
            report.deferred.update({asset: reason for asset in todo[start + batch_size :]})
            break
    report.record_budget(budget.usage())
    report.finished = dt.datetime.now(dt.UTC)
    return report
