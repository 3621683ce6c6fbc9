"""Intraday bars (`1Min`, `1Hour`) from Alpaca's `/v2/stocks/bars` into the Parquet lake, streamed.

A backfill asks for up to SYMBOLS_PER_REQUEST symbols a request over its whole range and follows
`next_page_token`. Alpaca sorts a page's bars by symbol, then time, so a symbol's months arrive
one after the other: each (symbol, month) is written to its partition (extract.alpaca.lake) as
soon as the next one starts, and memory holds one page and one symbol-month (~10k minute bars),
whatever the range. A symbol is journaled as finished once all its months are written; a
rerun of the same job skips it, and rewrites the same files for the others (partitions replace
their range). Bars are unadjusted (`adjustment=raw`), as the daily source's. Minute and hour
bars include pre-market and after-hours trading, and exist only for minutes with a trade
(IEX's minutes are sparse): alpaca-py #580 (2025-04-13), alpaca-trade-api-python #457.

A symbol whose bars do not validate fails alone, named; a request that fails after its retries
fails its unfinished symbols; a spent budget or a configuration error (401/403) stops new
requests. Requests run on `settings.workers` threads under the run's budget.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from extract.alpaca import lake
from extract.alpaca.client import bars_client, configured, page_payload, run_budget, secret_values, skip_unconfigured
from extract.alpaca.helpers import bar_rows, history_start
from extract.alpaca.settings import ADJUSTMENT, BARS_PATH, PAGE_LIMIT, SIP_DELAY_MINUTES, SYMBOLS_PER_REQUEST
from extract.backfill import Backfill
from extract.errors import ConfigurationError, PayloadError, ProviderError, redact
from extract.ledger import BudgetExhaustedError
from extract.ratelimit import RateBudget
from extract.report import ProviderReport
from extract.settings import Settings

PROVIDER = "alpaca"
TIMEFRAMES = tuple(lake.DATASETS)
log = logging.getLogger("market_elt.alpaca.lake")


@dataclass(frozen=True)
class Window:
    """The instants a backfill covers: bars with since <= t < until (`until` is kept older than
    the free plan's SIP delay, as the daily source's end)."""

    since: dt.datetime
    until: dt.datetime

    @classmethod
    def of(cls, backfill: Backfill, now: dt.datetime) -> Window:
        since = lake.new_york_midnight(backfill.start)
        until = lake.new_york_midnight(backfill.end + dt.timedelta(days=1))
        delayed = now.astimezone(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=SIP_DELAY_MINUTES)
        until = min(until, delayed)
        return cls(since, max(since, until))

    def months(self) -> list[tuple[int, int]]:
        last = (self.until - dt.timedelta(seconds=1)).astimezone(lake.NEW_YORK).date()
        return list(lake.months_between(self.since.astimezone(lake.NEW_YORK).date(), last))

    def clip(self, month: tuple[int, int]) -> tuple[dt.datetime, dt.datetime]:
        first, following = lake.month_range(month)
        return max(first, self.since), min(following, self.until)


class SymbolWriter:
    """One symbol's bars as they stream in: a month's buffer written when the next month starts;
    `close()` writes the last and empties the range's months that got no bars."""

    def __init__(self, root: Path, timeframe: str, symbol: str, window: Window, loaded_at: dt.datetime) -> None:
        self.root, self.timeframe, self.symbol, self.window, self.loaded_at = root, timeframe, symbol, window, loaded_at
        self.month: tuple[int, int] | None = None
        self.buffer: list[dict] = []
        self.written: set[tuple[int, int]] = set()
        self.bars = 0

    def add(self, rows: list[dict]) -> None:
        for row in rows:
            day = row["bar_date"]
            month = (day.year, day.month)
            if month != self.month:
                self._flush()
                self.month = month
            self.buffer.append(row)

    def _flush(self) -> None:
        if self.month is None:
            return
        since, until = self.window.clip(self.month)
        bars = lake.bars_table(self.buffer, self.loaded_at)
        lake.replace_range(self.root, self.timeframe, self.symbol, self.month, since, until, bars)
        self.bars += len(self.buffer)
        self.written.add(self.month)
        self.buffer = []

    def close(self) -> int:
        self._flush()
        for month in self.window.months():
            if month not in self.written:
                since, until = self.window.clip(month)
                lake.replace_range(self.root, self.timeframe, self.symbol, month, since, until, None)
        return self.bars


