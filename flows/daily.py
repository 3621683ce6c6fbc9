"""The daily flow: extract every provider (all at once: flows/fan_out.py), then dbt seed + run,
then dbt test.

One provider's failure (or one asset's) does not stop the others or the transform: dbt
still builds from what is in raw. The flow run fails at the end, with the summary, when
anything failed, so schedulers and the CLI see a non-zero outcome.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger, runtime

from extract.assets import Asset, load_assets
from extract.calendars import session_closed
from extract.registry import PROVIDERS
from extract.settings import Settings
from flows.fan_out import extract_providers
from flows.runtime.offline import provider_settings
from flows.runtime.summary import RunSummary
from flows.runtime.warehouse_lock import warehouse_lock
from flows.tasks import collect, finish, lake_refresh, run_transform


def closed_session_assets(provider: str, assets: list[Asset], now: dt.datetime) -> tuple[list[str], list[str]]:
    """A provider's active assets on exchanges whose session of today (UTC) has closed by `now`,
    by the provider's ids, and the exchanges left out (no session today, or not closed yet)."""
    spec = PROVIDERS[provider]
    day = now.astimezone(dt.UTC).date()
    served = [a for a in assets if a.is_active and a.asset_type in spec.asset_types]
    exchanges = {a.exchange for a in served}
    closed = {exchange for exchange in exchanges if session_closed(exchange, day, now)}
    return spec.asset_ids([a for a in served if a.exchange in closed]), sorted(exchanges - closed)


@flow(name="market-elt-daily", log_prints=True)
def daily(
    offline: bool = False,
    providers: list[str] | None = None,
    transform: bool = True,
    closed_sessions_only: bool = False,
    now: dt.datetime | None = None,
    offline_plans: dict[str, str] | None = None,
    full_refresh: bool = False,
) -> RunSummary:
    """Extract -> dbt seed/run/test -> publish. `offline` serves every provider from the
    emulator, playing `offline_plans` (e.g. {"alpha_vantage": "premium", "coingecko": "demo"}).
    With `closed_sessions_only` (the equities schedule), an equity provider fetches only the
    assets of exchanges whose session of today has closed by `now` (each on its own calendar:
    on Thanksgiving, London's but not New York's); a provider left with none is skipped
    without a call, and a run left with nothing to do ends without touching the warehouse.
    `full_refresh` rebuilds every model from all of raw instead of what changed."""
    summary, started = RunSummary(), dt.datetime.now(dt.UTC)
    now = now or started
    providers = list(PROVIDERS if providers is None else providers)
    selected: dict[str, list[str]] = {}
    if closed_sessions_only:
        assets = load_assets(Settings.from_env().assets_csv)
        for provider in [p for p in providers if "equity" in PROVIDERS[p].asset_types]:
            ids, waiting = closed_session_assets(provider, assets, now)
            if waiting:
                get_run_logger().info(f"{provider}: no closed session today on {', '.join(waiting)}: not fetched")
            if ids:
                selected[provider] = ids
            else:
                providers.remove(provider)
        if not providers:
            return summary
    with (
        provider_settings(Settings.from_env(), offline, offline_plans) as settings,
        warehouse_lock(settings, f"flow run {runtime.flow_run.name} (daily)", settings.lock_timeout, print),
    ):
        extract_providers(settings, providers, selected, summary)
        lake_written = "alpaca" in providers and bool(settings.lake_timeframes)
        if lake_written:
            for timeframe in settings.lake_timeframes:
                collect(summary, f"alpaca {timeframe}", lake_refresh(settings, timeframe, return_state=True))
        if transform:
            run_transform(settings, summary, providers or None, lake_changed=lake_written, full_refresh=full_refresh)
        return finish(settings, summary, "daily", started)
