"""Run one provider's dlt source into the warehouse's `raw` dataset and report what happened.

Each provider has its own dlt pipeline (and so its own state): one provider's outage or
crash leaves the others' cursors and data untouched. Backfills load in batches of assets,
each batch one dlt load committing its data and its "finished" marks together, so a crash or
Ctrl-C loses at most the batch in flight and a rerun skips what was finished. The batches of
one backfill share one call budget, and a batch is sized from it (`backfill_batch_size`).
"""

from __future__ import annotations

import datetime as dt
import os

import dlt
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from extract.alpha_vantage import alpha_vantage_source
from extract.assets import active_ids, load_assets
from extract.backfill import Backfill
from extract.coingecko import coingecko_source
from extract.coingecko.helpers import chart_windows
from extract.fear_greed import ASSET as FEAR_GREED_ASSET
from extract.fear_greed import fear_greed_source
from extract.http import provider_budget
from extract.ratelimit import RateBudget
from extract.report import ProviderReport
from extract.settings import Settings

PROVIDERS = ("coingecko", "alpha_vantage", "fear_greed")
RAW_DATASET = "raw"
# The resource whose state remembers which assets a backfill finished.
BACKFILL_RESOURCE = {
    "coingecko": "coingecko_market_chart",
    "alpha_vantage": "alpha_vantage_daily",
    "fear_greed": "fear_greed_index",
}


def destination(settings: Settings):
    """The dlt destination for the configured warehouse (DuckDB file or Postgres via libpq vars)."""
    if settings.destination == "postgres":
        return dlt.destinations.postgres(
            credentials={
                "host": os.environ.get("PGHOST", "localhost"),
                "port": int(os.environ.get("PGPORT", "5432")),
                "username": os.environ.get("PGUSER", "postgres"),
                # dlt requires a password even where the server trusts the connection.
                "password": os.environ.get("PGPASSWORD") or "unused",
                "database": os.environ.get("PGDATABASE", "postgres"),
            }
        )
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    # Rows reach `raw` in no particular order anyway (the fetching threads finish in any
    # order); keeping the load files' order cost DuckDB 20-30% of a large load's insert
    # (docs/performance.md, "Load").
    credentials = DuckDbCredentials(str(settings.duckdb_path), global_config={"preserve_insertion_order": False})
    return dlt.destinations.duckdb(credentials=credentials)


def pipeline_for(provider: str, settings: Settings) -> dlt.Pipeline:
    pipelines_dir = settings.pipelines_dir or settings.duckdb_path.parent / "dlt"
    return dlt.pipeline(
        pipeline_name=f"market_elt_{provider}",
        pipelines_dir=str(pipelines_dir),
        destination=destination(settings),
        dataset_name=RAW_DATASET,
    )


def provider_assets(provider: str) -> list[str]:
    """The active assets a provider serves, by the provider's own ids."""
    if provider == "fear_greed":
        return [FEAR_GREED_ASSET]
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(PROVIDERS)}")
    return active_ids(load_assets(), provider)


def build_source(
    provider: str,
    assets: list[str],
    settings: Settings,
    report: ProviderReport,
    now: dt.datetime,
    backfill: Backfill | None = None,
    budget: RateBudget | None = None,
):
    """The provider's dlt source; `budget` shares one call budget between sources (default: its own)."""
    if provider == "coingecko":
        return coingecko_source(assets, settings, report, now, backfill, budget=budget)
    if provider == "alpha_vantage":
        return alpha_vantage_source(assets, settings, report, now, backfill, budget=budget)
    return fear_greed_source(settings, report, now, backfill, budget=budget)


