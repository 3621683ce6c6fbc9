"""Session-wide test fixtures: quiet environment, one Prefect harness, one provider emulator,
one throwaway PostgreSQL cluster, and per-test warehouses."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.workdirs import SESSION_DIR, WORKER, worker_dir

# Before anything imports dlt, dbt or Prefect: no telemetry, state and homes in temp dirs.
os.environ.update(
    {
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PREFECT_HOME": str(SESSION_DIR / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
        "DLT_DATA_DIR": str(SESSION_DIR / "dlt"),
        "MARKET_ELT_BACKOFF_FACTOR": "0.05",
        # Each pytest-xdist worker compiles into its own target directory (relative: inside
        # whichever project a test runs, the repository's or a copy), so parallel dbt runs
        # never share a manifest or a partial-parse file.
        "DBT_TARGET_PATH": f"target-{WORKER}",
        "DBT_LOG_PATH": str(SESSION_DIR / "dbt-logs"),
    }
)

from extract.emulator.server import Emulator
from extract.settings import Settings
from flows.runtime.offline import UNLIMITED
from tests.pg_cluster import ClusterUnavailableError, start_cluster

SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "providers"


@pytest.fixture
def warehouse_dir() -> Path:
    """Where this test's DuckDB file (and the lake beside it) goes: worker_dir("warehouse"),
    emptied. dbt-duckdb keeps the last DuckDB it opened for the process (reused while the
    profile's path stays the same), so it is closed first: the last test's database is gone."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    if DuckDBConnectionManager._ENV is not None:
        DuckDBConnectionManager._ENV.close()
    DuckDBConnectionManager.close_all_connections()
    return worker_dir("warehouse")


def pytest_collection_modifyitems(items) -> None:
    """The Spark flow test first, the rest in collection order. It is the suite's longest (five
    to seven minutes on two busy cores); pytest-xdist's `worksteal` gives each worker a
    consecutive share of this list, so it starts at once on the first worker instead of being
    left for the end, where the other worker would wait idle for it."""
    items.sort(key=lambda item: not (item.get_closest_marker("spark") and item.get_closest_marker("slow")))


@pytest.fixture(scope="session")
def provider_fixtures() -> Path:
    """The real recorded provider payloads beside the project (read, never copied)."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"recorded provider payloads not found at {SHARED_FIXTURES}")
    return SHARED_FIXTURES


@pytest.fixture(scope="session")
def emulator():
    with Emulator() as running:
        yield running


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def pg_cluster():
    """One real PostgreSQL per session. Skips when none can start, except under CI=true."""
    try:
        cluster = start_cluster()
    except ClusterUnavailableError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true requires PostgreSQL tests to run: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_env(pg_cluster, monkeypatch, request) -> dict[str, str]:
    """A fresh database in the session's cluster, exported as the libpq variables."""
    import psycopg2

    name = f"t_{WORKER}"  # one name per process: see worker_dir
    environ = {**pg_cluster.environ, "PGDATABASE": name}
    admin = psycopg2.connect(**{**_libpq_kwargs(pg_cluster.environ), "dbname": "postgres"})
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'drop database if exists "{name}" with (force)')
        cursor.execute(f'create database "{name}"')
    admin.close()
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    # Postgres and DuckDB parse into target directories of their own, each kept partial.
    monkeypatch.setenv("DBT_TARGET_PATH", f"target-{WORKER}-postgres")
    return environ


def _libpq_kwargs(environ: dict[str, str]) -> dict[str, str]:
    return {
        "host": environ["PGHOST"],
        "port": environ["PGPORT"],
        "user": environ["PGUSER"],
        "password": environ["PGPASSWORD"],
        "dbname": environ["PGDATABASE"],
    }


@pytest.fixture(scope="session")
def spark_dir() -> Path:
    """The Spark warehouse directory of this test process. A process holds one SparkSession,
    whose warehouse and metastore are fixed when it starts: every Spark test of the process
    uses this directory (`spark_env` empties it first). Skips without Java or PySpark, except
    under CI=true."""
    from flows.runtime.spark import java_available

    problem = None if java_available() else "no Java runtime (apt-get install openjdk-17-jre-headless)"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        problem = "pyspark is not installed (pip install -r requirements.lock)"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true requires the Spark tests to run: {problem}")
        pytest.skip(f"Spark unavailable: {problem}")
    return SESSION_DIR / f"spark-{WORKER}"


@pytest.fixture
def spark_env(spark_dir, monkeypatch) -> Path:
    """An empty Spark warehouse (every database but `default` dropped, dlt's files removed),
    exported as MARKET_ELT_SPARK_DIR."""

    from flows.runtime.spark import session

    if spark_dir.is_dir():
        spark = session(Settings(duckdb_path=spark_dir / "unused.duckdb", dbt_target="spark", spark_root=spark_dir))
        for database in spark.catalog.listDatabases():
            if database.name != "default":
                spark.sql(f"drop database {database.name} cascade")
        for files in ("raw", "ops"):
            shutil.rmtree(spark_dir / files, ignore_errors=True)
    monkeypatch.setenv("MARKET_ELT_SPARK_DIR", str(spark_dir))
    monkeypatch.setenv("DBT_TARGET_PATH", f"target-{WORKER}-spark")
    return spark_dir


@pytest.fixture
def duckdb_settings(tmp_path, warehouse_dir, emulator) -> Settings:
    """Settings for a fresh DuckDB warehouse fed by the emulator (short history: fast tests)."""
    return offline_settings(tmp_path, warehouse_dir, emulator, dbt_target="dev")


@pytest.fixture
def postgres_settings(tmp_path, warehouse_dir, emulator, pg_env) -> Settings:
    return offline_settings(tmp_path, warehouse_dir, emulator, dbt_target="postgres")


def offline_settings(tmp_path: Path, warehouse_dir: Path, emulator: Emulator, dbt_target: str) -> Settings:
    urls = emulator.base_urls()
    return Settings(
        duckdb_path=warehouse_dir / "warehouse.duckdb",
        dbt_target=dbt_target,
        coingecko_base_url=urls["coingecko"],
        alpha_vantage_base_url=urls["alpha_vantage"],
        alpha_vantage_api_key="test-key",
        fear_greed_base_url=urls["fear_greed"],
        history_days=30,
        backoff_factor=0.05,
        budgets=UNLIMITED,
        pipelines_dir=tmp_path / "dlt",
    )
