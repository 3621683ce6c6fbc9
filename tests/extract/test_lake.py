"""The Parquet lake's partition writes (extract/alpaca/lake.py) and the streamed minute backfill
against the emulator: a range replaces exactly its bars, New York months partition a session's
after-hours bars with it, a symbol whose bars do not validate fails alone, the journal resumes."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import duckdb
import pyarrow.parquet as pq

from extract.alpaca import lake
from extract.alpaca.intraday import backfill_lake, refresh_lake
from extract.backfill import Backfill
from extract.emulator.server import Emulator, Fault
from extract.pipeline import extract_provider
from extract.settings import Settings
from flows.runtime.warehouse import query

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 30, 22, tzinfo=UTC)


def _row(t: str, close: float) -> dict:
    return {"t": t, "open": close, "high": close, "low": close, "close": close, "volume": 100.0,
            "trade_count": 3, "vwap": close, "feed": "iex"}  # fmt: skip


def test_a_range_write_replaces_its_bars_and_keeps_the_rest(tmp_path):
    month = (2026, 3)
    first = lake.bars_table([_row("2026-03-02T14:30:00Z", 1.0), _row("2026-03-03T14:30:00Z", 2.0)], NOW)
    since, until = lake.month_range(month)
    assert lake.replace_range(tmp_path, "1Min", "AAPL", month, since, until, first) == 2
    day = lake.new_york_midnight(dt.date(2026, 3, 3))
    second = lake.bars_table([_row("2026-03-03T14:31:00Z", 3.0)], NOW)
    assert lake.replace_range(tmp_path, "1Min", "AAPL", month, day, day + dt.timedelta(days=1), second) == 2
    path = tmp_path / "equities_1min" / "symbol=AAPL" / "year=2026" / "month=3" / "bars.parquet"
    table = pq.read_table(path).to_pylist()
    assert [(r["t"].isoformat(), r["close"]) for r in table] == [
        ("2026-03-02T14:30:00+00:00", 1.0),
        ("2026-03-03T14:31:00+00:00", 3.0),
    ], "the day's old minute is gone, the other day's kept"
    assert lake.replace_range(tmp_path, "1Min", "AAPL", month, since, until, None) == 0
    assert not path.exists(), "an emptied partition is removed"
    assert list(path.parent.iterdir()) == [], "no temporary file is left behind"


def test_after_hours_bars_past_utc_midnight_stay_in_their_new_york_month():
    # 2026-01-30 (Friday), 19:30 New York (EST) is 00:30Z on the 31st; 2026-02-27 19:59 is 00:59Z on the 28th.
    assert lake.month_range((2026, 1)) == (
        dt.datetime(2026, 1, 1, 5, tzinfo=UTC),
        dt.datetime(2026, 2, 1, 5, tzinfo=UTC),
    )


def _settings(tmp_path, emulator: Emulator) -> Settings:
    return Settings(
        duckdb_path=tmp_path / "warehouse.duckdb",
        alpaca_base_url=emulator.base_urls()["alpaca"],
        alpaca_api_key_id="offline-key-id",
        alpaca_api_secret_key="offline-secret",
        backoff_factor=0.05,
        budgets={"alpaca": {"per_minute": None}},
        pipelines_dir=tmp_path / "dlt",
    )


def _lake(settings: Settings) -> list[tuple]:
    glob = f"{settings.lake_dir}/equities_1min/*/*/*/*.parquet"
    return duckdb.sql(
        f"select symbol, year, month, count(*), count(distinct t), min(t), max(t)"
        f" from read_parquet('{glob}', hive_partitioning = true) group by all order by all"
    ).fetchall()


def test_minute_backfill_streams_partitions_and_resumes(tmp_path):
    window = Backfill(dt.date(2026, 10, 26), dt.date(2026, 11, 6))
    with Emulator() as emulator:
        settings = _settings(tmp_path, emulator)
        result = backfill_lake(["MSFT", "AAPL", "NOPE"], settings, "1Min", window, now=NOW)
        pages = [r for r in emulator.requests if r.provider == "alpaca"]
    assert result.report.assets_ok == 2 and not result.report.failures
    assert any("NOPE" in warning for warning in result.report.warnings), "a symbol without data is named"
    assert len(pages) > 1 and all(r.query["timeframe"] == "1Min" for r in pages), "pages followed"
    rows = _lake(settings)
    assert [(symbol, year, month) for symbol, year, month, *_ in rows] == [
        ("AAPL", 2026, 10), ("AAPL", 2026, 11), ("MSFT", 2026, 10), ("MSFT", 2026, 11),
    ]  # fmt: skip
    assert all(count == distinct for _, _, _, count, distinct, _, _ in rows)
    assert sum(count for _, _, _, count, *_ in rows) == result.bars
    # 04:00 New York on the first day (EDT: 08:00Z) to 20:00 on the last (EST: 01:00Z next day).
    assert min(r[5] for r in rows) >= dt.datetime(2026, 10, 26, 8, tzinfo=UTC)
    assert max(r[6] for r in rows) < dt.datetime(2026, 11, 7, 1, tzinfo=UTC)

    with Emulator() as emulator:
        settings = _settings(tmp_path, emulator)
        again = backfill_lake(["MSFT", "AAPL", "NOPE"], settings, "1Min", window, now=NOW)
        assert again.report.skipped == 3 and not [r for r in emulator.requests if r.provider == "alpaca"]
    assert _lake(settings) == rows


def test_a_symbol_with_a_malformed_bar_fails_alone_and_names_the_field(tmp_path):
    with Emulator() as emulator:
        body = (
            b'{"bars":{"AAPL":[{"t":"2026-11-02T14:30:00Z","o":1,"h":1,"l":1,"c":1,"v":5,"n":1,"vw":1}],'
            b'"MSFT":[{"t":"2026-11-02T14:30:00Z","o":1,"h":1,"l":1,"c":"n/a","v":5,"n":1,"vw":1}]},'
            b'"next_page_token":null}'
        )
        emulator.inject(Fault("alpaca", status=200, body=body))
        settings = _settings(tmp_path, emulator)
        day = Backfill(dt.date(2026, 11, 2), dt.date(2026, 11, 2))
        result = backfill_lake(["AAPL", "MSFT"], settings, "1Min", day, now=NOW)
    assert result.report.assets_ok == 1
    assert list(result.report.failures) == ["MSFT"]
    assert result.report.failures["MSFT"] == (
        "alpaca asset 'MSFT': expected a number at 2026-11-02T14:30:00Z, got 'n/a' (field 'c')"
    )
    assert [row[0] for row in _lake(settings)] == ["AAPL"]


def test_the_daily_bars_and_the_lake_start_on_the_same_new_york_day(tmp_path):
    # 00:50Z on Tuesday 2026-12-08 is 19:50 on Monday the 7th in New York: the UTC date is a
    # day ahead of the bars' dates. Five days back from New York's Monday is Wednesday the 2nd.
    evening = dt.datetime(2026, 12, 8, 0, 50, tzinfo=UTC)
    with Emulator() as emulator:
        settings = replace(_settings(tmp_path, emulator), history_days=5)
        assert extract_provider("alpaca", settings, now=evening, assets=["MSFT"]).ok
        assert refresh_lake(["MSFT"], settings, "1Min", now=evening).report.assets_ok == 1
        daily, *minutes = [r.query for r in emulator.requests if r.provider == "alpaca"]
    assert (daily["timeframe"], daily["start"]) == ("1Day", "2026-12-02")
    assert {(q["timeframe"], q["start"]) for q in minutes} == {("1Min", "2026-12-02T05:00:00Z")}
    days = query(settings, "select min(bar_date) from raw.alpaca_daily_bars")[0][0]
    assert days == min(row[5] for row in _lake(settings)).astimezone(lake.NEW_YORK).date() == dt.date(2026, 12, 2)
