"""daily_features: TA-Lib parity, features.md's extended set, and incremental runs, on DuckDB and Postgres;
parity and the extended set on Spark too (where every build is a full one).

Each test writes `int_daily_bars` and `assets` into a fresh warehouse and runs only the feature models.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.dbt.features_data import (
    TALIB_COLUMNS,
    Series,
    Warehouse,
    check_parity,
    flat,
    random_walk,
    real_stocks,
    sampledata_csv,
    zero_volume,
)
from tests.workdirs import project_copy

ENGINES = [pytest.param("duckdb", id="duckdb"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=ENGINES)
def warehouse(request, tmp_path) -> Warehouse:
    fixture = "postgres_settings" if request.param == "postgres" else "duckdb_settings"
    return Warehouse(request.getfixturevalue(fixture), tmp_path)


@pytest.fixture(params=[*ENGINES, pytest.param("spark", id="spark", marks=pytest.mark.spark)])
def any_warehouse(request, tmp_path) -> Warehouse:
    """A warehouse of every engine, Spark included: for what a full build computes."""
    if request.param != "spark":
        fixture = "postgres_settings" if request.param == "postgres" else "duckdb_settings"
        return Warehouse(request.getfixturevalue(fixture), tmp_path)
    spark_dir = request.getfixturevalue("spark_env")
    settings = request.getfixturevalue("duckdb_settings").with_overrides(dbt_target="spark", spark_root=spark_dir)
    return Warehouse(settings, tmp_path)


def generated_panel() -> list[Series]:
    return [
        random_walk(1, 420, seed=1),  # > 200 rows and > one calendar year
        random_walk(2, 330, seed=2, asset_type="equity", gaps=True),  # weekdays with holes
        random_walk(3, 12, seed=3),  # shorter than every window but the 1- and 5-day ones
        random_walk(4, 40, seed=4),  # MACD's first value at row 33, no SMA-50
        flat(5, 60),  # nothing moves
        zero_volume(6, 80, seed=6),  # no volume at all
        random_walk(7, 90, seed=7, price=2e-9, sigma=0.05),  # a token priced below 1e-8
        random_walk(8, 80, seed=8).without_volume(slice(0, 3)),  # the first bars without volume
        random_walk(9, 80, seed=9).without_volume(slice(40, 41)),  # a volume missing mid-series
    ]


def assert_same_rows(left: dict, right: dict) -> None:
    """Bit-for-bit equality (NULL equals NULL) of two reads of the stored features: every stored
    column on every row (the daily_features view derives the rest from them row by row), the
    recursive state on each asset's last row (where it is kept)."""
    assert sorted(left) == sorted(right)
    for asset_id in left:
        assert list(left[asset_id]["date"]) == list(right[asset_id]["date"]), asset_id
        assert sorted(left[asset_id]) == sorted(right[asset_id])
        for column in sorted(set(left[asset_id]) - {"computed_at"}):
            a, b = left[asset_id][column], right[asset_id][column]
            if column.startswith("state_"):
                a, b = a[-1:], b[-1:]
            same = list(a) == list(b) if a.dtype == object else np.array_equal(a, b, equal_nan=True)
            assert same, f"asset {asset_id} {column}: incremental != full rebuild"


def test_generated_series_match_talib_and_features_md(any_warehouse):
    series = generated_panel()
    any_warehouse.write_bars(series)
    any_warehouse.run_features()

    problems = check_parity(any_warehouse.read(), series)

    assert not problems, "\n".join(problems)


