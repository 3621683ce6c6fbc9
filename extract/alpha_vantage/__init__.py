"""Alpha Vantage source: daily equity bars, adjusted (premium) or raw (free fallback).

One row per symbol and date with Alpha Vantage's fields as sent (strings; adjustment happens
in dbt from the dividend and split columns). Each symbol keeps its own cursor; a daily run
asks for `compact` (latest 100 sessions) and keeps only rows from the cursor minus the lag.
"""

from __future__ import annotations

import datetime as dt

import dlt

from extract.alpha_vantage.helpers import daily_rows, is_throttle_body
from extract.alpha_vantage.settings import ADJUSTED_FIELDS, COMPACT_REACH_DAYS, DAILY_FIELDS
from extract.errors import ProviderError, redact
from extract.http import rest_client
from extract.report import ProviderReport
from extract.responses import json_body
from extract.settings import Settings

PROVIDER = "alpha_vantage"
COLUMNS = {name: {"data_type": "text", "nullable": True} for name in {*ADJUSTED_FIELDS, *DAILY_FIELDS}} | {
    "date": {"data_type": "date", "nullable": False},
    "last_refreshed": {"data_type": "text"},
}


@dlt.source(name="alpha_vantage", max_table_nesting=0)
def alpha_vantage_source(symbols: list[str], settings: Settings, report: ProviderReport, now: dt.datetime):
    client = rest_client(
        settings.alpha_vantage_base_url, report, retry_when=is_throttle_body, backoff_factor=settings.backoff_factor
    )
    secrets = [settings.alpha_vantage_api_key]
    function = settings.alpha_vantage_function

    @dlt.resource(
        name="alpha_vantage_daily",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        primary_key=("symbol", "date"),
        columns=COLUMNS,
    )
    def daily():
        cursors = dlt.current.resource_state().setdefault("last_date", {})
        for symbol in symbols:
            cursor = dt.date.fromisoformat(cursors[symbol]) if symbol in cursors else None
            compact = cursor is not None and (now.date() - cursor).days < COMPACT_REACH_DAYS
            params = {
                "function": function,
                "symbol": symbol,
                "outputsize": "compact" if compact else "full",
                "apikey": settings.alpha_vantage_api_key or "demo",
            }
            try:
                response = client.get("/query", params=params)
                rows = daily_rows(json_body(response, PROVIDER, symbol), symbol, function)
            except ProviderError as exc:
                report.fail(symbol, redact(str(exc), secrets))
                continue
            except Exception as exc:  # noqa: BLE001 - one asset's failure never stops the others
                report.fail(symbol, redact(f"{type(exc).__name__}: {exc}", secrets))
                continue
            if cursor is not None:
                rows = [row for row in rows if row["date"] > cursor - dt.timedelta(days=settings.lag_days)]
            yield rows
            if rows:
                cursors[symbol] = max(row["date"] for row in rows).isoformat()
            report.succeed()

    return daily
