"""CoinGecko source: the daily `/coins/markets` snapshot, price history and (pro) true candles.

- `coingecko_markets`: one row per coin and snapshot date (merge: re-running a day replaces it).
- `coingecko_market_chart`: hourly [price, market cap, 24h volume] points per coin, fetched in
  windows from each coin's own cursor (resource state) minus the configured lag, so providers'
  revisions of recent days are picked up. dbt builds approximate daily bars from them.
- `coingecko_ohlc` (plans with candles: Analyst and above, `pro`): true daily candles from
  `/ohlc/range?interval=daily`; a candle still open (its close time after now) is not a bar.
- `coingecko_ohlc_hourly` (the same plans): true hourly candles from `/ohlc/range?interval=hourly`
  in windows of 31 days, one row per coin and hour (`candle_hour` its start, UTC); the running
  hour is not a bar. Both candle resources fetch like the chart: per-coin cursors, lag, backfills.
Each plan reaches back as far as it is sold (settings.py); a backfill asking for more is clamped.
A key refused for its host or plan stops the provider with one error naming the setting; an
endpoint the plan does not serve (10005 for candles) stops both candle resources asking, with
one warning: daily bars then come from the hourly points.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import dlt

from extract.backfill import Backfill
from extract.coingecko.helpers import (
    candle_rows,
    chart_rows,
    chart_windows,
    hourly_candle_rows,
    market_rows,
    ohlc_windows,
)
from extract.coingecko.settings import (
    DEMO_KEY_ON_PRO_HOST,
    HISTORY_RANGE,
    HOURLY_SINCE,
    KEY_SETTING,
    MARKET_NUMERIC_FIELDS,
    MARKETS_BATCH,
    MISSING_KEY,
    OHLC_HOURLY_WINDOW_DAYS,
    OHLC_WINDOW_DAYS,
    PLAN_RESTRICTED,
    PLAN_SETTING,
    PLANS,
    PRO_KEY_ON_PUBLIC_HOST,
    Plan,
    plan_limits,
)
from extract.errors import ConfigurationError, PlanError, ProviderError, redact
from extract.fetching import fetch_each
from extract.http import provider_budget, rest_client
from extract.ledger import BudgetExhaustedError
from extract.provider import Provider
from extract.ratelimit import RateBudget
from extract.report import ProviderReport
from extract.responses import json_body
from extract.settings import Settings

if TYPE_CHECKING:
    from extract.assets import Asset

PROVIDER = "coingecko"
MERGE = {"disposition": "merge", "strategy": "delete-insert"}
MARKET_COLUMNS = {name: {"data_type": "double", "nullable": True} for name in MARKET_NUMERIC_FIELDS} | {
    "market_cap_rank": {"data_type": "bigint", "nullable": True},
    "roi": {"data_type": "json", "nullable": True},
    "snapshot_date": {"data_type": "date", "nullable": False},
}
CHART_COLUMNS = {
    "ts": {"data_type": "bigint", "nullable": False},
    "point_date": {"data_type": "date", "nullable": False},
    "price": {"data_type": "double"},
    "market_cap": {"data_type": "double", "nullable": True},
    "total_volume": {"data_type": "double", "nullable": True},
}
OHLC_COLUMNS = {
    "ts": {"data_type": "bigint", "nullable": False},
    "candle_date": {"data_type": "date", "nullable": False},
    **{name: {"data_type": "double", "nullable": False} for name in ("open", "high", "low", "close")},
}
OHLC_HOURLY_COLUMNS = {
    "ts": {"data_type": "bigint", "nullable": False},
    "candle_hour": {"data_type": "timestamp", "nullable": False},
    "candle_date": {"data_type": "date", "nullable": False},
    **{name: {"data_type": "double", "nullable": False} for name in ("open", "high", "low", "close")},
}
# `/ohlc/range` intervals: (days per request, rows of a payload).
CANDLE_INTERVALS = {
    "daily": (OHLC_WINDOW_DAYS, candle_rows),
    "hourly": (OHLC_HOURLY_WINDOW_DAYS, hourly_candle_rows),
}


@dlt.source(name="coingecko", max_table_nesting=0)
def coingecko_source(
    coin_ids: list[str],
    settings: Settings,
    report: ProviderReport,
    now: dt.datetime,
    backfill: Backfill | None = None,
    budget: RateBudget | None = None,
):
    plan = PLANS[settings.coingecko_plan]
    budget = budget or run_budget(settings, now)
    headers = {plan.key_header: settings.coingecko_api_key} if plan.key_header and settings.coingecko_api_key else {}
    client = rest_client(PROVIDER, base_url(settings), settings, report, headers=headers, budget=budget)
    secrets = [settings.coingecko_api_key]
    report.plan = plan.name
    if settings.coingecko_plan_note:
        report.warn(settings.coingecko_plan_note)
    reach = history_reach(plan, now)
    earliest = max(reach, now.date() - dt.timedelta(days=settings.history_days))
    until = backfill.end_time(now) if backfill else now
    candles_served = [plan.candles]  # set to False by the first 10005 for candles, daily or hourly

    def get(path: str, coin_id: str | None, params: dict) -> object:
        return json_body(client.get(path, params=params), PROVIDER, coin_id, lambda *e: coingecko_error(*e, coin_id))

    def first_day(cursors: dict, coin_id: str) -> dt.date:
        """Backfill: its own start (clamped to the plan's reach); daily: cursor minus lag."""
        if backfill:
            return max(backfill.start, reach)
        cursor = cursors.get(coin_id)
        if cursor is None:
            return earliest
        return max(earliest, dt.date.fromisoformat(cursor) - dt.timedelta(days=settings.lag_days - 1))

    def per_coin(resource: str, fetch):
        """Fetch every coin (skipping those a resumed backfill finished), move cursors."""
        state = dlt.current.resource_state()
        cursors = state.setdefault("complete_through", {})
        finished = state.setdefault("backfills", {}).setdefault(backfill.job_id, []) if backfill else []
        todo = [coin_id for coin_id in coin_ids if coin_id not in finished]
        for coin_id, rows in fetch_each(
            todo, lambda c: fetch(c, first_day(cursors, c)), report, settings.workers, secrets
        ):
            yield rows
            if backfill:
                finished.append(coin_id)
            else:
                cursors[coin_id] = (now.date() - dt.timedelta(days=1)).isoformat()
            if resource == "coingecko_market_chart":
                report.succeed()

    @dlt.resource(
        name="coingecko_markets", write_disposition=MERGE, primary_key=("id", "snapshot_date"), columns=MARKET_COLUMNS
    )
    def markets():
        for start in range(0, len(coin_ids), MARKETS_BATCH):
            batch = coin_ids[start : start + MARKETS_BATCH]
            params = {"vs_currency": "usd", "ids": ",".join(batch), "per_page": MARKETS_BATCH, "page": 1}
            try:
                yield market_rows(get("/coins/markets", None, params), now.date())
            except ConfigurationError as exc:
                report.block(ConfigurationError(PROVIDER, None, redact(exc.reason, secrets)), [])
                return
            except BudgetExhaustedError as exc:
                report.defer(f"markets[{batch[0]}..]", str(exc))
                return
            except ProviderError as exc:
                report.fail(f"markets[{batch[0]}..]", redact(str(exc), secrets))
            except Exception as exc:  # noqa: BLE001 - one failed batch must not stop the others
                report.fail(f"markets[{batch[0]}..]", redact(f"{type(exc).__name__}: {exc}", secrets))

    def fetch_chart(coin_id: str, start: dt.date) -> list[dict]:
        rows = []
        for begin, end in chart_windows(start, until):
            params = {"vs_currency": "usd", "from": int(begin.timestamp()), "to": int(end.timestamp())}
            rows.extend(chart_rows(coin_id, get(f"/coins/{coin_id}/market_chart/range", coin_id, params)))
        return rows

    def fetch_candles(coin_id: str, start: dt.date, interval: str) -> list[dict]:
        """One coin's candles of one interval. The first 10005 (daily or hourly) stops both asking."""
        days, parse = CANDLE_INTERVALS[interval]
        rows = []
        for begin, end in ohlc_windows(start, until, days):
            if not candles_served[0]:
                return []
            params = {
                "vs_currency": "usd",
                "from": int(begin.timestamp()),
                "to": int(end.timestamp()),
                "interval": interval,
            }
            try:
                payload = get(f"/coins/{coin_id}/ohlc/range", coin_id, params)
            except PlanError as refused:
                if refused.kind != "endpoint":
                    raise
                candles_served[0] = False
                report.warn(  # the same text from either resource: the report keeps it once
                    f"{PLAN_SETTING}={plan.name}, but the key's plan has no /ohlc/range candles ({refused.reason}): "
                    f"daily bars come from hourly points and no hourly candles are loaded; "
                    f"set {PLAN_SETTING}=basic (or demo) to skip these calls"
                )
                return []
            rows.extend(parse(coin_id, payload, now))
        return rows

    @dlt.resource(
        name="coingecko_market_chart",
        write_disposition=MERGE,
        primary_key=("coin_id", "ts"),
        merge_key=("coin_id", "point_date"),
        columns=CHART_COLUMNS,
    )
    def market_chart():
        yield from per_coin("coingecko_market_chart", fetch_chart)

    @dlt.resource(
        name="coingecko_ohlc", write_disposition=MERGE, primary_key=("coin_id", "candle_date"), columns=OHLC_COLUMNS
    )
    def ohlc():
        yield from per_coin("coingecko_ohlc", lambda coin_id, start: fetch_candles(coin_id, start, "daily"))

    @dlt.resource(
        name="coingecko_ohlc_hourly",
        write_disposition=MERGE,
        primary_key=("coin_id", "ts"),
        merge_key=("coin_id", "candle_date"),
        columns=OHLC_HOURLY_COLUMNS,
    )
    def ohlc_hourly():
        yield from per_coin("coingecko_ohlc_hourly", lambda coin_id, start: fetch_candles(coin_id, start, "hourly"))

    resources = [market_chart] if backfill else [markets, market_chart]
    return [*resources, ohlc, ohlc_hourly] if plan.candles else resources


def coingecko_error(code: int | None, status: int, message: str, coin_id: str | None) -> ProviderError | None:
    """What CoinGecko's error codes mean for the run (settings.py; docs/provider-answers.md)."""
    if code == MISSING_KEY:
        return ConfigurationError(PROVIDER, None, f"{message}: set {KEY_SETTING} and {PLAN_SETTING}")
    if code == PRO_KEY_ON_PUBLIC_HOST:
        return ConfigurationError(
            PROVIDER, None, f"{message}: this is a paid key; set {PLAN_SETTING}=basic or {PLAN_SETTING}=pro"
        )
    if code == DEMO_KEY_ON_PRO_HOST:
        return ConfigurationError(PROVIDER, None, f"{message}: this is a demo key; set {PLAN_SETTING}=demo")
    if code == PLAN_RESTRICTED or status == 402:
        return PlanError(PROVIDER, coin_id, message, kind="endpoint")
    if code == HISTORY_RANGE:
        return PlanError(PROVIDER, coin_id, message, kind="history")
    return None


def history_reach(plan: Plan, now: dt.datetime) -> dt.date:
    """The first day the plan serves: its history window back from today, or HOURLY_SINCE."""
    return now.date() - dt.timedelta(days=plan.history_days - 1) if plan.history_days else HOURLY_SINCE


def base_url(settings: Settings) -> str:
    return settings.coingecko_base_url or PLANS[settings.coingecko_plan].base_url


def run_budget(settings: Settings, now: dt.datetime) -> RateBudget:
    return provider_budget(PROVIDER, settings, now, plan_limits(settings.coingecko_plan), base_url(settings))


def coin_ids(assets: list[Asset]) -> list[str]:
    return [a.coingecko_id for a in assets if a.is_active and a.asset_type == "crypto" and a.coingecko_id]


def calls_per_asset(backfill: Backfill, settings: Settings, now: dt.datetime) -> int:
    """One call per window of the span the plan serves: the hourly chart in windows of a few
    months and, on plans with candles, the daily (180-day) and hourly (31-day) candles too."""
    plan = PLANS[settings.coingecko_plan]
    start, until = max(backfill.start, history_reach(plan, now)), backfill.end_time(now)
    calls = sum(1 for _ in chart_windows(start, until))
    if plan.candles:
        calls += sum(1 for days, _ in CANDLE_INTERVALS.values() for _ in ohlc_windows(start, until, days))
    return max(1, calls)


PROVIDER_SPEC = Provider(
    name=PROVIDER,
    env_prefix="COINGECKO",
    emulator="extract.emulator.coingecko",
    source=coingecko_source,
    asset_ids=coin_ids,
    budget=run_budget,
    raw_tables=("coingecko_market_chart", "coingecko_markets", "coingecko_ohlc", "coingecko_ohlc_hourly"),
    asset_types=("crypto",),
    backfill_resource="coingecko_market_chart",
    secrets=lambda settings: [settings.coingecko_api_key],
    calls_per_asset=calls_per_asset,
)
