"""The asset chart: PNG written from a hand-made warehouse with daily_features, a missing mart
or column named, unknown symbols named."""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path

import duckdb
import numpy as np
import pytest

from extract.settings import Settings
from flows.commands.chart import FEATURE_COLUMNS, chart, load_series

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
N_BARS = 320


def _random_walk(n: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))


@pytest.fixture
def warehouse(tmp_path) -> Settings:
    """A DuckDB file with just `assets` and `daily_bars`, shaped like the marts."""
    path = tmp_path / "warehouse.duckdb"
    close = _random_walk(N_BARS)
    start = dt.date(2024, 1, 1)
    rows = [
        (1, start + dt.timedelta(days=i), c * 0.995, c * 1.02, c * 0.97, c, 1000.0 + i) for i, c in enumerate(close)
    ]
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "create table assets (asset_id integer, symbol varchar, name varchar, asset_type varchar,"
            " is_active boolean)"
        )
        connection.execute("insert into assets values (1, 'BTC', 'Bitcoin', 'crypto', true)")
        connection.execute("insert into assets values (2, 'ETH', 'Ethereum', 'crypto', true)")
        connection.execute(
            "create table daily_bars (asset_id integer, date date, open double, high double, low double,"
            " close double, volume double)"
        )
        connection.executemany("insert into daily_bars values (?, ?, ?, ?, ?, ?, ?)", rows)
    return Settings(duckdb_path=path)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_a_chart_without_daily_features_says_what_to_run(warehouse, tmp_path):
    with pytest.raises(ValueError, match=r"daily_features has not been built yet: run `market-elt transform`"):
        chart(warehouse, "btc", tmp_path / "btc.png")
    assert not (tmp_path / "btc.png").exists()


def test_the_chart_draws_the_stored_features(warehouse, tmp_path):
    with duckdb.connect(str(warehouse.duckdb_path)) as connection:
        columns = ", ".join(f"{column} double" for column in FEATURE_COLUMNS)
        connection.execute(f"create table daily_features (asset_id integer, date date, {columns})")
        connection.execute(
            "insert into daily_features select asset_id, date, close, close, close * 1.1, close, close * 0.9, 55.0"
            " from daily_bars"
        )
    series = load_series(warehouse, "BTC")
    assert len(series.dates) == N_BARS
    np.testing.assert_allclose(series.features["sma_50"], series.close)
    assert set(series.features["rsi_14"]) == {55.0}
    out = chart(warehouse, "BTC", tmp_path / "charts" / "btc.png")
    assert _png_size(out) == (1200, 800)
    assert 30_000 < out.stat().st_size < 1_000_000, "a drawn chart, not an empty canvas"


def test_a_partial_daily_features_names_the_missing_columns(warehouse):
    with duckdb.connect(str(warehouse.duckdb_path)) as connection:
        connection.execute("create table daily_features (asset_id integer, date date, sma_50 double)")
    with pytest.raises(ValueError, match=r"daily_features lacks bb_lower, bb_middle, bb_upper, rsi_14, sma_200"):
        load_series(warehouse, "BTC")


def test_unknown_symbol_is_named(warehouse, tmp_path):
    with pytest.raises(ValueError, match=r"unknown symbol 'DOGE'.*BTC, ETH"):
        chart(warehouse, "DOGE", tmp_path / "doge.png")
    assert not (tmp_path / "doge.png").exists()


def test_known_symbol_without_bars_is_named(warehouse, tmp_path):
    with pytest.raises(ValueError, match=r"no daily bars for symbol 'ETH'"):
        chart(warehouse, "ETH", tmp_path / "eth.png")
