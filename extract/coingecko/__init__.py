"""CoinGecko source: the daily `/coins/markets` snapshot, price history and (pro) daily candles.

- `coingecko_markets`: one row per coin and snapshot date (merge: re-running a day replaces it).
- `coingecko_market_chart`: hourly [price, market cap, 24h volume] points per coin, fetched in
  windows from each coin's own cursor (resource state) minus the configured lag, so providers'
  revisions of recent days are picked up. dbt builds approximate daily bars from them.
- `coingecko_ohlc` (pro plan only): true daily candles from `/ohlc/range?interval=daily`.
Public and demo plans see only the last 365 days; a backfill asking for more is clamped.
"""

from __future__ import annotations

import datetime as dt

import dlt

from extract.backfill import Backfill
from extract.coingecko.helpers import candle_rows, chart_rows, chart_windows, market_rows, ohlc_windows
from extract.coingecko.settings import KEY_HEADERS, MARKET_NUMERIC_FIELDS, MARKETS_BATCH, PUBLIC_HISTORY_DAYS
from extract.errors import ProviderError, redact
from extract.fetching import fetch_each
from extract.http import rest_client
from extract.ratelimit import BudgetExhaustedError, RateBudget
from extract.report import ProviderReport
from extract.responses import json_body
from extract.settings import Settings

PROVIDER = "coingecko"
PLAN_ERROR_CODES = (10005, 10012, 10010, 10011)
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


@dlt.source(name="coingecko", max_table_nesting=0)
def coingecko_source(
    coin_ids: list[str],
    settings: Settings,
    report: ProviderReport,
    now: dt.datetime,
    backfill: Backfill | None = None,
    budget: RateBudget | None = None,
):
    plan = settings.coingecko_plan
    headers = {KEY_HEADERS[plan]: settings.coingecko_api_key} if settings.coingecko_api_key and plan != "public" else {}
    client = rest_client(PROVIDER, settings.coingecko_base_url, settings, report, headers=headers, budget=budget)
    secrets = [settings.coingecko_api_key]
    # Public and demo keys see the last 365 days; pro reaches back to 2018.
    reach = now.date() - dt.timedelta(days=PUBLIC_HISTORY_DAYS - 1) if plan != "pro" else dt.date(2018, 2, 9)
    earliest = max(reach, now.date() - dt.timedelta(days=settings.history_days))
    until = backfill.end_time(now) if backfill else now

    def get(path: str, coin_id: str | None, params: dict) -> object:
        return json_body(client.get(path, params=params), PROVIDER, coin_id, PLAN_ERROR_CODES)

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
            except (ProviderError, BudgetExhaustedError) as exc:
                report.fail(f"markets[{batch[0]}..]", redact(str(exc), secrets))
            except Exception as exc:  # noqa: BLE001 - one failed batch must not stop the others
                report.fail(f"markets[{batch[0]}..]", redact(f"{type(exc).__name__}: {exc}", secrets))

    def fetch_chart(coin_id: str, start: dt.date) -> list[dict]:
        rows = []
        for begin, end in chart_windows(start, until):
            params = {"vs_currency": "usd", "from": int(begin.timestamp()), "to": int(end.timestamp())}
            rows.extend(chart_rows(coin_id, get(f"/coins/{coin_id}/market_chart/range", coin_id, params)))
        return rows

    def fetch_candles(coin_id: str, start: dt.date) -> list[dict]:
        rows = []
        for begin, end in ohlc_windows(start, until):
            params = {
                "vs_currency": "usd",
                "from": int(begin.timestamp()),
                "to": int(end.timestamp()),
                "interval": "daily",
            }
            rows.extend(candle_rows(coin_id, get(f"/coins/{coin_id}/ohlc/range", coin_id, params)))
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
        yield from per_coin("coingecko_ohlc", fetch_candles)

    resources = [market_chart] if backfill else [markets, market_chart]
    return [*resources, ohlc] if plan == "pro" else resources
