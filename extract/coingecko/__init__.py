"""CoinGecko source: the daily `/coins/markets` snapshot and hourly price history.

- `coingecko_markets`: one row per coin and snapshot date (merge: re-running a day replaces it).
- `coingecko_market_chart`: hourly [price, market cap, 24h volume] points per coin, fetched in
  windows from each coin's own cursor (resource state) minus the configured lag, so providers'
  revisions of recent days are picked up. Daily bars are built from them in dbt.
"""

from __future__ import annotations

import datetime as dt

import dlt

from extract.coingecko.helpers import chart_rows, chart_windows, market_rows
from extract.coingecko.settings import KEY_HEADERS, MARKET_NUMERIC_FIELDS, MARKETS_BATCH, PUBLIC_HISTORY_DAYS
from extract.errors import ProviderError, redact
from extract.http import rest_client
from extract.report import ProviderReport
from extract.responses import json_body
from extract.settings import Settings

PROVIDER = "coingecko"
PLAN_ERROR_CODES = (10005, 10012, 10010, 10011)
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


@dlt.source(name="coingecko", max_table_nesting=0)
def coingecko_source(coin_ids: list[str], settings: Settings, report: ProviderReport, now: dt.datetime):
    headers = {KEY_HEADERS[settings.coingecko_plan]: settings.coingecko_api_key} if settings.coingecko_api_key else {}
    client = rest_client(settings.coingecko_base_url, report, headers=headers, backoff_factor=settings.backoff_factor)
    secrets = [settings.coingecko_api_key]

    @dlt.resource(
        name="coingecko_markets",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        primary_key=("id", "snapshot_date"),
        columns=MARKET_COLUMNS,
    )
    def markets():
        for start in range(0, len(coin_ids), MARKETS_BATCH):
            batch = coin_ids[start : start + MARKETS_BATCH]
            params = {"vs_currency": "usd", "ids": ",".join(batch), "per_page": MARKETS_BATCH, "page": 1}
            try:
                response = client.get("/coins/markets", params=params)
                yield market_rows(json_body(response, PROVIDER, None, PLAN_ERROR_CODES), now.date())
            except ProviderError as exc:
                report.fail(f"markets[{batch[0]}..]", redact(str(exc), secrets))
            except Exception as exc:  # noqa: BLE001 - one failed batch must not stop the others
                report.fail(f"markets[{batch[0]}..]", redact(f"{type(exc).__name__}: {exc}", secrets))

    @dlt.resource(
        name="coingecko_market_chart",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        primary_key=("coin_id", "ts"),
        merge_key=("coin_id", "point_date"),
        columns=CHART_COLUMNS,
    )
    def market_chart():
        cursors = dlt.current.resource_state().setdefault("complete_through", {})
        earliest = now.date() - dt.timedelta(days=settings.history_days)
        if settings.coingecko_plan != "pro":
            earliest = max(earliest, now.date() - dt.timedelta(days=PUBLIC_HISTORY_DAYS - 1))
        for coin_id in coin_ids:
            cursor = cursors.get(coin_id)
            start = earliest
            if cursor:
                start = max(earliest, dt.date.fromisoformat(cursor) - dt.timedelta(days=settings.lag_days - 1))
            try:
                rows = []
                for begin, end in chart_windows(start, now):
                    params = {"vs_currency": "usd", "from": int(begin.timestamp()), "to": int(end.timestamp())}
                    response = client.get(f"/coins/{coin_id}/market_chart/range", params=params)
                    rows.extend(chart_rows(coin_id, json_body(response, PROVIDER, coin_id, PLAN_ERROR_CODES)))
            except ProviderError as exc:
                report.fail(coin_id, redact(str(exc), secrets))
                continue
            except Exception as exc:  # noqa: BLE001 - one asset's failure never stops the others
                report.fail(coin_id, redact(f"{type(exc).__name__}: {exc}", secrets))
                continue
            yield rows
            cursors[coin_id] = (now.date() - dt.timedelta(days=1)).isoformat()
            report.succeed()

    return markets, market_chart
