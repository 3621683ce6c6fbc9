"""Run one provider's dlt source into the warehouse's `raw` dataset and report what happened.

Each provider has its own dlt pipeline (and so its own state): one provider's outage or
crash leaves the others' cursors and data untouched.
"""

from __future__ import annotations

import datetime as dt
import os

import dlt

from extract.alpha_vantage import alpha_vantage_source
from extract.assets import active_ids, load_assets
from extract.coingecko import coingecko_source
from extract.fear_greed import fear_greed_source
from extract.report import ProviderReport
from extract.settings import Settings

PROVIDERS = ("coingecko", "alpha_vantage", "fear_greed")
RAW_DATASET = "raw"


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
    return dlt.destinations.duckdb(credentials=str(settings.duckdb_path))


def pipeline_for(provider: str, settings: Settings) -> dlt.Pipeline:
    pipelines_dir = settings.pipelines_dir or settings.duckdb_path.parent / "dlt"
    return dlt.pipeline(
        pipeline_name=f"market_elt_{provider}",
        pipelines_dir=str(pipelines_dir),
        destination=destination(settings),
        dataset_name=RAW_DATASET,
    )


def build_source(provider: str, settings: Settings, report: ProviderReport, now: dt.datetime):
    assets = load_assets()
    if provider == "coingecko":
        return coingecko_source(active_ids(assets, provider), settings, report, now)
    if provider == "alpha_vantage":
        return alpha_vantage_source(active_ids(assets, provider), settings, report, now)
    if provider == "fear_greed":
        return fear_greed_source(settings, report, now)
    raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(PROVIDERS)}")


def extract_provider(provider: str, settings: Settings, now: dt.datetime | None = None) -> ProviderReport:
    """Extract and load one provider. Per-asset failures are recorded on the report; only a
    failure to load at all raises."""
    now = now or dt.datetime.now(dt.UTC)
    report = ProviderReport(provider)
    pipeline = pipeline_for(provider, settings)
    pipeline.run(build_source(provider, settings, report, now))
    counts = pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace.last_normalize_info else {}
    report.rows = sum(n for table, n in counts.items() if not table.startswith("_dlt"))
    report.finished = dt.datetime.now(dt.UTC)
    return report
