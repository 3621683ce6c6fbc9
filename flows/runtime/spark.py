"""The Spark warehouse (DBT_TARGET=spark) for the flows' own queries: the same SparkSession
dbt-spark's session method uses. dbt-spark builds it from profiles.yml's `spark` output
(`server_side_parameters`), so this module renders those parameters from the same file with the
run's settings instead of repeating them; in one process both get the one session Spark keeps
(`getOrCreate`), and its metastore is an embedded Derby database that one process opens at a time.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import jinja2
import yaml

from extract.settings import PROJECT_ROOT, Settings

PROFILES = PROJECT_ROOT / "profiles.yml"
# The type names the project's SQL uses that Spark does not parse, and Spark's own: the same
# renaming as dbt's statements get (dbt_project/macros/dialect/engine_sql.sql).
SPARK_TYPES = (
    (re.compile(r"(?i)\bdouble precision\b"), "double"),
    (re.compile(r"(?i)\btimestamp with time zone\b|\btimestamptz\b"), "timestamp"),
    (re.compile(r"(?i)(?:(?<=\bas )|(?<=::))text\b"), "string"),
)
# Files dlt writes beside `raw` that the flows query as tables: ops.run_log (flows/runtime/runlog.py).
FILE_TABLES = {"ops": ("run_log",)}


def environ(settings: Settings) -> dict[str, str]:
    """The variables profiles.yml's `spark` output reads."""
    return {"SPARK_MASTER": settings.spark_master, "MARKET_ELT_SPARK_DIR": str(settings.spark_dir)}


def session_parameters(settings: Settings) -> dict[str, str]:
    """profiles.yml's Spark configuration rendered for `settings`, plus what dbt-spark adds
    (ANSI mode off: dbt-spark's models are written for it)."""
    variables = environ(settings)
    output = yaml.safe_load(PROFILES.read_text())["market_elt"]["outputs"]["spark"]
    parameters = {
        str(name): jinja2.Template(str(value)).render(env_var=lambda key, default=None: variables.get(key, default))
        for name, value in output["server_side_parameters"].items()
    }
    return parameters | {"spark.sql.ansi.enabled": "false"}


def session(settings: Settings):
    """The process's SparkSession on the warehouse of `settings` (started on first use, ~10 s)."""
    from pyspark.sql import SparkSession  # the optional `spark` extra

    Path(settings.spark_dir).mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for name, value in session_parameters(settings).items():
        builder = builder.config(name, value)
    return builder.getOrCreate()


def spark_sql(sql: str) -> str:
    """`sql` with Spark's type names."""
    for pattern, name in SPARK_TYPES:
        sql = pattern.sub(name, sql)
    return sql


def query_session(settings: Settings):
    """The session for the flows' queries: current database the target schema (`main`, where
    the marts are published, as on DuckDB), dlt's Parquet tables outside `raw` (the run log)
    as views. dbt's `raw` views are declared by its on-run-start hook."""
    spark = session(settings)
    if not spark.catalog.databaseExists("main"):
        spark.sql("create database main")
    spark.catalog.setCurrentDatabase("main")
    for dataset, tables in FILE_TABLES.items():
        for table in tables:
            files = Path(settings.spark_dir) / dataset / table
            if files.is_dir() and not spark.catalog.tableExists(f"{dataset}.{table}"):
                # a view over the directory: each query lists its files, so later loads are read too
                spark.sql(f"create database if not exists {dataset}")
                spark.sql(f"create view {dataset}.{table} as select * from parquet.`{files}`")
    return spark


@functools.cache
def java_available() -> bool:
    """Whether a Java runtime is there for Spark to start (PySpark launches `java`)."""
    import shutil

    return shutil.which("java") is not None
