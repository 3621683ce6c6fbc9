"""Alpha Vantage source: daily equity bars, adjusted (premium) or raw (free fallback).

One row per symbol and date with Alpha Vantage's fields as sent (strings; adjustment happens
in dbt from the dividend and split columns). Each symbol keeps its own cursor: its first run
and backfills ask for `outputsize=full`; daily runs ask for `compact` (the latest 100
sessions) and keep rows from the cursor minus the lag.

Bodies become Arrow tables without a Python object per row (`helpers.typed_daily_table`), and
the resource yields them ~50k rows at a time, so dlt writes them without per-row work: parquet
files on DuckDB, CSV for COPY on Postgres (docs/performance.md, "Load").
"""

from __future__ import annotations

import datetime as dt

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.json import json as dlt_json

from extract.alpha_vantage.helpers import daily_table, is_throttle_body, row_ids, typed_daily_table
from extract.alpha_vantage.settings import COMPACT_REACH_DAYS, RAW_FIELDS
from extract.backfill import Backfill
from extract.fetching import fetch_each
from extract.http import rest_client
from extract.parsing import ParsePool
from extract.ratelimit import RateBudget
from extract.report import ProviderReport
from extract.responses import json_body
from extract.settings import Settings

PROVIDER = "alpha_vantage"
DLT_ID = pa.field("_dlt_id", pa.string(), nullable=False)
BATCH_ROWS = 50_000  # rows per item handed to dlt (~14 full histories, ~500 daily updates)
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

    def fetch(symbol: str, cursor: dt.date | None, pool: ParsePool) -> pa.Table:
        compact = backfill is None and cursor is not None and (now.date() - cursor).days < COMPACT_REACH_DAYS
        params = {
            "function": function,
            "symbol": symbol,
            "outputsize": "compact" if compact else "full",
            "apikey": settings.alpha_vantage_api_key or "demo",
        }
        response = client.get("/query", params=params)
        if backfill:
            keep = (backfill.start, backfill.end, None)
        else:
            keep = (None, None, cursor - dt.timedelta(days=settings.lag_days) if cursor is not None else None)
        table = None
        if response.status_code == 200:  # a full history is parsed in a worker process
            table = pool.run(body_table, response.content, symbol, function, *keep)
        if table is None:  # errors, or a body orjson refuses: the lenient path names the problem
            table = payload_table(json_body(response, PROVIDER, symbol), symbol, function, *keep)
        return table

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
        # More processes than fetch threads would wait for bodies.
        pool = ParsePool(min(settings.parse_processes, settings.workers), tasks=len(todo))
        # Several symbols per item: dlt's per-item work (hints validated, schema computed and
        # merged, a writer flush) cost more than the item's rows. The cursors move before
        # their rows are yielded, but state is only saved with the load that holds them.
        batch: list[pa.Table] = []
        fetched = fetch_each(todo, lambda s: fetch(s, cursor_of(s), pool), report, settings.workers, secrets)
        with pool:
            for symbol, table in fetched:
                if table.num_rows:
                    batch.append(table)
                    if sum(t.num_rows for t in batch) >= BATCH_ROWS:
                        yield pa.concat_tables(batch)
                        batch = []
                if backfill:
                    finished.append(symbol)
                elif table.num_rows:
                    cursors[symbol] = pc.max(table["date"]).as_py().isoformat()
                report.succeed()
        if batch:
            yield pa.concat_tables(batch)

    return daily


def payload_table(
    payload: object,
    symbol: str,
    function: str,
    first: dt.date | None = None,
    last: dt.date | None = None,
    after: dt.date | None = None,
) -> pa.Table:
    """The rows of a decoded payload this load keeps (see `kept_rows`)."""
    return kept_rows(daily_table(payload, symbol, function), first, last, after)


def body_table(body: bytes, symbol: str, function: str, *keep: dt.date | None) -> pa.Table | None:
    """`payload_table` of an HTTP-200 body (in a fetching thread or a parsing process): a
    well-formed series by the typed decoder, anything else decoded and classified by
    `daily_table`; None when orjson refuses the body, for the caller's lenient decoder."""
    table = typed_daily_table(body, symbol, function)
    if table is None:
        try:
            payload = dlt_json.loadb(body)
        except ValueError:
            return None
        table = daily_table(payload, symbol, function)
    return kept_rows(table, *keep)


def kept_rows(
    table: pa.Table, first: dt.date | None = None, last: dt.date | None = None, after: dt.date | None = None
) -> pa.Table:
    """The rows this load keeps (a backfill's [first, last], or the days after `after`), with
    dlt's row ids: added here rather than by dlt's normalize, which would read and rewrite
    every parquet file to add them."""
    dates = table["date"]
    if first is not None:
        table = table.filter(pc.and_(pc.greater_equal(dates, first), pc.less_equal(dates, last)))
    elif after is not None:
        table = table.filter(pc.greater(dates, after))
    return table.append_column(DLT_ID, row_ids(table.num_rows))
