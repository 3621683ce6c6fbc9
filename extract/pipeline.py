"""Run one provider's dlt source into the warehouse's `raw` dataset and report what happened.

Each provider has its own dlt pipeline (and so its own state): one provider's outage or
crash leaves the others' cursors and data untouched. Backfills load in batches of assets,
each batch one dlt load committing its data and its "finished" marks together, so a crash or
Ctrl-C loses at most the batch in flight and a rerun skips what was finished. The batches of
one backfill share one call budget, and a batch is sized from it (`backfill_batch_size`).
"""

from __future__ import annotations

import datetime as dt

import dlt
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from extract.assets import load_assets
from extract.backfill import Backfill
from extract.ratelimit import RateBudget
from extract.registry import provider as provider_spec
from extract.report import ProviderReport
from extract.settings import Settings

RAW_DATASET = "raw"


def destination(settings: Settings):
    """The dlt destination for the configured warehouse (DuckDB file or Postgres via libpq vars)."""
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


def pipeline_for(provider: str, settings: Settings) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=f"market_elt_{provider}",
        pipelines_dir=str(settings.dlt_dir),
        destination=destination(settings),
        dataset_name=RAW_DATASET,
    )


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
    docs/performance.md); on Postgres INSERT statements. Always explicit: dlt keeps the format given to
    a table's earlier runs as a hint, and a row format would turn tables back into rows."""
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


def _run(pipeline: dlt.Pipeline, provider: str, source, report: ProviderReport, settings: Settings) -> None:
    for key, value in DLT_CONFIG.items():  # here, so every caller's run gets them
        dlt.config[key] = value
    append_first_loads(pipeline, source)
    pipeline.run(source, loader_file_format=loader_file_format(settings, provider_spec(provider).arrow))
    normalized = pipeline.last_trace.last_normalize_info
    counts = normalized.row_counts if normalized else {}
    report.rows += sum(n for table, n in counts.items() if not table.startswith("_dlt"))


def extract_provider(
    provider: str, settings: Settings, now: dt.datetime | None = None, assets: list[str] | None = None
) -> ProviderReport:
    """The daily extract of one provider (default: its active assets). Per-asset failures are
    recorded on the report; only a failure to load at all raises."""
    now = now or dt.datetime.now(dt.UTC)
    spec = provider_spec(provider)
    report = ProviderReport(provider)
    pipeline = pipeline_for(provider, settings)
    assets = provider_assets(provider, settings) if assets is None else assets
    budget = spec.budget(settings, now)
    _run(pipeline, provider, spec.source(assets, settings, report, now, None, budget), report, settings)
    report.record_budget(budget.usage())
    report.finished = dt.datetime.now(dt.UTC)
    return report


def finished_assets(pipeline: dlt.Pipeline, provider: str, backfill: Backfill) -> set[str]:
    """Assets a previous (possibly interrupted) run of this backfill finished and loaded."""
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
) -> ProviderReport:
    """Load [start, end] for the given (default: all active) assets, resuming a previous run
    of the same range: finished assets are not fetched again. `limit` caps how many assets
    this invocation takes on (the rest are left for the next one). `batch_size` overrides
    `backfill_batch_size` (assets per dlt load)."""
    now = now or dt.datetime.now(dt.UTC)
    spec = provider_spec(provider)
    report = ProviderReport(provider)
    pipeline = pipeline_for(provider, settings)
    wanted = assets or provider_assets(provider, settings)
    done = finished_assets(pipeline, provider, backfill)
    todo = [asset for asset in wanted if asset not in done][:limit]
    report.skipped = len(wanted) - len(todo)
    budget = spec.budget(settings, now)  # one set of windows across the batches
    calls_per_asset = spec.calls_per_asset(backfill, settings, now)
    batch_size = batch_size or backfill_batch_size(budget, settings.workers, calls_per_asset)
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        _run(pipeline, provider, spec.source(batch, settings, report, now, backfill, budget), report, settings)
        if report.deferred:
            reason = next(iter(report.deferred.values()))
            report.deferred.update({asset: reason for asset in todo[start + batch_size :]})
            break
    report.record_budget(budget.usage())
    report.finished = dt.datetime.now(dt.UTC)
    return report
