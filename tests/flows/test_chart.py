"""The asset chart: PNG written from a hand-made warehouse, numpy fallback features at TA-Lib
parity, stored features preferred when daily_features exists, unknown symbols named."""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path

import duckdb
import numpy as np
import pytest

from extract.settings import Settings
from flows.chart import FEATURE_COLUMNS, chart, compute_features, load_series

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


def test_chart_writes_a_png_with_fallback_features(warehouse, tmp_path):
    out = chart(warehouse, "btc", tmp_path / "charts" / "btc.png")
    assert out == tmp_path / "charts" / "btc.png"
    assert _png_size(out) == (1200, 800)
    assert 30_000 < out.stat().st_size < 1_000_000, "a drawn chart, not an empty canvas"
    series = load_series(warehouse, "BTC")
    assert "fallback" in series.features_source
    assert len(series.dates) == N_BARS
    assert np.isnan(series.features["sma_200"][198]) and not np.isnan(series.features["sma_200"][199])


def test_fallback_features_match_talib(warehouse):
    talib = pytest.importorskip("talib")
    close = _random_walk(N_BARS, seed=11)
    ours = compute_features(close)
    upper, middle, lower = talib.BBANDS(close, timeperiod=20, nbdevup=2, nbdevdn=2, matype=0)
    expected = {
        "sma_50": talib.SMA(close, 50),
        "sma_200": talib.SMA(close, 200),
        "bb_upper": upper,
        "bb_middle": middle,
        "bb_lower": lower,
        "rsi_14": talib.RSI(close, 14),
    }
    for column, reference in expected.items():
        np.testing.assert_array_equal(np.isnan(ours[column]), np.isnan(reference), err_msg=column)
        np.testing.assert_allclose(ours[column], reference, rtol=1e-8, atol=1e-8, equal_nan=True, err_msg=column)


def test_stored_features_are_preferred_when_daily_features_exists(warehouse, tmp_path):
    with duckdb.connect(str(warehouse.duckdb_path)) as connection:
        columns = ", ".join(f"{column} double" for column in FEATURE_COLUMNS)
        connection.execute(f"create table daily_features (asset_id integer, date date, {columns})")
        connection.execute(
            "insert into daily_features select asset_id, date, close, close, close * 1.1, close, close * 0.9, 55.0"
            " from daily_bars"
        )
    series = load_series(warehouse, "BTC")
    assert series.features_source == "features from daily_features"
    np.testing.assert_allclose(series.features["sma_50"], series.close)
    assert set(series.features["rsi_14"]) == {55.0}
    assert _png_size(chart(warehouse, "BTC", tmp_path / "btc.png")) == (1200, 800)


def test_a_partial_daily_features_falls_back_and_names_the_missing_columns(warehouse):
    with duckdb.connect(str(warehouse.duckdb_path)) as connection:
        connection.execute("create table daily_features (asset_id integer, date date, sma_50 double)")
    source = load_series(warehouse, "BTC").features_source
    assert "fallback" in source and "rsi_14" in source and "sma_50" not in source


def test_unknown_symbol_is_named(warehouse, tmp_path):
    with pytest.raises(ValueError, match=r"unknown symbol 'DOGE'.*BTC, ETH"):
        chart(warehouse, "DOGE", tmp_path / "doge.png")
    assert not (tmp_path / "doge.png").exists()


def test_known_symbol_without_bars_is_named(warehouse, tmp_path):
    with pytest.raises(ValueError, match=r"no daily bars for symbol 'ETH'"):
        chart(warehouse, "ETH", tmp_path / "eth.png")
