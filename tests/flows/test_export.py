"""Parquet export: hive layout by symbol/year/month, exact round trip, reruns replace instead of
duplicating, missing marts skipped; on hand-made tables (DuckDB and Postgres) and on the real
marts after an offline extract + dbt run."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from pathlib import Path

import duckdb
import psycopg2
import pytest

from extract.pipeline import extract_provider
from extract.registry import PROVIDERS
from extract.settings import Settings
from flows.commands.export import MARKET_SYMBOL, export_marts
from flows.runtime.dbt import invoke_dbt
from flows.runtime.warehouse import query

START = dt.date(2024, 12, 20)  # crosses a year and two month boundaries
N_DAYS = 45
ASSETS = [(1, "BTC"), (2, "PEPE"), (3, "AAPL")]  # AAPL has no rows: no partition for it
BARS = [
    (asset_id, START + dt.timedelta(days=i), price * (1 + i / 100), ("", "src", None)[i % 3], i % 2 == 0)
    for asset_id, price in ((1, 97_000.5), (2, 1.234567891e-9))
    for i in range(N_DAYS)
]
OBSERVATIONS = [
    (asset_id, START + dt.timedelta(days=i), metric, float(i))
    for i in range(N_DAYS)
    for asset_id, metric in ((None, "fear_greed_index"), (1, "market_cap"))
]

DDL = [
    "create table assets (asset_id integer, symbol varchar(32))",
    "create table daily_bars (asset_id integer, date date, close double precision, source varchar,"
    " adjusted_flag boolean)",
    "create table observations (asset_id integer, date date, metric varchar, value double precision)",
]


def _fill(connection, placeholder: str) -> None:
    cursor = connection.cursor()
    for statement in DDL:
        cursor.execute(statement)
    for table, rows in (("assets", ASSETS), ("daily_bars", BARS), ("observations", OBSERVATIONS)):
        marks = ", ".join([placeholder] * len(rows[0]))
        cursor.executemany(f"insert into {table} values ({marks})", rows)
    connection.commit()


def _read_back(out_dir: Path, mart: str, columns: str, group: bool = False) -> list[tuple]:
    """`columns` of the exported files, partition columns included, sorted (grouped by the
    non-aggregates when `group`)."""
    glob = str(out_dir / mart / "**" / "*.parquet")
    group_by = "group by all" if group else ""
    with duckdb.connect() as connection:
        return connection.execute(
            f"select {columns} from read_parquet('{glob}', hive_partitioning = true) {group_by} order by all"
        ).fetchall()


def _partitions(out_dir: Path, mart: str) -> set[tuple[str, ...]]:
    return {file.relative_to(out_dir / mart).parts[:3] for file in (out_dir / mart).rglob("*.parquet")}


def _assert_exported(out_dir: Path) -> None:
    bars = _read_back(out_dir, "daily_bars", "asset_id, date, close, source, adjusted_flag")
    assert bars == sorted(BARS), "exact round trip (prices below 1e-8 included, '' kept apart from NULL)"
    symbols = _read_back(out_dir, "daily_bars", "distinct symbol, year, month")
    assert symbols == [(s, y, m) for s in ("BTC", "PEPE") for y, m in ((2024, 12), (2025, 1), (2025, 2))]
    assert ("symbol=BTC", "year=2025", "month=1") in _partitions(out_dir, "daily_bars")
    observations = _read_back(out_dir, "observations", "symbol, asset_id, metric, count(*)", group=True)
    assert observations == [("BTC", 1, "market_cap", N_DAYS), (MARKET_SYMBOL, None, "fear_greed_index", N_DAYS)]


@pytest.fixture
def duckdb_warehouse(tmp_path) -> Settings:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        _fill(connection, "?")
    return Settings(duckdb_path=path)


def test_export_round_trips_partitions_and_skips_missing_marts(duckdb_warehouse, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="flows.commands.export")
    out = tmp_path / "export"
    report = export_marts(duckdb_warehouse, out)
    assert report.rows == {"daily_bars": len(BARS), "observations": len(OBSERVATIONS)}
    assert "daily_features" in report.skipped
    assert any("skipping daily_features" in record.message for record in caplog.records)
    _assert_exported(out)
    assert not (out / "daily_features").exists()
    assert sorted(p.name for p in out.iterdir()) == ["daily_bars", "observations"], "no staging leftovers"


def test_rerun_replaces_the_export(duckdb_warehouse, tmp_path):
    out = tmp_path / "export"
    export_marts(duckdb_warehouse, out)
    export_marts(duckdb_warehouse, out)
    _assert_exported(out)  # same rows once, not twice

    with duckdb.connect(str(duckdb_warehouse.duckdb_path)) as connection:
        connection.execute("delete from daily_bars where asset_id = 2")
    report = export_marts(duckdb_warehouse, out, marts=["daily_bars"])
    assert report.rows == {"daily_bars": N_DAYS}
    assert _read_back(out, "daily_bars", "symbol, count(*)", group=True) == [("BTC", N_DAYS)]
    assert not (out / "daily_bars" / "symbol=PEPE").exists(), "vanished partitions vanish from the export"
    assert (out / "observations").exists(), "marts not asked for are left alone"


def test_missing_warehouse_or_assets_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no warehouse"):
        export_marts(Settings(duckdb_path=tmp_path / "absent.duckdb"), tmp_path / "out")
    path = tmp_path / "bare.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(LookupError, match="assets mart is missing"):
        export_marts(Settings(duckdb_path=path), tmp_path / "out")


@pytest.mark.postgres
def test_export_from_postgres(postgres_settings, pg_env, tmp_path):
    connection = psycopg2.connect(
        host=pg_env["PGHOST"],
        port=pg_env["PGPORT"],
        user=pg_env["PGUSER"],
        password=pg_env["PGPASSWORD"],
        dbname=pg_env["PGDATABASE"],
    )
    with contextlib.closing(connection):
        _fill(connection, "%s")
    out = tmp_path / "export"
    export_marts(postgres_settings, out)
    report = export_marts(postgres_settings, out)
    assert report.rows == {"daily_bars": len(BARS), "observations": len(OBSERVATIONS)}
    _assert_exported(out)


@pytest.mark.slow
@pytest.mark.parametrize("target", ["dev", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_export_of_the_real_marts(target, tmp_path, request):
    settings = request.getfixturevalue("duckdb_settings" if target == "dev" else "postgres_settings")
    for provider in PROVIDERS:
        assert extract_provider(provider, settings).ok
    # the flow's seed, run, test and publish (nothing to hold back), outside Prefect
    for command in (["seed"], ["run"], ["test"], ["run-operation", "publish_marts"]):
        invoke_dbt([*command, "--target-path", str(tmp_path / "dbt-target")], settings)
    out = tmp_path / "export"

    export_marts(settings, out)
    report = export_marts(settings, out)

    assert {"daily_bars", "observations"} <= set(report.rows)
    for mart in report.rows:  # daily_features too, once it is built
        assert report.rows[mart] == query(settings, f"select count(*) from {mart}")[0][0] > 0
        exported = _read_back(out, mart, "count(*), count(distinct symbol)")[0]
        assert exported[0] == report.rows[mart]
    per_symbol = dict(_read_back(out, "daily_bars", "symbol, count(*)", group=True))
    expected = query(
        settings, "select a.symbol, count(*) from daily_bars db join assets a on db.asset_id = a.asset_id group by 1"
    )
    assert per_symbol == dict(expected)
    assert _read_back(out, "observations", "count(*) filter (where symbol = '_market' and asset_id is null)")[0][0] > 0