def test_edge_cases_behave_as_features_md_says(any_warehouse):
    series = [flat(1, 60), zero_volume(2, 40, seed=2), random_walk(3, 8, seed=3)]
    any_warehouse.write_bars(series)
    any_warehouse.run_features()
    rows = any_warehouse.read()

    flat_rows = rows[1]
    assert np.all(flat_rows["rsi_14"][14:] == 0)  # RSI 0 when nothing moves
    assert np.all(np.isnan(flat_rows["rsi_14"][:14]))
    assert np.all(np.isnan(flat_rows["bb_pct_b"][19:]))  # zero-width band
    assert np.all(flat_rows["bb_width"][19:] == 0)
    assert np.all(flat_rows["atr_14"][14:] == 0)
    zero = rows[2]
    assert np.all(np.isnan(zero["rvol_20"]))  # mean prior volume is 0
    assert np.all(zero["mfi_14"][14:] == 0) and np.all(zero["obv"] == 0)
    short = rows[3]
    assert len(short["date"]) == 8
    for column in ("sma_20", "ema_12", "rsi_14", "macd", "atr_14", "bb_upper", "roc_10", "adx_14", "high_52w"):
        assert np.all(np.isnan(short[column])), column
    assert not np.isnan(short["return_5d"][5])


def test_real_daily_ohlcv_matches_talib(any_warehouse):
    if sampledata_csv() is None:
        pytest.skip("bokeh_sampledata (real daily OHLCV) is not installed")
    series = real_stocks({"AAPL": 1, "IBM": 2, "MSFT": 3}, since="2009-01-01") + real_stocks({"FB": 4}, since="2000")
    any_warehouse.write_bars(series)
    any_warehouse.run_features()

    problems = check_parity(any_warehouse.read(), series)

    assert not problems, "\n".join(problems)
    assert all(len(s) > 900 for s in series[:3]) and len(series[3]) < 200


def test_incremental_run_equals_full_rebuild_bit_for_bit(warehouse):
    full = [
        random_walk(1, 400, seed=11),
        random_walk(2, 260, seed=12, asset_type="equity"),
        random_walk(3, 30, seed=13),
        random_walk(4, 120, seed=14).without_volume(slice(0, 30)),  # volume starts after the first run
        random_walk(5, 120, seed=15).without_volume(slice(60, 61)),  # poisoned before the first run
        random_walk(6, 50, seed=16),  # stored up to the last seed row (33), continued by the smoothing alone
    ]
    # 1, 3, 19, 95, 5 and 16 days behind
    before = [full[0].head(399), full[1].head(257), full[2].head(11), full[3].head(25), full[4].head(115)]
    before.append(full[5].head(34))
    warehouse.write_bars(before)
    warehouse.run_features()
    first_run = warehouse.read(warehouse.state_relation())
    warehouse.publish()

    warehouse.write_bars(full)
    warehouse.run_features()
    incremental = warehouse.read(warehouse.state_relation())
    incremental_view = warehouse.read()
    assert_same_rows(warehouse.read(warehouse.publish()), incremental_view)  # publish added the new rows
    batch = warehouse.execute(
        "select count(*), count(case when is_full_history then 1 end) from features.int_feature_bars_batched",
        fetch=True,
    )[1][0]
    warehouse.run_features(full_refresh=True)
    rebuilt = warehouse.read(warehouse.state_relation())

    assert batch[1] == 0, "no asset should have been recomputed in full"
    assert batch[0] < 400 + 260, "the incremental batch reads only the windows' context"
    for asset_id, old in first_run.items():  # stored rows were not rewritten
        n = len(old["date"])
        assert list(incremental[asset_id]["computed_at"][:n]) == list(old["computed_at"])
        assert len(set(incremental[asset_id]["computed_at"][n:])) == 1
    assert_same_rows(incremental, rebuilt)
    assert_same_rows(incremental_view, warehouse.read())
    assert not check_parity(warehouse.read(), full)


