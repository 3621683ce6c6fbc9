"""The backfill flow: load a date range for one provider, resumably, then rebuild the marts."""

from __future__ import annotations

import datetime as dt

from prefect import flow, runtime

from extract.backfill import Backfill
from extract.settings import Settings
from flows.runtime.offline import provider_settings
from flows.runtime.summary import RunSummary
from flows.runtime.warehouse_lock import warehouse_lock
from flows.tasks import backfill as backfill_task
from flows.tasks import collect, finish, run_transform


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
) -> RunSummary:
    """Backfill [start, end] for `assets` (default: every active asset of the provider).
    Rerunning the same range after a crash or Ctrl-C skips the assets already finished."""
    summary, started = RunSummary(), dt.datetime.now(dt.UTC)
    window = Backfill(start, end)
    with (
        provider_settings(Settings.from_env(), offline, offline_plans) as settings,
        warehouse_lock(settings, f"flow run {runtime.flow_run.name} (backfill)", settings.lock_timeout, print),
    ):
        state = backfill_task(provider, settings, window, assets, limit, return_state=True)
        collect(summary, provider, state)
        if transform:
            run_transform(settings, summary, [provider])
        return finish(settings, summary, "backfill", started)
