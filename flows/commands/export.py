"""Export marts to Parquet partitioned by symbol/year/month, for analysts and other engines
(pandas, Polars, Spark, DuckDB itself) that should not need a warehouse connection.

Layout: `<out_dir>/<mart>/symbol=BTC/year=2024/month=3/data_0.parquet` (hive partitioning; the
partition columns live in the directory names, read them back with `hive_partitioning`).
Market-wide rows (observations with a NULL asset_id, e.g. the Fear & Greed index) go under
`symbol=_market`.

Why DuckDB's `COPY ... (FORMAT parquet, PARTITION_BY ...)`: one statement writes the whole
partitioned tree, on either warehouse. On DuckDB the marts are read in place. On Postgres,
DuckDB's postgres extension would have to be downloaded from DuckDB's extension site at run
time (not reachable here), so each needed table is streamed out with psycopg2's
`COPY ... TO STDOUT` (CSV, column types taken from information_schema) into an in-memory
DuckDB, and the same COPY runs there.

Why a staging directory: each mart is written to `<out_dir>/.<mart>.tmp` and swapped into
place only once complete. A rerun therefore replaces the previous export (never duplicates
it, and partitions that vanished from the warehouse vanish from the export), and a failed
run leaves the previous export intact.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from extract.settings import Settings
from flows.runtime.warehouse import postgres_connection

logger = logging.getLogger(__name__)

DEFAULT_MARTS = ("daily_bars", "daily_features", "observations")
MARKET_SYMBOL = "_market"

# The marts are written by dbt with these types; anything else travels as text.
POSTGRES_TO_DUCKDB_TYPES = {
    "smallint": "SMALLINT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "real": "FLOAT",
    "double precision": "DOUBLE",
    "numeric": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
}

EXISTING_TABLES_SQL = "select table_name from information_schema.tables where table_schema = current_schema()"

COPY_SQL = """
copy (
    select
        case
            when mart.asset_id is null then {market}
            else coalesce(assets.symbol, '_asset_' || cast(mart.asset_id as varchar))
        end as symbol,
        year(mart.date) as year,
        month(mart.date) as month,
        mart.*
    from {mart} as mart
    left join assets
        on mart.asset_id = assets.asset_id
    order by symbol, mart.date
) to {path} (format parquet, partition_by (symbol, year, month), overwrite)
"""


@dataclass
class ExportReport:
    """What one export did: rows written per mart, and why any mart was skipped."""

    out_dir: Path
    rows: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        lines = [f"exported {mart}: {n} rows -> {self.out_dir / mart}" for mart, n in self.rows.items()]
        return lines + [f"skipped {mart}: {reason}" for mart, reason in self.skipped.items()]


def export_marts(settings: Settings, out_dir: Path | str, marts: Sequence[str] = DEFAULT_MARTS) -> ExportReport:
    """Write each mart to `<out_dir>/<mart>/` as partitioned Parquet, replacing an earlier export.

    Marts missing from the warehouse (not built yet) are skipped with the reason in the report
    and a warning; a missing `assets` mart is an error, as symbols come from it."""
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    report = ExportReport(out_dir=out_dir)
    with _warehouse_as_duckdb(settings, marts) as connection:
        existing = {name for (name,) in connection.execute(EXISTING_TABLES_SQL).fetchall()}
        if "assets" not in existing:
            raise LookupError("the assets mart is missing: run `market-elt transform` first")
        for mart in marts:
            if mart not in existing:
                report.skipped[mart] = "not in the warehouse (not built yet?)"
                logger.info("export: skipping %s, not in the warehouse (not built yet?)", mart)
                continue
            report.rows[mart] = _copy_mart(connection, mart, out_dir)
    return report


def _copy_mart(connection: duckdb.DuckDBPyConnection, mart: str, out_dir: Path) -> int:
    staging, final, previous = out_dir / f".{mart}.tmp", out_dir / mart, out_dir / f".{mart}.old"
    shutil.rmtree(staging, ignore_errors=True)  # left over by a crashed run
    sql = COPY_SQL.format(
        market=_quote_literal(MARKET_SYMBOL), mart=_quote_identifier(mart), path=_quote_literal(staging)
    )
    (rows,) = connection.execute(sql).fetchone()
    shutil.rmtree(previous, ignore_errors=True)
    if final.exists():
        final.rename(previous)
    staging.rename(final)
    shutil.rmtree(previous, ignore_errors=True)
    return rows


@contextlib.contextmanager
def _warehouse_as_duckdb(settings: Settings, marts: Sequence[str]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection in which `assets` and the marts are queryable by their names."""
    if settings.destination == "postgres":
        with duckdb.connect() as connection:
            _load_from_postgres(settings, connection, ["assets", *marts])
            yield connection
        return
    if not settings.duckdb_path.exists():
        raise FileNotFoundError(f"no warehouse at {settings.duckdb_path}: run `market-elt run` first")
    # Not read_only: dbt-duckdb may hold a read-write connection to the file in this process,
    # and DuckDB refuses a second connection with a different configuration.
    with duckdb.connect(str(settings.duckdb_path)) as connection:
        yield connection


def _load_from_postgres(settings: Settings, connection: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> None:
    """Copy the existing ones among `tables` from Postgres into in-memory DuckDB tables."""
    pg_connection = postgres_connection(settings)
    with contextlib.closing(pg_connection) as pg, pg.cursor() as cursor, tempfile.TemporaryDirectory() as tmp:
        pg.set_client_encoding("UTF8")
        cursor.execute("set time zone 'UTC'")
        cursor.execute(EXISTING_TABLES_SQL)
        existing = {name for (name,) in cursor.fetchall()}
        for table in dict.fromkeys(tables):
            if table not in existing:
                continue
            cursor.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = current_schema() and table_name = %s order by ordinal_position",
                (table,),
            )
            columns = {
                name: POSTGRES_TO_DUCKDB_TYPES.get(data_type, "VARCHAR") for name, data_type in cursor.fetchall()
            }
            csv_path = Path(tmp) / f"{table}.csv"
            with csv_path.open("w", encoding="utf-8", newline="") as sink:
                cursor.copy_expert(f"copy (select * from {_quote_identifier(table)}) to stdout with (format csv)", sink)
            struct = ", ".join(f"{_quote_literal(name)}: {_quote_literal(kind)}" for name, kind in columns.items())
            # Postgres writes NULL as an empty field and an empty string as "": keep them apart.
            connection.execute(
                f"create table {_quote_identifier(table)} as select * from read_csv({_quote_literal(csv_path)},"
                f" header = false, columns = {{{struct}}}, allow_quoted_nulls = false)"
            )


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"