@dataclass
class LakeResult:
    report: ProviderReport
    bars: int = 0
    seconds: float = 0.0

    @property
    def bars_per_second(self) -> float:
        return self.bars / self.seconds if self.seconds else 0.0


def _progress(total: int, timeframe: str) -> Progress:
    progress = Progress(
        TextColumn(f"alpaca {timeframe}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("symbols, {task.fields[bars]:,} bars"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    progress.add_task("symbols", total=total, bars=0)
    return progress


def backfill_lake(
    symbols: list[str],
    settings: Settings,
    timeframe: str,
    backfill: Backfill,
    now: dt.datetime | None = None,
    budget: RateBudget | None = None,
    resumable: bool = True,
    report: ProviderReport | None = None,
) -> LakeResult:
    """Write `timeframe` bars of [backfill.start, backfill.end] (New York dates) for `symbols` to
    the lake (settings.lake_dir); resumable by the job's journal (unless not `resumable`: a daily
    refresh). Progress with an ETA on a terminal, a log line per symbol otherwise."""
    if timeframe not in TIMEFRAMES:
        raise ValueError(f"alpaca: the lake keeps timeframes {', '.join(TIMEFRAMES)}, not {timeframe!r}")
    now = now or dt.datetime.now(dt.UTC)
    report = report or ProviderReport(PROVIDER)
    result = LakeResult(report)
    wanted = list(dict.fromkeys(symbols))
    if not configured(settings):
        skip_unconfigured(settings, report, wanted)
        report.finished = dt.datetime.now(dt.UTC)
        return result
    budget = budget or run_budget(settings, now)
    report.plan = settings.alpaca_plan
    client = bars_client(settings, report, budget)
    secrets = secret_values(settings)
    window = Window.of(backfill, now)
    journal = lake.BackfillJournal(settings.lake_dir, timeframe, backfill.job_id, kept=resumable)
    todo = [symbol for symbol in wanted if symbol not in journal.finished]
    report.skipped = len(wanted) - len(todo)
    batches = [sorted(todo[i : i + SYMBOLS_PER_REQUEST]) for i in range(0, len(todo), SYMBOLS_PER_REQUEST)]
    lock, stop = threading.Lock(), threading.Event()
    no_data: list[str] = []
    started = time.monotonic()
    progress = _progress(len(todo), timeframe)

    def finish(symbol: str, writer: SymbolWriter | None) -> None:
        bars = writer.close() if writer else 0
        with lock:
            journal.finish(symbol)
            if bars:
                result.bars += bars
                report.rows += bars
                report.succeed()
            else:
                no_data.append(symbol)
            progress.update(0, advance=1, bars=result.bars)
        log.info("alpaca %s: %s done (%d bars)", timeframe, symbol, bars)

    def run_batch(batch: list[str]) -> None:
        params = {
            "symbols": ",".join(batch),
            "timeframe": timeframe,
            "start": window.since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": (window.until - dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "adjustment": ADJUSTMENT,
            "feed": settings.alpaca_feed,
            "limit": PAGE_LIMIT,
            "sort": "asc",
        }
        pending, failed, tokens = list(batch), set(), set()
        writer: SymbolWriter | None = None
        loaded_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        while not stop.is_set():
            page = bar_rows(page_payload(client.get(BARS_PATH, params=params)), settings.alpaca_feed, ADJUSTMENT)
            for symbol, error in page.bad.items():
                if symbol in pending:
                    failed.add(symbol)
                    report.fail(symbol, redact(str(error), secrets))
            for symbol, rows in page.rows.items():
                if symbol not in pending or symbol in failed:
                    continue
                if writer is None or writer.symbol != symbol:
                    # Alpaca's order: every symbol before this one is complete.
                    while pending[0] != symbol:
                        done = pending.pop(0)
                        if done not in failed:
                            finish(done, writer if writer and writer.symbol == done else None)
                    writer = SymbolWriter(settings.lake_dir, timeframe, symbol, window, loaded_at)
                writer.add(rows)
            token = page.next_page_token
            if token is None:
                break
            if token in tokens:
                raise PayloadError(PROVIDER, None, f"the same token came back twice ({token!r})", "next_page_token")
            tokens.add(token)
            params = {**params, "page_token": token}
        if stop.is_set():
            return
        for symbol in pending:
            if symbol not in failed:
                finish(symbol, writer if writer and writer.symbol == symbol else None)

    def guarded(batch: list[str]) -> None:
        try:
            run_batch(batch)
        except BudgetExhaustedError as exc:
            stop.set()
            for symbol in _unfinished(batch, journal, report):
                report.defer(symbol, redact(str(exc), secrets))
        except ConfigurationError as exc:
            stop.set()
            report.block(exc, _unfinished(batch, journal, report))
        except ProviderError as exc:
            for symbol in _unfinished(batch, journal, report):
                report.fail(symbol, redact(str(exc), secrets))

    with progress, ThreadPoolExecutor(max_workers=max(1, settings.workers), thread_name_prefix="alpaca-lake") as pool:
        list(pool.map(guarded, batches))
    for batch in batches:
        if stop.is_set():
            for symbol in _unfinished(batch, journal, report):
                report.defer(symbol, "not fetched: the backfill stopped (see the errors above)")
    if no_data:
        report.warn(
            f"alpaca: no {timeframe} bars ({backfill.job_id}) for {', '.join(sorted(no_data))}: Alpaca leaves out "
            f"symbols without data (an unknown symbol, or a range before its history on feed {settings.alpaca_feed})"
        )
    result.seconds = time.monotonic() - started
    report.record_budget(budget.usage())
    report.finished = dt.datetime.now(dt.UTC)
    return result


def refresh_lake(symbols: list[str], settings: Settings, timeframe: str, now: dt.datetime | None = None) -> LakeResult:
    """The daily run's part (MARKET_ELT_LAKE_TIMEFRAMES): each symbol's bars from its last day in
    the lake minus the lag (MARKET_ELT_HISTORY_DAYS back for a symbol not in it yet) to today,
    symbols sharing a start sharing requests, under one budget; partitions replace their range."""
    now = now or dt.datetime.now(dt.UTC)
    today = now.astimezone(lake.NEW_YORK).date()
    last = lake.last_bar_days(settings.lake_dir, timeframe)
    starts: dict[dt.date, list[str]] = {}
    for symbol in dict.fromkeys(symbols):
        cursor = last.get(symbol)
        start = (
            cursor - dt.timedelta(days=settings.lag_days - 1) if cursor else history_start(now, settings.history_days)
        )
        starts.setdefault(min(start, today), []).append(symbol)
    report = ProviderReport(f"{PROVIDER} {timeframe}")
    total = LakeResult(report)
    budget = run_budget(settings, now) if configured(settings) else None
    for start, group in sorted(starts.items()):
        result = backfill_lake(group, settings, timeframe, Backfill(start, today), now, budget, False, report)
        total.bars += result.bars
        total.seconds += result.seconds
    if not starts:
        report.finished = dt.datetime.now(dt.UTC)
    return total


def _unfinished(batch: list[str], journal: lake.BackfillJournal, report: ProviderReport) -> list[str]:
    settled = set(journal.finished) | set(report.failures) | set(report.deferred)
    return [symbol for symbol in batch if symbol not in settled]
