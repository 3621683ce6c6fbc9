"""The backfill flow: load a date range for one provider, resumably, then rebuild the marts."""

from __future__ import annotations

import datetime as dt

from prefect import flow, runtime

from extract.backfill import Backfill
from extract.settings import Settings
from flows.fan_out import backfill_in_batches
from flows.runtime.offline import provider_settings
from flows.runtime.summary import RunSummary
from flows.runtime.warehouse_lock import warehouse_lock
from flows.tasks import backfill as backfill_task
from flows.tasks import collect, finish, lake_backfill, run_transform

DAILY = "1Day"


@flow(name="market-elt-backfill", log_prints=True)
def backfill(
    provider: str,
    start: dt.date,
    end: dt.date,
    assets: list[str] | None = None,
    limit: int | None = None,
    offline: bool = False,
    transform: bool = True,
    offline_plans: dict[str, str] | None = None,
    timeframe: str = DAILY,
) -> RunSummary:
    """Backfill [start, end] for `assets` (default: every active asset of the provider).
    Rerunning the same range after a crash or Ctrl-C skips the assets already finished.
    An intraday `timeframe` (Alpaca's `1Min`, `1Hour`) goes to the Parquet lake instead of the
    warehouse (extract/alpaca/intraday.py); dbt then rebuilds the models reading it. On the Dask
    runner a daily backfill's batches are tasks spread over the workers (flows/fan_out.py)."""
    summary, started = RunSummary(), dt.datetime.now(dt.UTC)
    window = Backfill(start, end)
    if timeframe != DAILY and provider != "alpaca":
        raise ValueError(f"backfill --timeframe {timeframe}: only alpaca serves intraday bars to the lake")
    with (
        provider_settings(Settings.from_env(), offline, offline_plans) as settings,
        warehouse_lock(settings, f"flow run {runtime.flow_run.name} (backfill)", settings.lock_timeout, print),
    ):
        if timeframe != DAILY:
            collect(summary, provider, lake_backfill(settings, timeframe, window, assets, limit, return_state=True))
        elif settings.task_runner == "dask":
            backfill_in_batches(settings, provider, window, assets, limit, summary)
        else:
            collect(summary, provider, backfill_task(provider, settings, window, assets, limit, return_state=True))
        if transform:
            # An intraday backfill loads no daily bars: their coverage is not its to report.
            run_transform(settings, summary, [provider] if timeframe == DAILY else [], lake_changed=timeframe != DAILY)
        return finish(settings, summary, "backfill", started)
