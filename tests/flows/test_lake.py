"""Alpaca's minute bars into the Parquet lake and the models reading it, offline on DuckDB: the
daily run (MARKET_ELT_LAKE_TIMEFRAMES=1Min) writes one partition per symbol and New York month,
readable with DuckDB's hive partitioning, and a second run extends it from each symbol's last day
without duplicating a minute; a `backfill --timeframe 1Min` over days already there replaces them;
the regular-session bars the models build from the minutes reconcile with Alpaca's daily bars (the
emulator's minutes are built to: docs in extract/emulator/equity_minutes.py); a disagreeing daily
close is warned about by asset and day. One warehouse for all of it: each step reads the last."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from extract.assets import load_assets
from extract.calendars import sessions
from extract.settings import Settings
from flows.backfill import backfill
from flows.daily import daily
from flows.runtime.warehouse import query
from tests.flows.loads import reload

pytestmark = pytest.mark.slow
DAYS = 12


def _lake(settings: Settings) -> str:
    glob = f"{settings.lake_dir}/equities_1min/*/*/*/*.parquet"
    return f"read_parquet('{glob}', hive_partitioning = true)"


def _lake_rows(settings: Settings, until: dt.datetime | None = None) -> list[tuple]:
    """Bars per symbol and month, up to `until` when given: a run started later also finds the
    minutes traded since (the emulator's session, like the market's, goes on while the test runs)."""
    cut = f"where t <= '{until.isoformat()}'" if until else ""
    return duckdb.sql(
        f"select symbol, year, month, count(*), count(distinct t) from {_lake(settings)} {cut}"
        " group by all order by all"
    ).fetchall()


def test_minute_bars_reach_the_lake_daily_and_by_backfill_and_reconcile_with_daily(
    tmp_path, warehouse_dir, monkeypatch, prefect_harness
):
    monkeypatch.setenv("DUCKDB_PATH", str(warehouse_dir / "warehouse.duckdb"))
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    monkeypatch.setenv("MARKET_ELT_HISTORY_DAYS", str(DAYS))
    monkeypatch.setenv("MARKET_ELT_LAKE_TIMEFRAMES", "1Min")
    first = daily(offline=True)
    assert first.ok, first.text()
    settings = Settings.from_env()
    assert settings.lake_dir == warehouse_dir / "lake", "the default lake sits beside the DuckDB file"
    today = dt.datetime.now(dt.UTC).date()
    start = today - dt.timedelta(days=DAYS)

    symbols = {a.alpaca_symbol for a in load_assets() if a.is_active and a.alpaca_symbol}
    lake = _lake_rows(settings)
    until = duckdb.sql(f"select max(t) from {_lake(settings)}").fetchone()[0]
    assert {row[0] for row in lake} == symbols
    assert all(count == distinct for *_, count, distinct in lake), "one bar per symbol and minute"
    months = {(d.year, d.month) for d in sessions("XNYS", start, today - dt.timedelta(days=1))}
    assert months <= {(row[1], row[2]) for row in lake}
    loaded = {report.provider: report for report in first.providers}["alpaca 1Min"]
    assert loaded.rows == sum(row[3] for row in lake) and loaded.assets_ok == len(symbols)

    closed = [d for d in sessions("XNYS", start, today) if d < today]
    reconciled = query(
        settings,
        "select alpaca_symbol, count(*), sum(case when within_tolerance then 1 else 0 end),"
        " min(volume_ratio), max(volume_ratio), min(n_minutes) from equity_session_bars group by 1",
    )
    assert {row[0] for row in reconciled} == symbols, "the run's dbt builds the lake's models"
    for symbol, days, agreeing, low_ratio, high_ratio, fewest in reconciled:
        assert days >= len(closed) - 1 and agreeing == days, (symbol, days, agreeing)
        # Pre-market and after-hours trade ~10% of the emulator's day; a session has 210 (early
        # close) or 390 regular minutes.
        assert 0.85 < low_ratio <= high_ratio < 0.95 and fewest in (210, 390), (symbol, low_ratio, fewest)
    windows = dict(query(settings, "select session, count(*) from equity_bars_1h group by 1"))
    assert set(windows) == {"regular", "mixed", "extended"}, "the 09:00 and close hours mix sessions"
    five = query(settings, "select sum(volume) from equity_bars_5m")[0][0]
    assert five == query(settings, "select sum(volume) from equity_bars_1h")[0][0], "windows keep every share"

    second = daily(offline=True)
    assert second.ok, second.text()
    again = {report.provider: report for report in second.providers}["alpaca 1Min"]
    # From each symbol's last day minus the lag (3 days), not the whole history again.
    assert 0 < again.rows < loaded.rows / 2, (again.rows, loaded.rows)
    assert _lake_rows(settings, until) == lake, "the re-fetched days replace themselves"
    assert not (settings.lake_dir / "_backfills").exists(), "a daily refresh keeps no backfill journal"

    assert backfill("alpaca", start + dt.timedelta(days=3), today, offline=True, timeframe="1Min").ok
    assert _lake_rows(settings, until) == lake, "an overlapping backfill replaces its minutes, duplicating none"
    assert list((settings.lake_dir / "_backfills").rglob("*.json")), "a backfill journals what it finished"

    day = query(settings, "select max(bar_date) from raw.alpaca_daily_bars where symbol = 'MSFT'")[0][0]
    msft_day = f"symbol = 'MSFT' and bar_date = '{day}'"
    reload(
        settings,
        [f"update raw.alpaca_daily_bars set close = close * 1.02 where {msft_day}"],
        {"alpaca_daily_bars": msft_day},
    )
    summary = daily(offline=True, providers=[])
    warned = [line for line in summary.warnings if "equity_session_bars_close_agrees_with_daily" in line]
    assert len(warned) == 1 and "MSFT" in warned[0] and str(day) in warned[0], summary.warnings
