"""The daily flow offline on Spark (DBT_TARGET=spark): dlt writes `raw` as Parquet files, dbt-spark
builds and tests the marts in its session, the gate holds back a broken asset and the swap
publishes the rest; what is published has TA-Lib parity. Every Spark build is a full one.

A test process keeps one SparkSession (its warehouse and metastore fixed at start), so these
tests share the process's Spark directory, emptied before each (`spark_env`)."""

from __future__ import annotations

import datetime as dt
import functools
import glob
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from extract.assets import load_assets
from extract.emulator.server import Emulator
from extract.settings import Settings
from flows.commands.status import collect_status
from flows.daily import daily
from flows.runtime import offline
from flows.runtime.summary import RunFailedError
from flows.runtime.warehouse import query
from tests.dbt.features_data import Series, check_parity

pytestmark = [pytest.mark.slow, pytest.mark.spark]
HISTORY_DAYS = 40
# A re-fetched day comes back under a new load id (daily_bars.load_id), its prices unchanged.
BARS_BY_SYMBOL = (
    "select a.symbol, b.date, b.open, b.high, b.low, b.close, b.volume"
    " from daily_bars as b join assets as a using (asset_id) order by 1, 2"
)


@pytest.fixture
def spark_flow_env(tmp_path, monkeypatch, prefect_harness, spark_env):
    started = dt.datetime.now(dt.UTC)  # the emulator answers as of the test's start (see test_daily)
    monkeypatch.setattr(offline, "Emulator", functools.partial(Emulator, clock=lambda: started))
    monkeypatch.setenv("DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("DBT_TARGET", "spark")
    monkeypatch.setenv("MARKET_ELT_HISTORY_DAYS", str(HISTORY_DAYS))
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    return spark_env


def _published_series(settings: Settings) -> list[Series]:
    """Each asset's published bars as the parity check's input."""
    types = dict(query(settings, "select asset_id, asset_type from assets"))
    rows = query(settings, "select asset_id, date, open, high, low, close, volume from daily_bars order by 1, 2")
    by_asset: dict[int, list[tuple]] = {}
    for asset_id, *bar in rows:
        by_asset.setdefault(asset_id, []).append(bar)
    return [
        Series(
            asset_id,
            types[asset_id],
            [bar[0] for bar in bars],
            high=[bar[2] for bar in bars],
            low=[bar[3] for bar in bars],
            close=[bar[4] for bar in bars],
            volume=[np.nan if bar[5] is None else bar[5] for bar in bars],
            open=[bar[1] for bar in bars],
        )
        for asset_id, bars in by_asset.items()
    ]


def _published_features(settings: Settings) -> dict[int, dict[str, np.ndarray]]:
    names = [name for (name,) in query(settings, "show columns in daily_features")]
    rows = query(settings, f"select {', '.join(names)} from daily_features order by asset_id, date")
    features: dict[int, dict[str, np.ndarray]] = {}
    for index, name in enumerate(names):
        for asset_id in {row[0] for row in rows}:
            values = [row[index] for row in rows if row[0] == asset_id]
            numeric = name not in ("date", "regime")
            features.setdefault(asset_id, {})[name] = (
                np.array([np.nan if v is None else float(v) for v in values]) if numeric else np.array(values, object)
            )
    return features


def _break_last_bar(spark_dir, symbol: str) -> None:
    """A later load of `symbol`'s last Alpha Vantage session with its prices a hundredfold, as a
    file of its own beside dlt's (whose filesystem destination appends): raw's newest load wins,
    as dlt's merge would, and daily_bars' impossible-move gate fails for that asset alone."""
    files = glob.glob(str(spark_dir / "raw" / "alpha_vantage_daily" / "*.parquet"))
    table = pa.concat_tables([pq.read_table(path) for path in files], promote_options="default")
    rows = table.filter(pa.compute.equal(table["symbol"], symbol)).to_pylist()
    broken = {**max(rows, key=lambda row: row["date"]), "_dlt_load_id": "9999999999.0", "_dlt_id": "broken"}
    for column in ("_1_open", "_2_high", "_3_low", "_4_close", "_5_adjusted_close"):
        if broken.get(column) is not None:
            broken[column] = str(float(broken[column]) * 100)
    schema = pa.schema([f.with_type(pa.string()) if f.name == "_dlt_load_id" else f for f in table.schema])
    later_load = spark_dir / "raw" / "alpha_vantage_daily" / "9999999999.0.broken.parquet"
    pq.write_table(pa.Table.from_pylist([broken], schema=schema), later_load)


def test_offline_flow_on_spark_publishes_with_talib_parity_and_the_gate_holds_back_a_broken_asset(spark_flow_env):
    summary = daily(offline=True)
    assert summary.ok, summary.text()
    settings = Settings.from_env()
    active = [a for a in load_assets() if a.is_active]
    bars = dict(query(settings, "select asset_id, count(*) from daily_bars group by asset_id"))
    for asset in active:
        # crypto: every complete UTC day of the history; equities: the free plan's latest 100 sessions
        assert bars.get(asset.asset_id) == (HISTORY_DAYS if asset.asset_type == "crypto" else 100), asset.symbol
    fear_greed = query(settings, "select count(*) from observations where metric = 'fear_greed_index'")
    assert fear_greed[0][0] > 3000
    prices = query(settings, "select count(*) from observations where metric = 'current_price'")
    assert prices[0][0] == sum(1 for a in active if a.asset_type == "crypto")
    problems = check_parity(_published_features(settings), _published_series(settings))
    assert not problems, "\n".join(problems)
    counts = {table: query(settings, f"select count(*) from {table}")[0][0] for table in ("daily_bars", "observations")}
    before = query(settings, BARS_BY_SYMBOL)

    _break_last_bar(spark_flow_env, "IBM")
    # The next run re-fetches the lag days (dlt's files then hold them twice) and builds IBM's broken bar.
    with pytest.raises(RunFailedError) as failed:
        daily(offline=True)
    assert "gate: IBM (asset" in str(failed.value)
    verdict = json.loads(query(settings, "select quarantined from ops.run_log order by finished_at desc limit 1")[0][0])
    assert set(verdict) == {"IBM"} and "daily_bars_impossible_moves" in " ".join(verdict["IBM"]["tests"])
    after = query(settings, BARS_BY_SYMBOL)
    assert [row for row in after if row[0] == "IBM"] == [row for row in before if row[0] == "IBM"], "IBM's rows kept"
    assert [row for row in after if row[0] != "IBM"] == [row for row in before if row[0] != "IBM"], (
        "every other asset published again, unchanged: the re-fetched days are not doubled"
    )
    assert {table: query(settings, f"select count(*) from {table}")[0][0] for table in counts} == counts
    ibm_audited = query(settings, "select max(b.close) from audit.daily_bars as b join assets as a using (asset_id)"
                                  " where a.symbol = 'IBM'")  # fmt: skip
    assert ibm_audited[0][0] > 50 * max(row[5] for row in before if row[0] == "IBM"), "the broken bar: audit only"
    assert query(settings, "select count(distinct run_id) from ops.run_log")[0][0] == 2
    status = collect_status(settings)  # market-elt status, read from the Spark warehouse
    assert {row["symbol"] for row in status["quarantined"]} == {"IBM"}
    assert len(status["last_runs"]) == 2 * 4, "a run log row per provider and run"
