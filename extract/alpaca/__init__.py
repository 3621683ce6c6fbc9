"""Alpaca Market Data v2 source: unadjusted daily stock bars from `GET /v2/stocks/bars`.

- `alpaca_daily_bars`: one row per symbol and New York session date (`bar_date`), merged on
  (symbol, bar_date). Asked with `adjustment=raw`: unadjusted bars never change after the fact
  (a split or dividend would rewrite every earlier adjusted bar), so a symbol's cursor stays
  valid and a daily run re-fetches only its lag days; dbt adjusts. `feed` (ALPACA_FEED, default
  `iex`) is always sent, since the documented defaults disagree.
- Symbols go SYMBOLS_PER_REQUEST to a request, in order of the day each must start from (its own
  cursor minus the lag, MARKET_ELT_HISTORY_DAYS back on its first run, a backfill's start); a
  request starts at its earliest symbol's day and each symbol keeps its own days. Pages of up to
  PAGE_LIMIT bars (counted across symbols, sorted by symbol) are followed by `page_token` until
  `next_page_token` is null. The token is followed here rather than by dlt's
  JSONResponseCursorPaginator: dlt's paginate decodes every body as JSON before its caller sees
  the status (nginx's 401 is HTML), and a response hook that raises runs inside the retried send,
  so it would stop the retries of 429s and 5xx. The same metered, retrying client sends each page.
- A symbol whose bars do not validate fails alone (named, with the field); the batch's other
  symbols load. Symbols missing from the answer have no data for the range (Alpaca leaves them
  out: an unknown symbol and a range before its history look the same): one warning names them.
- The running session's bar is not loaded (only sessions closed by `now`, New York's calendar).
- 429 ("too many requests.", no Retry-After) is retried by dlt's session with exponential backoff;
  when X-RateLimit-Reset says when the quota turns, the budget pauses until then. 401 and 403
  stop the provider with one configuration error naming the setting to change.
- Without keys Alpaca is optional: no call is made and the report carries a note, not a failure.
Keys travel in the APCA-API-KEY-ID / APCA-API-SECRET-KEY headers of the session (never in URLs,
dlt's request logs, state or messages). Answers and sources: docs/provider-answers.md ("Alpaca").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import dlt

from extract.alpaca.client import (
    bars_client,
    configured,
    page_payload,
    run_budget,
    secret_values,
    skip_unconfigured,
)
from extract.alpaca.helpers import NEW_YORK, bar_rows, history_start
from extract.alpaca.settings import (
    ADJUSTMENT,
    BARS_PATH,
    DAILY,
    PAGE_LIMIT,
    SIP_DELAY_MINUTES,
    SYMBOLS_PER_REQUEST,
)
from extract.backfill import Backfill
from extract.calendars import last_closed_session
from extract.errors import PayloadError, redact
from extract.fetching import fetch_each
from extract.provider import Provider
from extract.ratelimit import RateBudget
from extract.report import ProviderReport
from extract.settings import Settings

if TYPE_CHECKING:
    from extract.assets import Asset

PROVIDER = "alpaca"
# Alpaca's US equities trade New York's sessions (XNAS and XNYS share them).
CALENDAR = "XNYS"
MERGE = {"disposition": "merge", "strategy": "delete-insert"}
COLUMNS = {
    "symbol": {"data_type": "text", "nullable": False},
    "t": {"data_type": "text", "nullable": False},
    "bar_date": {"data_type": "date", "nullable": False},
    **{name: {"data_type": "double", "nullable": False} for name in ("open", "high", "low", "close", "volume")},
    "trade_count": {"data_type": "bigint", "nullable": True},
    "vwap": {"data_type": "double", "nullable": True},
    "feed": {"data_type": "text", "nullable": False},
    "adjustment": {"data_type": "text", "nullable": False},
}


@dataclass
class BatchResult:
    """A request's symbols: their rows, and the reasons of those that failed."""

    rows: dict[str, list[dict]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    unexpected: set[str] = field(default_factory=set)


@dlt.source(name="alpaca", max_table_nesting=0)
def alpaca_source(
    symbols: list[str],
    settings: Settings,
    report: ProviderReport,
    now: dt.datetime,
    backfill: Backfill | None = None,
    budget: RateBudget | None = None,
):
    budget = budget or run_budget(settings, now)
    secrets = secret_values(settings)
    report.plan = settings.alpaca_plan
    client = bars_client(settings, report, budget)
    earliest = history_start(now, settings.history_days)
    last_session = last_closed_session(CALENDAR, now)
    end = backfill_end(backfill, now) if backfill else None

    def first_day(cursors: dict, symbol: str) -> dt.date:
        """Backfill: its start; first run: MARKET_ELT_HISTORY_DAYS back; later: the lag days up
        to the cursor (a cursor older than the history window still catches up from itself)."""
        if backfill:
            return backfill.start
        cursor = cursors.get(symbol)
        if cursor is None:
            return earliest
        return dt.date.fromisoformat(cursor) - dt.timedelta(days=settings.lag_days - 1)

    def keep(row: dict, start: dt.date) -> bool:
        day = row["bar_date"]
        return start <= day <= last_session and (backfill is None or backfill.covers(day))

    def fetch_batch(batch: list[str], starts: dict[str, dt.date], timeframe: str = DAILY) -> BatchResult:
        """Every page of one request, validated per symbol. Intraday timeframes (`1Hour`, `1Min`)
        would page the same way; only the rows kept (`keep`: closed sessions) are daily's."""
        params = {
            "symbols": ",".join(batch),
            "timeframe": timeframe,
            "start": min(starts[s] for s in batch).isoformat(),
            "adjustment": ADJUSTMENT,
            "feed": settings.alpaca_feed,
            "limit": PAGE_LIMIT,
            "sort": "asc",
        }
        if end:
            params["end"] = end
        result, wanted, tokens = BatchResult(), set(batch), set()
        while True:
            page = bar_rows(page_payload(client.get(BARS_PATH, params=params)), settings.alpaca_feed, ADJUSTMENT)
            for symbol, rows in page.rows.items():
                if symbol in wanted:
                    result.rows.setdefault(symbol, []).extend(rows)
                else:
                    result.unexpected.add(symbol)
            for symbol, error in page.bad.items():
                result.failed.setdefault(symbol, redact(str(error), secrets))
            token = page.next_page_token
            if token is None:
                break
            if token in tokens:
                raise PayloadError(PROVIDER, None, f"the same token came back twice ({token!r})", "next_page_token")
            tokens.add(token)
            params = {**params, "page_token": token}
        for symbol in result.failed:
            result.rows.pop(symbol, None)
        result.rows = {s: [r for r in rows if keep(r, starts[s])] for s, rows in result.rows.items()}
        return result

    @dlt.resource(
        name="alpaca_daily_bars", write_disposition=MERGE, primary_key=("symbol", "bar_date"), columns=COLUMNS
    )
    def daily_bars():
        if not configured(settings):
            skip_unconfigured(settings, report, symbols)
            return
        state = dlt.current.resource_state()
        cursors = state.setdefault("last_bar_date", {})
        finished = state.setdefault("backfills", {}).setdefault(backfill.job_id, []) if backfill else []
        todo = [symbol for symbol in dict.fromkeys(symbols) if symbol not in finished]
        starts = {symbol: first_day(cursors, symbol) for symbol in todo}
        batches = symbol_batches(starts)
        no_data: list[str] = []
        fetched = fetch_each(
            batches, lambda key: fetch_batch(batches[key], starts), report, settings.workers, secrets, "daily bars"
        )
        for key, result in fetched:
            rows = []
            for symbol in batches[key]:
                if symbol in result.failed:
                    report.fail(symbol, result.failed[symbol])
                    continue
                symbol_rows = result.rows.get(symbol, [])
                if symbol_rows:
                    rows.extend(symbol_rows)
                    report.succeed()
                    if not backfill:
                        cursors[symbol] = max(row["bar_date"] for row in symbol_rows).isoformat()
                else:
                    no_data.append(symbol)
                if backfill:
                    finished.append(symbol)
            if result.unexpected:
                ignored = ", ".join(sorted(result.unexpected))
                report.warn(f"alpaca: bars of symbols not asked for were ignored: {ignored}")
            if rows:
                yield rows
        by_symbol(report, batches)
        if no_data:
            since = backfill.job_id if backfill else f"from {min(starts[s] for s in no_data)}"
            report.warn(
                f"alpaca: no bars ({since}) for {', '.join(sorted(no_data))}: Alpaca leaves out symbols without "
                f"data (an unknown symbol, or a range before its history on feed {settings.alpaca_feed})"
            )

    return daily_bars


def symbol_batches(starts: dict[str, dt.date]) -> dict[str, list[str]]:
    """Requests of up to SYMBOLS_PER_REQUEST symbols in order of their start day (so symbols
    sharing a day share requests, and a request re-fetches little its symbols do not need: each
    starts at its earliest symbol's day), keyed by their joined symbols."""
    ordered = sorted(starts, key=lambda symbol: (starts[symbol], symbol))
    chunks = [ordered[i : i + SYMBOLS_PER_REQUEST] for i in range(0, len(ordered), SYMBOLS_PER_REQUEST)]
    return {",".join(chunk): chunk for chunk in chunks}


def by_symbol(report: ProviderReport, batches: dict[str, list[str]]) -> None:
    """fetch_each reports a request's failure or deferral under its key: name each symbol instead.
    (Called once every fetch has ended: no other thread touches the report.)"""
    for key, batch in batches.items():
        for entries in (report.failures, report.deferred):
            if key in entries and batch != [key]:
                reason = entries.pop(key)
                for symbol in batch:
                    entries.setdefault(symbol, reason)


def backfill_end(backfill: Backfill, now: dt.datetime) -> str:
    """`end` of a backfill's requests (inclusive): New York midnight of its last day, which is that
    day's bar's own time (a bare date would mean 00:00 UTC, before the bar), kept older than the
    free plan's SIP delay ("the `end` parameter must be at least 15 minutes old", FAQ)."""
    last_bar = dt.datetime.combine(backfill.end, dt.time(), NEW_YORK).astimezone(dt.UTC)
    end = min(last_bar, now.astimezone(dt.UTC) - dt.timedelta(minutes=SIP_DELAY_MINUTES))
    return end.strftime("%Y-%m-%dT%H:%M:%SZ")


def alpaca_symbols(assets: list[Asset]) -> list[str]:
    return [a.alpaca_symbol for a in assets if a.is_active and a.asset_type == "equity" and a.alpaca_symbol]


# `market-elt status`: Alpaca's closes against Alpha Vantage's (the bar_reconciliation mart).
RECONCILIATION_SQL = """
select
    alpaca_feed as feed,
    count(distinct asset_id) as assets,
    count(*) as days_compared,
    sum(case when within_tolerance then 0 else 1 end) as closes_beyond_tolerance,
    max(abs(close_difference_ratio)) as max_close_difference_ratio
from bar_reconciliation
where status = 'both'
group by alpaca_feed
order by alpaca_feed
"""

PROVIDER_SPEC = Provider(
    name=PROVIDER,
    env_prefix="ALPACA",
    emulator="extract.emulator.alpaca",
    source=alpaca_source,
    asset_ids=alpaca_symbols,
    budget=run_budget,
    raw_tables=("alpaca_daily_bars",),
    asset_types=("equity",),
    backfill_resource="alpaca_daily_bars",
    secrets=secret_values,
    status_queries={"Alpaca against Alpha Vantage (bar_reconciliation)": RECONCILIATION_SQL},
)
