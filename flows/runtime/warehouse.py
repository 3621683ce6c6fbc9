"""Queries against the configured warehouse (DuckDB file, Postgres or Spark), for the
run summary, status views and tests. Connections are closed at once: DuckDB allows one
writer, and dlt or dbt may be next. Spark's session stays (it is dbt's too: flows/runtime/spark.py)."""

from __future__ import annotations

import contextlib

import duckdb
import psycopg2

from extract.settings import Settings
from flows.runtime import spark

MARTS_SUMMARY_SQL = """
select
    a.asset_type,
    count(distinct a.asset_id) as active_assets,
    count(distinct db.asset_id) as assets_with_bars,
    max(db.date) as last_date,
    count(db.asset_id) as bars
from assets as a
left join daily_bars as db
    on a.asset_id = db.asset_id
where a.is_active
group by a.asset_type
order by a.asset_type
"""


def query(settings: Settings, sql: str) -> list[tuple]:
    return columns_and_rows(settings, sql)[1]


def postgres_connection(settings: Settings):
    """A psycopg2 connection to the Postgres warehouse of `settings`."""
    return psycopg2.connect(**settings.postgres.connect_kwargs())


def columns_and_rows(settings: Settings, sql: str) -> tuple[list[str], list[tuple]]:
    if settings.destination == "spark":
        frame = spark.query_session(settings).sql(spark.spark_sql(sql))
        return list(frame.columns), [tuple(row) for row in frame.collect()]
    if settings.destination == "postgres":
        connection = postgres_connection(settings)
        with contextlib.closing(connection), connection.cursor() as cursor:
            cursor.execute(sql)
            return [d[0] for d in cursor.description], cursor.fetchall()
    # Not read_only: dbt-duckdb keeps its own read-write connection open in this process, and
    # DuckDB refuses a second connection to the same file with a different configuration.
    with duckdb.connect(str(settings.duckdb_path)) as connection:
        cursor = connection.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()


def execute(settings: Settings, statements: list[str]) -> None:
    """Run `statements` in one transaction (on Spark, which has none, one after the other)."""
    if settings.destination == "spark":
        session = spark.query_session(settings)
        for statement in statements:
            session.sql(spark.spark_sql(statement))
        return
    if settings.destination == "postgres":
        connection = postgres_connection(settings)
        with contextlib.closing(connection), connection, connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        return
    with duckdb.connect(str(settings.duckdb_path)) as connection:
        connection.execute("begin")
        for statement in statements:
            connection.execute(statement)
        connection.execute("commit")


def table_exists(settings: Settings, schema: str, table: str) -> bool:
    if settings.destination == "spark":
        return spark.query_session(settings).catalog.tableExists(f"{schema}.{table}")
    sql = f"select count(*) from information_schema.tables where table_schema = '{schema}' and table_name = '{table}'"
    return query(settings, sql)[0][0] > 0


def marts_summary(settings: Settings, asset_types: set[str]) -> tuple[list[str], list[str]]:
    """Lines describing daily_bars per asset type, and the problems among them: active assets of
    `asset_types` (those of the run's providers) that have no bars at all."""
    lines, problems = [], []
    for asset_type, active, with_bars, last_date, bars in query(settings, MARTS_SUMMARY_SQL):
        lines.append(f"daily_bars {asset_type}: {with_bars}/{active} active assets, {bars} bars, last {last_date}")
        if with_bars < active and asset_type in asset_types:
            problems.append(f"daily_bars: {active - with_bars} active {asset_type} asset(s) have no bars")
    return lines, problems