# Providers whose resources yield Arrow tables.
ARROW_PROVIDERS = ("alpha_vantage",)
DLT_CONFIG = {
    # Arrow tables carry the same dlt columns as dict rows; dlt adds neither to Arrow by default.
    # `_dlt_load_id` (what staging reads as `load_id`) is added by dlt while extracting; the
    # sources add `_dlt_id` (NOT NULL in existing tables) themselves, so normalize can take the
    # extracted parquet files as they are instead of rewriting them.
    "normalize.parquet_normalizer.add_dlt_load_id": True,
    # Load files are read once, locally: gzip took 90% of normalize for Postgres' CSV.
    "normalize.data_writer.disable_compression": True,
    # Parquet pages uncompressed, for the same reason: snappy was a third of the extract's
    # parquet writing, for files DuckDB reads once from local disk and dlt then deletes.
    "data_writer.compression": "none",
    # Once loaded, the files are a copy of what the warehouse holds (480 MB for 2,000 full histories).
    "load.delete_completed_jobs": True,
}


def loader_file_format(settings: Settings, provider: str | None = None) -> str:
    """Arrow tables go to the warehouse in a format it bulk-reads, written by dlt straight from
    the tables: parquet on DuckDB, CSV for COPY on Postgres. Dict rows on DuckDB: dlt's JSONL
    files, read by DuckDB's own reader (~1.8x faster end to end than the default INSERT
    statements); on Postgres INSERT statements. Always explicit: dlt keeps the format given to
    a table's earlier runs as a hint, and a row format would turn tables back into rows."""
    if provider in ARROW_PROVIDERS:
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
    pipeline.run(source, loader_file_format=loader_file_format(settings, provider))
    normalized = pipeline.last_trace.last_normalize_info
    counts = normalized.row_counts if normalized else {}
    report.rows += sum(n for table, n in counts.items() if not table.startswith("_dlt"))


def extract_provider(
    provider: str, settings: Settings, now: dt.datetime | None = None, assets: list[str] | None = None
) -> ProviderReport:
    """The daily extract of one provider (default: its active assets). Per-asset failures are
    recorded on the report; only a failure to load at all raises."""
    now = now or dt.datetime.now(dt.UTC)
    report = ProviderReport(provider)
    pipeline = pipeline_for(provider, settings)
    assets = provider_assets(provider) if assets is None else assets
    _run(pipeline, provider, build_source(provider, assets, settings, report, now), report, settings)
    report.finished = dt.datetime.now(dt.UTC)
    return report


def finished_assets(pipeline: dlt.Pipeline, provider: str, backfill: Backfill) -> set[str]:
    """Assets a previous (possibly interrupted) run of this backfill finished and loaded."""
    pipeline.sync_destination()
    resources = pipeline.state.get("sources", {}).get(provider, {}).get("resources", {})
    return set(resources.get(BACKFILL_RESOURCE[provider], {}).get("backfills", {}).get(backfill.job_id, []))


# A backfill batch is one dlt run (extract, normalize, load), and no call is made while it
# normalizes and loads: batches worth about this many seconds of the provider's calls keep the
# runs to a few per minute, so the budget sets the pace, and a crash loses at most that much.
BATCH_BUDGET_SECONDS = 15.0
MAX_BATCH_ASSETS = 1000


def calls_per_asset(provider: str, backfill: Backfill, now: dt.datetime) -> int:
    """Calls one asset of a backfill takes: CoinGecko's hourly chart comes in windows of a few
    months (at most this many: a public key's range is clamped); the others take one."""
    if provider == "coingecko":
        return max(1, sum(1 for _ in chart_windows(backfill.start, backfill.end_time(now))))
    return 1


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
    report = ProviderReport(provider)
    pipeline = pipeline_for(provider, settings)
    wanted = assets or provider_assets(provider)
    done = finished_assets(pipeline, provider, backfill)
    todo = [asset for asset in wanted if asset not in done][:limit]
    report.skipped = len(wanted) - len(todo)
    budget = provider_budget(provider, settings)  # one window and day count across the batches
    batch_size = batch_size or backfill_batch_size(budget, settings.workers, calls_per_asset(provider, backfill, now))
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        source = build_source(provider, batch, settings, report, now, backfill, budget=budget)
        _run(pipeline, provider, source, report, settings)
        if report.deferred:
            report.deferred.update({asset: "day budget exhausted" for asset in todo[start + batch_size :]})
            break
    report.finished = dt.datetime.now(dt.UTC)
    return report
