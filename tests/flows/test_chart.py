"""The asset charts, from a hand-made warehouse shaped like the marts: BTC and ETH every day
(ETH from a later Saturday), AAPL on weekdays only (from a Thursday), LUNA in an earlier,
disjoint range, XRP without bars, and BTC's last 10 days of hourly bars.

Single symbol: the stored features drawn, a missing mart or column named, --since cuts.
Several symbols: rebased to 100 on the first date all have a bar, each on its own dates, --since
cuts, no common date named, repeated symbols refused. --hourly: exactly the window's hours, one
symbol only, a missing hourly_bars or an asset without hourly bars named. The CLI writes the file."""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path

import duckdb
import numpy as np
import pytest

from extract.settings import Settings
from flows.commands.chart import (
    FEATURE_COLUMNS,
    chart,
    default_out_path,
    load_comparison,
    load_hourly,
    load_series,
)
from flows.commands.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
N_BARS = 320
BTC_START = dt.date(2024, 1, 1)  # a Monday; the last bar is Friday 2024-11-15
ETH_START = dt.date(2024, 1, 6)  # a Saturday
AAPL_START = dt.date(2024, 1, 4)  # a Thursday
FIRST_COMMON_DATE = dt.date(2024, 1, 8)  # AAPL's first weekday on or after ETH's first day
HOURLY_DAYS = 10


def _random_walk(n: int, seed: int = 7, start: float = 100.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return start * np.exp(np.cumsum(rng.normal(0, 0.02, n)))


def _days(first: dt.date, last: dt.date, weekdays_only: bool = False) -> list[dt.date]:
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return [day for day in days if day.weekday() < 5] if weekdays_only else days


LAST_DAY = BTC_START + dt.timedelta(days=N_BARS - 1)
ASSETS = [
    (1, "BTC", "Bitcoin", "crypto"),
    (2, "ETH", "Ethereum", "crypto"),
    (3, "AAPL", "Apple Inc.", "equity"),
    (4, "LUNA", "Terra", "crypto"),
    (5, "XRP", "XRP", "crypto"),
]
DAILY_DATES = {
    "BTC": _days(BTC_START, LAST_DAY),
    "ETH": _days(ETH_START, LAST_DAY),
    "AAPL": _days(AAPL_START, LAST_DAY, weekdays_only=True),
    "LUNA": _days(dt.date(2023, 6, 1), dt.date(2023, 12, 31)),
}
DAILY_CLOSES = {
    symbol: _random_walk(len(dates), seed, start)
    for (symbol, dates), seed, start in zip(DAILY_DATES.items(), (7, 11, 13, 17), (40_000, 2_500, 180, 60), strict=True)
}
HOURS = [
    dt.datetime.combine(LAST_DAY - dt.timedelta(days=HOURLY_DAYS - 1), dt.time()) + dt.timedelta(hours=i)
    for i in range(24 * HOURLY_DAYS)
]
HOURLY_CLOSES = _random_walk(len(HOURS), seed=5, start=60_000)


def build_warehouse(path: Path) -> Settings:
    """A DuckDB file with `assets`, `daily_bars` and `hourly_bars`, shaped like the marts."""
    ids = {symbol: asset_id for asset_id, symbol, _, _ in ASSETS}
    daily = [
        (ids[symbol], day, c * 0.995, c * 1.02, c * 0.97, c, 1000.0 + i)
        for symbol, dates in DAILY_DATES.items()
        for i, (day, c) in enumerate(zip(dates, DAILY_CLOSES[symbol], strict=True))
    ]
    opens = np.concatenate([[HOURLY_CLOSES[0]], HOURLY_CLOSES[:-1]])
    hourly = [
        (1, hour, o, max(o, c) * 1.004, min(o, c) * 0.996, c, None if i % 5 == 0 else 10.0 + i, 1e9, "coingecko")
        for i, (hour, o, c) in enumerate(zip(HOURS, opens, HOURLY_CLOSES, strict=True))
    ]
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "create table assets (asset_id integer, symbol varchar, name varchar, asset_type varchar,"
            " is_active boolean)"
        )
        _insert(connection, "assets", [(*asset, True) for asset in ASSETS])
        connection.execute(
            "create table daily_bars (asset_id integer, date date, open double, high double, low double,"
            " close double, volume double)"
        )
        _insert(connection, "daily_bars", daily)
        connection.execute(
            "create table hourly_bars (asset_id integer, hour_start timestamp, open double, high double,"
            " low double, close double, volume double, volume_24h double, source varchar, session varchar)"
        )
        _insert(connection, "hourly_bars", [(*row, None) for row in hourly])
        # session by the hour's UTC start, as the mart defines it
        connection.execute(
            "update hourly_bars set session = case when hour(hour_start) < 8 then 'ASIA'"
            " when hour(hour_start) < 14 then 'EUROPE' else 'US' end"
        )
    return Settings(duckdb_path=path)


