"""Alpha Vantage source: daily equity bars, adjusted (premium) or raw (free fallback).

One row per symbol and date with Alpha Vantage's fields as sent (strings; adjustment happens
in dbt from the dividend and split columns). Each symbol keeps its own cursor: its first run
and backfills ask for `outputsize=full`; daily runs ask for `compact` (the latest 100
sessions) and keep rows from the cursor minus the lag.

The resource yields one Arrow table per symbol, so dlt writes it without per-row work:
parquet files on DuckDB, CSV for COPY on Postgres (docs/performance.md, "Load").
"""

from __future__ import annotations

import datetime as dt

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.normalizers.utils import generate_dlt_ids

from extract.alpha_vantage.helpers import daily_table, is_throttle_body
from extract.alpha_vantage.settings import COMPACT_REACH_DAYS, RAW_FIELDS
from extract.backfill import Backfill
from extract.fetching import fetch_each
from extract.http import rest_client
from extract.ratelimit import RateBudget
from extract.report import ProviderReport
from extract.responses import json_body
from extract.settings import Settings

PROVIDER = "alpha_vantage"
DLT_ID = pa.field("_dlt_id", pa.string(), nullable=False)
COLUMNS = {name: {"data_type": "text", "nullable": True} for name in RAW_FIELDS} | {
    "date": {"data_type": "date", "nullable": False},
    "last_refreshed": {"data_type": "text"},
}


@dlt.source(name="alpha_vantage", max_table_nesting=0)
def alpha_vantage_source(
    symbols: list[str],
    settings: Settings,
    report: ProviderReport,
    now: dt.datetime,
    backfill: Backfill | None = None,
    budget: RateBudget | None = None,
):
    client = rest_client(
        PROVIDER, settings.alpha_vantage_base_url, settings, report, retry_when=is_throttle_body, budget=budget
    )
    secrets = [settings.alpha_vantage_api_key]
    function = settings.alpha_vantage_function

    def fetch(symbol: str, cursor: dt.date | None) -> pa.Table:
        compact = backfill is None and cursor is not None and (now.date() - cursor).days < COMPACT_REACH_DAYS
        params = {
            "function": function,
            "symbol": symbol,
            "outputsize": "compact" if compact else "full",
            "apikey": settings.alpha_vantage_api_key or "demo",
        }
        table = daily_table(json_body(client.get("/query", params=params), PROVIDER, symbol), symbol, function)
        dates = table["date"]
        if backfill:
            table = table.filter(pc.and_(pc.greater_equal(dates, backfill.start), pc.less_equal(dates, backfill.end)))
        elif cursor is not None:
            table = table.filter(pc.greater(dates, cursor - dt.timedelta(days=settings.lag_days)))
        # dlt's row ids, added here (in the fetching thread) rather than by dlt's normalize, which
        # would read and rewrite every parquet file to add them.
        return table.append_column(DLT_ID, pa.array(generate_dlt_ids(table.num_rows), pa.string()))

    # `deduplicated`: each symbol is fetched once per load and its dates are the keys of one
    # JSON object, so (symbol, date) is unique in every load: the merge skips its dedup window.
    @dlt.resource(
        name="alpha_vantage_daily",
        write_disposition={"disposition": "merge", "strategy": "delete-insert", "deduplicated": True},
        primary_key=("symbol", "date"),
        columns=COLUMNS,
    )
    def daily():
        state = dlt.current.resource_state()
        cursors = state.setdefault("last_date", {})
        finished = state.setdefault("backfills", {}).setdefault(backfill.job_id, []) if backfill else []

        def cursor_of(symbol: str) -> dt.date | None:
            return dt.date.fromisoformat(cursors[symbol]) if symbol in cursors else None

        todo = [symbol for symbol in dict.fromkeys(symbols) if symbol not in finished]
        for symbol, table in fetch_each(todo, lambda s: fetch(s, cursor_of(s)), report, settings.workers, secrets):
            if table.num_rows:
                yield table
            if backfill:
                finished.append(symbol)
            elif table.num_rows:
                cursors[symbol] = pc.max(table["date"]).as_py().isoformat()
            report.succeed()

    return daily
