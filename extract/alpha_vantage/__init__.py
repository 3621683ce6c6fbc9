"""Alpha Vantage source: daily equity bars, adjusted (premium) or raw (free fallback).

One row per symbol and date with Alpha Vantage's fields as sent (strings; adjustment happens
in dbt from the dividend and split columns). Each symbol keeps its own cursor: its first run
and backfills ask for `outputsize=full`; daily runs ask for `compact` (the latest 100
sessions) and keep rows from the cursor minus the lag.
"""

from __future__ import annotations

import datetime as dt

import dlt

from extract.alpha_vantage.helpers import daily_rows, is_throttle_body
from extract.alpha_vantage.settings import ADJUSTED_FIELDS, COMPACT_REACH_DAYS, DAILY_FIELDS
from extract.backfill import Backfill
from extract.fetching import fetch_each
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
def alpha_vantage_source(
    symbols: list[str], settings: Settings, report: ProviderReport, now: dt.datetime, backfill: Backfill | None = None
):
    client = rest_client(PROVIDER, settings.alpha_vantage_base_url, settings, report, retry_when=is_throttle_body)
    secrets = [settings.alpha_vantage_api_key]
    function = settings.alpha_vantage_function

    def fetch(symbol: str, cursor: dt.date | None) -> list[dict]:
        compact = backfill is None and cursor is not None and (now.date() - cursor).days < COMPACT_REACH_DAYS
        params = {
            "function": function,
            "symbol": symbol,
            "outputsize": "compact" if compact else "full",
            "apikey": settings.alpha_vantage_api_key or "demo",
        }
        rows = daily_rows(json_body(client.get("/query", params=params), PROVIDER, symbol), symbol, function)
        if backfill:
            return [row for row in rows if backfill.covers(row["date"])]
        if cursor is not None:
            return [row for row in rows if row["date"] > cursor - dt.timedelta(days=settings.lag_days)]
        return rows

    @dlt.resource(
        name="alpha_vantage_daily",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        primary_key=("symbol", "date"),
        columns=COLUMNS,
    )
    def daily():
        state = dlt.current.resource_state()
        cursors = state.setdefault("last_date", {})
        finished = state.setdefault("backfills", {}).setdefault(backfill.job_id, []) if backfill else []

        def cursor_of(symbol: str) -> dt.date | None:
            return dt.date.fromisoformat(cursors[symbol]) if symbol in cursors else None

        todo = [symbol for symbol in symbols if symbol not in finished]
        for symbol, rows in fetch_each(todo, lambda s: fetch(s, cursor_of(s)), report, settings.workers, secrets):
            yield rows
            if backfill:
                finished.append(symbol)
            elif rows:
                cursors[symbol] = max(row["date"] for row in rows).isoformat()
            report.succeed()

    return daily
