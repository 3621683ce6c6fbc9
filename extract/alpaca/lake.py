"""The Parquet lake of intraday equity bars: `<lake>/equities_<timeframe>/symbol=S/year=Y/month=M/bars.parquet`.

One file per symbol and month, the month of the bars' New York session date (a session's
pre-market, regular and after-hours bars share a partition; after-hours bars are past midnight
UTC in winter). Writes replace a time range: a partition is rewritten as its bars outside the
range plus the range's bars just fetched (a bar the provider no longer serves disappears, a
rerun writes the same file), into a temporary file renamed over the old one, so a reader or a
crash never sees half a partition. dlt's filesystem destination lays files out by table and
load, not by row values, so it cannot keep these partitions; pyarrow writes them and DuckDB
reads them (`read_parquet(..., hive_partitioning = true)`, the dbt source `lake`).

Files hold t (timestamp, UTC), open, high, low, close, volume, trade_count, vwap, feed and
loaded_at; symbol, year and month come from the path.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from extract.alpaca.helpers import NEW_YORK

FILE_NAME = "bars.parquet"
# Alpaca's timeframes the lake keeps, and their datasets (contract.md: `equities_1min`).
DATASETS = {"1Min": "equities_1min", "1Hour": "equities_1hour"}
SCHEMA = pa.schema(
    [
        ("t", pa.timestamp("s", tz="UTC")),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("volume", pa.float64()),
        ("trade_count", pa.int64()),
        ("vwap", pa.float64()),
        ("feed", pa.string()),
        ("loaded_at", pa.timestamp("s", tz="UTC")),
    ]
)
COLUMNS = [name for name in SCHEMA.names if name != "loaded_at"]


def dataset_dir(lake: Path, timeframe: str) -> Path:
    return lake / DATASETS[timeframe]


def partition_dir(lake: Path, timeframe: str, symbol: str, month: tuple[int, int]) -> Path:
    if "/" in symbol or symbol in ("", ".", ".."):
        raise ValueError(f"alpaca: symbol {symbol!r} cannot name a lake partition")
    return dataset_dir(lake, timeframe) / f"symbol={symbol}" / f"year={month[0]}" / f"month={month[1]}"


def new_york_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), NEW_YORK).astimezone(dt.UTC)


def months_between(start: dt.date, end: dt.date) -> Iterator[tuple[int, int]]:
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def month_range(month: tuple[int, int]) -> tuple[dt.datetime, dt.datetime]:
    """[first, next) instants of a New York calendar month, in UTC."""
    year, number = month
    following = (year + 1, 1) if number == 12 else (year, number + 1)
    return new_york_midnight(dt.date(year, number, 1)), new_york_midnight(dt.date(*following, 1))


def bars_table(rows: list[dict], loaded_at: dt.datetime) -> pa.Table:
    """Validated bar rows (extract.alpaca.helpers.bar_rows) as the lake's columns."""
    columns = {name: [row[name] for row in rows] for name in COLUMNS if name != "t"}
    times = pa.array([row["t"] for row in rows], pa.string()).cast(SCHEMA.field("t").type)
    stamp = pa.array([loaded_at] * len(rows), SCHEMA.field("loaded_at").type)
    arrays = [times, *(pa.array(columns[name], SCHEMA.field(name).type) for name in COLUMNS[1:]), stamp]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def replace_range(
    lake: Path,
    timeframe: str,
    symbol: str,
    month: tuple[int, int],
    since: dt.datetime,
    until: dt.datetime,
    bars: pa.Table | None,
) -> int:
    """Rewrite one partition as its bars outside [since, until) plus `bars` (which must lie inside
    it); an emptied partition is removed. Returns the partition's bar count."""
    folder = partition_dir(lake, timeframe, symbol, month)
    path = folder / FILE_NAME
    kept = []
    if path.exists():
        old = pq.read_table(path, schema=SCHEMA)
        outside = pc.or_(pc.less(old["t"], pa.scalar(since, old["t"].type)),
                         pc.greater_equal(old["t"], pa.scalar(until, old["t"].type)))  # fmt: skip
        kept.append(old.filter(outside))
    if bars is not None and bars.num_rows:
        kept.append(bars)
    table = pa.concat_tables(kept) if kept else SCHEMA.empty_table()
    if table.num_rows == 0:
        if path.exists():
            path.unlink()
        return 0
    table = table.sort_by("t")
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{FILE_NAME}.{os.getpid()}.tmp"
    pq.write_table(table, temporary, compression="zstd")
    os.replace(temporary, path)
    return table.num_rows


def last_bar_days(lake_root: Path, timeframe: str) -> dict[str, dt.date]:
    """Each symbol's latest New York bar date in the lake (its newest partition's last bar): the
    cursor a daily refresh starts from."""
    days = {}
    for symbol_dir in sorted(dataset_dir(lake_root, timeframe).glob("symbol=*")):
        files = sorted(
            symbol_dir.glob(f"year=*/month=*/{FILE_NAME}"),
            key=lambda path: (int(path.parent.parent.name[5:]), int(path.parent.name[6:])),
        )
        if files:
            last = pc.max(pq.read_table(files[-1], columns=["t"])["t"]).as_py()
            days[symbol_dir.name[len("symbol=") :]] = last.astimezone(NEW_YORK).date()
    return days


class BackfillJournal:
    """Symbols a lake backfill (timeframe and range) has finished, so a rerun after a crash or
    Ctrl-C goes on with the rest: `<lake>/_backfills/<dataset>/<start>..<end>.json`."""

    def __init__(self, lake: Path, timeframe: str, job_id: str, kept: bool = True) -> None:
        self.path = lake / "_backfills" / DATASETS[timeframe] / f"{job_id}.json"
        self.kept = kept
        self.finished: list[str] = json.loads(self.path.read_text())["finished"] if kept and self.path.exists() else []

    def finish(self, symbol: str) -> None:
        """Remember `symbol` as done (on disk unless the journal is not `kept`: a daily refresh)."""
        self.finished.append(symbol)
        if not self.kept:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"finished": self.finished}))
        os.replace(temporary, self.path)