def test_restated_asset_is_recomputed_in_full_and_others_are_not(warehouse):
    split, other = random_walk(1, 300, seed=21, asset_type="equity"), random_walk(2, 300, seed=22)
    warehouse.write_bars([split.head(299), other.head(299)])
    warehouse.run_features()
    first_run = warehouse.read(warehouse.state_relation())
    published = warehouse.publish()
    # a marker on a published row of the asset that only gains a day: the next publish must not rewrite it
    warehouse.execute(f"update {published} set sma_20 = -1 where asset_id = 2 and date = '{other.dates[100]}'")

    # A 2:1 split restates the adjusted history before day 150; both assets get a new day.
    for prices in (split.open, split.high, split.low, split.close):
        prices[:150] /= 2
    split.volume[:150] *= 2
    warehouse.write_bars([split, other])
    warehouse.run_features()
    after = warehouse.read(warehouse.state_relation())
    # publish replaced the restated asset's rows and added the other's new day, nothing else
    published_rows, view = warehouse.read(warehouse.publish()), warehouse.read()
    assert published_rows[2]["sma_20"][100] == -1, "unchanged published rows are not copied again"
    published_rows[2]["sma_20"][100] = view[2]["sma_20"][100]
    assert_same_rows(published_rows, view)

    old_run = first_run[1]["computed_at"][0]
    assert set(after[1]["computed_at"]) != {old_run} and len(set(after[1]["computed_at"])) == 1
    assert list(after[2]["computed_at"][:299]) == list(first_run[2]["computed_at"])
    assert after[2]["computed_at"][299] != old_run
    assert not check_parity(warehouse.read(), [split, other])
    warehouse.run_features(full_refresh=True)
    assert_same_rows(after, warehouse.read(warehouse.state_relation()))


def test_a_table_from_an_earlier_version_is_recomputed_in_full_by_the_next_run(warehouse):
    """A stored table without a column the continued path reads (written by a version whose
    moving averages added other sums) is not continued: the next run recomputes every asset and
    its result equals a full refresh."""
    series = [random_walk(1, 260, seed=41), random_walk(2, 230, seed=42, asset_type="equity")]
    warehouse.write_bars([s.head(len(s) - 1) for s in series])
    warehouse.run_features()
    stored = warehouse.state_relation()
    warehouse.execute(f"alter table {stored} drop column close_sum_20 cascade")  # cascade: the view
    before = warehouse.read(stored, columns="asset_id, date, computed_at")

    warehouse.write_bars(series)
    warehouse.run_features()
    after = warehouse.read(stored)

    for asset_id, old in before.items():
        assert not set(after[asset_id]["computed_at"]) & set(old["computed_at"]), f"asset {asset_id} was continued"
        assert len(after[asset_id]["date"]) == len(old["date"]) + 1
    warehouse.run_features(full_refresh=True)
    assert_same_rows(after, warehouse.read(stored))
    assert not check_parity(warehouse.read(), series)


def test_the_readmes_window_feature_example_is_one_edit_and_one_list_entry(duckdb_settings, tmp_path, monkeypatch):
    """README, "Adding a feature": a line in int_daily_features_computed's final select shows up
    in daily_features, and naming its TA-Lib call in TALIB_COLUMNS puts it under the parity suite."""
    project = project_copy()
    model = project / "models" / "intermediate" / "features" / "int_daily_features_computed.sql"
    text = model.read_text()
    anchor = "        sma_20,\n"
    assert text.count(anchor) == 1
    model.write_text(text.replace(anchor, anchor + "        case when rn >= 9 then close_sum_10 / 10 end as sma_10,\n"))
    monkeypatch.setitem(TALIB_COLUMNS, "sma_10", ("SMA", "c", (10,), None))
    warehouse = Warehouse(duckdb_settings.with_overrides(dbt_project_dir=project), tmp_path)
    series = [random_walk(1, 60, seed=31), random_walk(2, 30, seed=32)]
    warehouse.write_bars(series)
    warehouse.run_features()
    rows = warehouse.read()
    assert "sma_10" in rows[1] and np.isnan(rows[1]["sma_10"][8]) and not np.isnan(rows[1]["sma_10"][9])
    assert not check_parity(rows, series)
    rows[1]["sma_10"][20] *= 1.001  # the suite does check the new column
    assert any("sma_10" in problem for problem in check_parity(rows, series))