def _insert(connection: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """One multi-row insert: DuckDB's executemany costs a statement per row."""
    placeholders = ", ".join([f"({', '.join('?' * len(rows[0]))})"] * len(rows))
    connection.execute(f"insert into {table} values {placeholders}", [value for row in rows for value in row])


@pytest.fixture
def warehouse(tmp_path) -> Settings:
    return build_warehouse(tmp_path / "warehouse.duckdb")


def _add_daily_features(settings: Settings) -> None:
    with duckdb.connect(str(settings.duckdb_path)) as connection:
        columns = ", ".join(f"{column} double" for column in FEATURE_COLUMNS)
        connection.execute(f"create table daily_features (asset_id integer, date date, {columns})")
        connection.execute(
            "insert into daily_features select asset_id, date, close, close, close * 1.1, close, close * 0.9, 55.0"
            " from daily_bars"
        )


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_a_chart_without_daily_features_says_what_to_run(warehouse, tmp_path):
    with pytest.raises(ValueError, match=r"daily_features has not been built yet: run `market-elt transform`"):
        chart(warehouse, ["btc"], tmp_path / "btc.png")
    assert not (tmp_path / "btc.png").exists()


def test_the_chart_draws_the_stored_features(warehouse, tmp_path):
    _add_daily_features(warehouse)
    series = load_series(warehouse, "BTC")
    assert len(series.dates) == N_BARS
    np.testing.assert_allclose(series.features["sma_50"], series.close)
    assert set(series.features["rsi_14"]) == {55.0}
    out = chart(warehouse, ["BTC"], tmp_path / "charts" / "btc.png")
    assert _png_size(out) == (1200, 800)
    assert 30_000 < out.stat().st_size < 1_000_000, "a drawn chart, not an empty canvas"


def test_since_cuts_the_single_symbol_chart(warehouse):
    _add_daily_features(warehouse)
    since = dt.date(2024, 6, 1)
    series = load_series(warehouse, "btc", since=since)
    expected = [day for day in DAILY_DATES["BTC"] if day >= since]
    assert series.dates == expected
    np.testing.assert_allclose(series.close, DAILY_CLOSES["BTC"][-len(expected) :])


def test_a_partial_daily_features_names_the_missing_columns(warehouse):
    with duckdb.connect(str(warehouse.duckdb_path)) as connection:
        connection.execute("create table daily_features (asset_id integer, date date, sma_50 double)")
    with pytest.raises(ValueError, match=r"daily_features lacks bb_lower, bb_middle, bb_upper, rsi_14, sma_200"):
        load_series(warehouse, "BTC")


def test_unknown_symbol_is_named(warehouse, tmp_path):
    with pytest.raises(ValueError, match=r"unknown symbol 'DOGE'; assets has: AAPL, BTC, ETH, LUNA, XRP"):
        chart(warehouse, ["BTC", "DOGE"], tmp_path / "doge.png")
    assert not (tmp_path / "doge.png").exists()


def test_known_symbol_without_bars_is_named(warehouse, tmp_path):
    with pytest.raises(ValueError, match=r"no daily bars for symbol 'XRP'"):
        chart(warehouse, ["XRP"], tmp_path / "xrp.png")


def _expected_rebased(symbol: str, common: dt.date) -> tuple[list[dt.date], np.ndarray]:
    """`symbol`'s fixture dates from `common` on and its fixture closes over its close on `common`, x 100."""
    dates, closes = DAILY_DATES[symbol], DAILY_CLOSES[symbol]
    first = dates.index(common)
    return dates[first:], 100 * closes[first:] / closes[first]


def test_a_normalized_comparison_rebases_every_series_to_100_on_the_first_common_date(warehouse, tmp_path):
    comparison = load_comparison(warehouse, ["btc", "ETH", "aapl"], normalize=True)
    assert comparison.common_date == FIRST_COMMON_DATE
    assert [line.asset.symbol for line in comparison.lines] == ["BTC", "ETH", "AAPL"]
    for line in comparison.lines:
        dates, values = _expected_rebased(line.asset.symbol, FIRST_COMMON_DATE)
        assert line.dates == dates, "each series on its own dates: no forward fill, no invented points"
        np.testing.assert_allclose(line.values, values)
        assert line.values[0] == pytest.approx(100.0)
        assert line.change == pytest.approx(values[-1] / 100 - 1)
    aapl = comparison.lines[2]
    assert {day.weekday() for day in aapl.dates} == {0, 1, 2, 3, 4}
    assert len(comparison.lines[0].dates) > len(aapl.dates), "BTC keeps its weekends"
    out = chart(warehouse, ["BTC", "ETH", "AAPL"], tmp_path / "compare.png", normalize=True)
    assert _png_size(out) == (1200, 700)
    assert out.stat().st_size > 30_000, "a drawn chart, not an empty canvas"


def test_without_normalize_the_comparison_keeps_each_close(warehouse):
    comparison = load_comparison(warehouse, ["BTC", "AAPL"])
    assert not comparison.normalized
    assert comparison.common_date == AAPL_START, "BTC trades from 2024-01-01, AAPL from Thursday 2024-01-04"
    first = DAILY_DATES["AAPL"].index(AAPL_START)
    np.testing.assert_allclose(comparison.lines[1].values, DAILY_CLOSES["AAPL"][first:])


def test_since_cuts_every_series_of_a_comparison(warehouse):
    since = dt.date(2024, 3, 2)  # a Saturday: the crypto have a bar, AAPL's next is Monday
    comparison = load_comparison(warehouse, ["BTC", "ETH", "AAPL"], normalize=True, since=since)
    assert comparison.common_date == dt.date(2024, 3, 4)
    for line in comparison.lines:
        dates, values = _expected_rebased(line.asset.symbol, dt.date(2024, 3, 4))
        assert line.dates == dates
        np.testing.assert_allclose(line.values, values)


def test_symbols_without_a_common_date_are_named_with_their_ranges(warehouse, tmp_path):
    with pytest.raises(
        ValueError,
        match=r"BTC, LUNA have no date on which all have a daily bar: "
        r"BTC 2024-01-01 to 2024-11-15; LUNA 2023-06-01 to 2023-12-31",
    ):
        chart(warehouse, ["BTC", "LUNA"], tmp_path / "none.png", normalize=True)
    assert not (tmp_path / "none.png").exists()


def test_a_symbol_given_twice_is_refused(warehouse, tmp_path):
    with pytest.raises(ValueError, match=r"symbol given more than once: BTC; name each symbol once"):
        chart(warehouse, ["BTC", "ETH", "btc"], tmp_path / "twice.png")


def test_the_hourly_chart_loads_the_last_7_days_of_hours(warehouse, tmp_path):
    bars = load_hourly(warehouse, "btc")
    window_start = dt.datetime(2024, 11, 9)  # 7 x 24 hours up to the last one, 2024-11-15 23:00
    expected = [hour for hour in HOURS if hour >= window_start]
    assert len(expected) == 7 * 24
    assert bars.hours == expected
    np.testing.assert_allclose(bars.close, HOURLY_CLOSES[-len(expected) :])
    assert bars.sessions[:9] == ["ASIA"] * 8 + ["EUROPE"]
    out = chart(warehouse, ["BTC"], tmp_path / "hourly.png", hourly=True)
    assert _png_size(out) == (1400, 700)
    assert out.stat().st_size > 30_000, "a drawn chart, not an empty canvas"


def test_since_starts_the_hourly_window(warehouse):
    bars = load_hourly(warehouse, "BTC", since=dt.date(2024, 11, 13))
    assert bars.hours == [hour for hour in HOURS if hour >= dt.datetime(2024, 11, 13)]
    assert len(bars.hours) == 3 * 24


def test_hourly_charts_one_symbol(warehouse, tmp_path):
    with pytest.raises(ValueError, match=r"--hourly charts one symbol, got 2: BTC, ETH"):
        chart(warehouse, ["BTC", "ETH"], tmp_path / "hourly.png", hourly=True)


def test_a_missing_hourly_bars_says_what_to_run(warehouse):
    with duckdb.connect(str(warehouse.duckdb_path)) as connection:
        connection.execute("drop table hourly_bars")
    with pytest.raises(ValueError, match=r"hourly_bars has not been built yet: run `market-elt run`"):
        load_hourly(warehouse, "BTC")


def test_an_asset_without_hourly_bars_is_named(warehouse):
    with pytest.raises(ValueError, match=r"no hourly bars for symbol 'AAPL'"):
        load_hourly(warehouse, "AAPL")


def test_default_paths_name_the_symbols():
    assert default_out_path(["btc"]) == Path("data/charts/BTC.png")
    assert default_out_path(["BTC", "eth", "AAPL"]) == Path("data/charts/BTC-ETH-AAPL.png")
    assert default_out_path(["BTC"], hourly=True) == Path("data/charts/BTC-hourly.png")


def test_the_cli_writes_a_normalized_comparison(warehouse, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DUCKDB_PATH", str(warehouse.duckdb_path))
    monkeypatch.setenv("DBT_TARGET", "dev")
    out = tmp_path / "cli" / "btc-eth.png"
    assert main(["chart", "BTC", "ETH", "--normalize", "--out", str(out)]) == 0
    assert _png_size(out) == (1200, 700)
    assert capsys.readouterr().out.strip() == str(out)
    assert main(["chart", "BTC", "ETH", "--hourly"]) == 2
    assert "market-elt chart: --hourly charts one symbol" in capsys.readouterr().err
