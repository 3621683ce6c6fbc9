"""The daily flow: extract every provider, then dbt seed + run, then dbt test.

One provider's failure (or one asset's) does not stop the others or the transform: dbt
still builds from what is in raw. The flow run fails at the end, with the summary, when
anything failed, so schedulers and the CLI see a non-zero outcome.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger, runtime

from extract.calendars import NEW_YORK, is_nyse_session, nyse_holidays
from extract.registry import PROVIDERS
from extract.settings import Settings
from flows.runtime.offline import provider_settings
from flows.runtime.summary import RunSummary
from flows.runtime.warehouse_lock import warehouse_lock
from flows.tasks import collect, extract, finish, run_transform

NYSE_PROVIDERS = ("alpha_vantage",)


@flow(name="market-elt-daily", log_prints=True)
def daily(
    offline: bool = False,
    providers: list[str] | None = None,
    transform: bool = True,
    skip_closed_nyse_days: bool = False,
    as_of: dt.date | None = None,
    offline_plans: dict[str, str] | None = None,
) -> RunSummary:
    """Extract -> dbt seed/run/test -> publish. `offline` serves every provider from the
    emulator, playing `offline_plans` (e.g. {"alpha_vantage": "premium", "coingecko": "demo"}).
    With `skip_closed_nyse_days` (the equities schedule), equity providers are skipped when New
    York's `as_of` day (default: today) is not an NYSE session, and a run left with nothing to
    do ends cleanly without touching the warehouse."""
    summary, started = RunSummary(), dt.datetime.now(dt.UTC)
    providers = list(PROVIDERS if providers is None else providers)
    day = as_of or dt.datetime.now(NEW_YORK).date()
    if skip_closed_nyse_days and not is_nyse_session(day):
        closed = nyse_holidays(day.year, day.year).get(day, "weekend")
        skipped = [p for p in providers if p in NYSE_PROVIDERS]
        providers = [p for p in providers if p not in NYSE_PROVIDERS]
        get_run_logger().info(f"NYSE closed on {day} ({closed}): skipping {', '.join(skipped) or 'nothing'}")
        if not providers:
            return summary
    with (
        provider_settings(Settings.from_env(), offline, offline_plans) as settings,
        warehouse_lock(settings, f"flow run {runtime.flow_run.name} (daily)", settings.lock_timeout, print),
    ):
        for provider in providers:
            collect(summary, provider, extract(provider, settings, return_state=True))
        if transform:
            run_transform(settings, summary, providers or None)
        return finish(settings, summary, "daily", started)
