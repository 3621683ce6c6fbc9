"""Transform benchmark: the product's transform (the daily flow without extraction: dbt seed and
run, dbt test, the gate, publish, source freshness) on a warehouse whose `raw` holds N generated
equities x D sessions (default 2,000 x 3,650 = 7.3M bars), first as the full build from a
raw-loaded warehouse, then as the daily run after one new session for every asset.

    .venv/bin/python bench/transform.py --quick                        # < 2 min: 100 assets, DuckDB
    .venv/bin/python bench/transform.py --targets duckdb postgres      # 2,000 assets, both engines
    .venv/bin/python bench/transform.py --targets duckdb spark --assets 250 --repeat 1   # Spark beside DuckDB
    .venv/bin/python bench/transform.py --assets 250 1000 --repeat 1   # scaling
    .venv/bin/python bench/transform.py --json results.json            # also writes the figures as JSON

`raw.alpha_vantage_daily` is written the way dlt leaves it (same columns, `_dlt_load_id`,
`_dlt_id`, the load recorded in `raw._dlt_loads`) straight from the generated payloads with
DuckDB's read_json (the load is measured by bench/load.py; on Postgres the rows are COPYed in).
The dbt project is copied to the bench workdir with an `assets` seed listing the generated
equities; nothing in dbt_project/ changes. The last session of every asset is held back from
the full build and appended under a new load before the daily run, as the daily extract would.

Each measured run is `flows.daily.daily(providers=[])` in a fresh process whose Prefect API was
started beforehand (its start-up is a process's, not a run's): `full` is the first run on the
raw-loaded warehouse, `daily` the run after the new session, each repeated from a copy of the
warehouse it started from (DuckDB: the file; Postgres: `create database ... template`), medians
reported. Per dbt step the seconds are the product's own (flows/runtime/dbt.py), and per node
group dbt's own node times: staging, bars (models/intermediate/bars, observations, snapshots),
marts, features (models/intermediate/features + daily_features), tests.

`--json FILE` writes `{"duckdb": {"full_s": ..., "daily_s": ...}, "postgres": {...}}` (the median
seconds of the largest asset count run), with the details under `"runs"`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from load import limit_sql

GROUPS = ("staging", "bars", "marts", "features", "tests", "other")
# dlt's load ids are the load's Unix time: the first load an hour ago, the next day's just now
# (source freshness judges them by that).
FIRST_LOAD, NEXT_LOAD = f"{time.time() - 3600:.6f}", f"{time.time() - 60:.6f}"


def _group(unique_id: str, path: str) -> str:
    if unique_id.startswith(("test.", "unit_test.")):
        return "tests"
    if "intermediate/features" in path or unique_id.endswith(".daily_features"):
        return "features"
    if path.startswith("models/staging/"):
        return "staging"
    if path.startswith("models/intermediate/"):
        return "bars"
    if path.startswith("models/marts/"):
        return "marts"
    return "other"


# ---------------------------------------------------------------- raw data


def _dlt_loads_ddl(text: str) -> str:
    return (
        f"create table raw._dlt_loads (load_id {text}, schema_name {text}, status bigint, "
        f"inserted_at timestamp, schema_version_hash {text})"
    )


def build_raw_duckdb(duckdb_path: str, payloads: str, n: int) -> int:
    """raw.alpha_vantage_daily from the payloads, its last session held back in raw.held_back."""
    import duckdb

    with duckdb.connect(duckdb_path) as con:
        con.execute("create schema if not exists raw")
        con.execute(limit_sql(payloads, n))
        con.execute(
            "create or replace table raw.alpha_vantage_daily as select *, cast(null as varchar) as _5_volume, "
            f"'{FIRST_LOAD}' as _dlt_load_id, "
            "cast(uuid() as varchar) as _dlt_id from raw.alpha_vantage_daily_limit order by symbol, date"
        )
        con.execute("drop table raw.alpha_vantage_daily_limit")
        con.execute(
            "create table raw.held_back as select * from raw.alpha_vantage_daily "
            "where date = (select max(date) from raw.alpha_vantage_daily)"
        )
        con.execute("delete from raw.alpha_vantage_daily where date = (select max(date) from raw.alpha_vantage_daily)")
        con.execute(_dlt_loads_ddl("varchar"))
        con.execute(f"insert into raw._dlt_loads values ('{FIRST_LOAD}', 'alpha_vantage', 0, now(), 'bench')")
        return con.execute("select count(*) from raw.alpha_vantage_daily").fetchone()[0]


def copy_raw_to_postgres(duckdb_path: str, pg_env: dict, workdir: str) -> None:
    import duckdb

    connection = _pg_connect(pg_env)
    with duckdb.connect(duckdb_path) as con, connection, connection.cursor() as cursor:
        cursor.execute("create schema if not exists raw")
        for table in ("alpha_vantage_daily", "held_back", "_dlt_loads"):
            columns = con.execute(f"describe raw.{table}").fetchall()
            types = {"DATE": "date", "TIMESTAMP WITH TIME ZONE": "timestamp", "BIGINT": "bigint"}
            ddl = ", ".join(f'"{name}" {types.get(kind, "text")}' for name, kind, *_ in columns)
            cursor.execute(f"drop table if exists raw.{table}; create table raw.{table} ({ddl})")
            csv_path = Path(workdir) / f"{table}.csv"
            con.execute(f"copy raw.{table} to '{csv_path}' (header false)")
            with csv_path.open() as handle:
                cursor.copy_expert(f"copy raw.{table} from stdin with (format csv)", handle)
            csv_path.unlink()
        cursor.execute("analyze raw.alpha_vantage_daily")
    connection.close()


def append_held_back(target: str, duckdb_path: str, pg_env: dict | None) -> None:
    """The next session of every asset, as the daily extract loads it: a new load id, recorded."""
    statements = [
        "insert into raw.alpha_vantage_daily select * from raw.held_back",
        f"update raw.alpha_vantage_daily set _dlt_load_id = '{NEXT_LOAD}' "
        "where date = (select max(date) from raw.held_back)",
        f"insert into raw._dlt_loads values ('{NEXT_LOAD}', 'alpha_vantage', 0, current_timestamp, 'bench')",
    ]
    if target == "postgres":
        connection = _pg_connect(pg_env)
        with connection, connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        connection.close()
        return
    import duckdb

    with duckdb.connect(duckdb_path) as con:
        for statement in statements:
            con.execute(statement)


def export_raw_to_spark(duckdb_path: str, spark_dir: Path) -> None:
    """raw as dlt's filesystem destination leaves it for Spark: the table's Parquet file, the load
    in _dlt_loads, and the schema (the table, its merge keys, data seen) in _dlt_version."""
    import duckdb

    raw = spark_dir / "raw"
    for table in ("alpha_vantage_daily", "_dlt_loads", "_dlt_version"):
        (raw / table).mkdir(parents=True, exist_ok=True)
    with duckdb.connect(duckdb_path) as con:
        target = raw / "alpha_vantage_daily" / f"{FIRST_LOAD}.bench.parquet"
        con.execute(f"copy raw.alpha_vantage_daily to '{target}' (format parquet)")
        names = [row[0] for row in con.execute("describe raw.alpha_vantage_daily").fetchall()]
    columns = {name: {"name": name, "primary_key": name in ("symbol", "date")} for name in names}
    table = {"name": "alpha_vantage_daily", "write_disposition": "merge", "columns": columns}
    schema = {
        "name": "alpha_vantage",
        "tables": {"alpha_vantage_daily": {**table, "x-normalizer": {"seen-data": True}}},
    }
    version = {
        "version": 1,
        "schema_name": "alpha_vantage",
        "inserted_at": "2026-01-01T00:00:00",
        "schema": json.dumps(schema),
    }
    (raw / "_dlt_version" / "alpha_vantage__bench.jsonl").write_text(json.dumps(version) + "\n")
    _record_load_spark(spark_dir, FIRST_LOAD)


def _record_load_spark(spark_dir: Path, load_id: str) -> None:
    load = {"load_id": load_id, "schema_name": "alpha_vantage", "status": 0, "inserted_at": "2026-01-01T00:00:00"}
    (spark_dir / "raw" / "_dlt_loads" / f"alpha_vantage__{load_id}.jsonl").write_text(json.dumps(load) + "\n")


def append_held_back_spark(duckdb_path: str, spark_dir: Path) -> None:
    """The next session of every asset as a new load's Parquet file (dlt's filesystem destination appends)."""
    import duckdb

    target = spark_dir / "raw" / "alpha_vantage_daily" / f"{NEXT_LOAD}.bench.parquet"
    with duckdb.connect(duckdb_path) as con:
        con.execute(
            f"copy (select * replace ('{NEXT_LOAD}' as _dlt_load_id) from raw.held_back) to '{target}' (format parquet)"
        )
    _record_load_spark(spark_dir, NEXT_LOAD)


def _pg_connect(pg_env: dict):
    import psycopg2

    return psycopg2.connect(
        host=pg_env["PGHOST"],
        port=pg_env["PGPORT"],
        user=pg_env["PGUSER"],
        password=pg_env["PGPASSWORD"],
        dbname=pg_env["PGDATABASE"],
    )


# ---------------------------------------------------------------- the measured run (child process)


def transform_run(project: str, duckdb_path: str, target: str, pg_env: dict | None) -> dict:
    """One transform-only daily run of the product, timed after Prefect's API is up. On Spark the
    JVM's peak RSS (VmHWM) is reported too: it is not the measured process's own."""
    os.environ.update(pg_env or {})
    if target == "spark":
        os.environ["MARKET_ELT_SPARK_DIR"] = str(Path(duckdb_path).parent / "spark")
    os.environ.update(
        {
            "DUCKDB_PATH": duckdb_path,
            "DBT_TARGET": target,
            "MARKET_ELT_DBT_PROJECT_DIR": project,
            "PREFECT_HOME": tempfile.mkdtemp(prefix="bench-prefect-"),
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
    )
    from prefect import flow

    from flows.daily import daily

    @flow
    def warm_up() -> None:
        """Starts Prefect's API (and its database) before the measured run."""

    warm_up()
    started = time.perf_counter()
    summary = daily(providers=[])
    seconds = time.perf_counter() - started
    manifest = json.loads((Path(project) / os.environ.get("DBT_TARGET_PATH", "target") / "manifest.json").read_text())
    paths = {uid: node.get("original_file_path", "") for uid, node in manifest["nodes"].items()}
    paths |= {uid: node.get("original_file_path", "") for uid, node in manifest.get("unit_tests", {}).items()}
    groups: dict[str, float] = {}
    nodes: dict[str, float] = {}
    for step in summary.dbt:
        for unique_id, node_seconds in step.node_seconds.items():
            group = _group(unique_id, paths.get(unique_id, ""))
            groups[group] = groups.get(group, 0.0) + node_seconds
            nodes[unique_id] = nodes.get(unique_id, 0.0) + node_seconds
    jvm_peak_rss_mib = None
    if target == "spark":
        from pyspark import SparkContext

        status = Path(f"/proc/{SparkContext._gateway.proc.pid}/status").read_text()
        jvm_peak_rss_mib = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024
    return {
        "ok": summary.ok,
        "seconds": seconds,
        "jvm_peak_rss_mib": jvm_peak_rss_mib,
        "steps": {step.short_line().split(" ")[0]: round(step.seconds, 2) for step in summary.dbt},
        "busy_s": {name: round(value, 1) for name, value in groups.items()},
        "slowest": [(uid.split(".")[-1], round(s, 2)) for uid, s in sorted(nodes.items(), key=lambda kv: -kv[1])[:8]],
        "errors": summary.errors[:3],
    }


# ---------------------------------------------------------------- one engine at one scale


class Snapshots:
    """Copies of a warehouse to restart repeats from: DuckDB files, or Postgres template databases."""

    def __init__(self, target: str, cluster, workdir: Path, n: int) -> None:
        self.target, self.cluster, self.workdir, self.n = target, cluster, workdir, n

    def save(self, name: str, duckdb_path: Path, pg_env: dict | None) -> None:
        if self.target == "spark":
            shutil.rmtree(self.workdir / f"{name}-spark", ignore_errors=True)
            shutil.copytree(duckdb_path.parent / "spark", self.workdir / f"{name}-spark")
        elif self.target == "postgres":
            self._clone(pg_env["PGDATABASE"], f"bench_{name}_{self.n}")
        else:
            shutil.copy(duckdb_path, self.workdir / f"{name}.duckdb")

    def restore(self, name: str, duckdb_path: Path, pg_env: dict | None) -> None:
        if self.target == "spark":
            shutil.rmtree(duckdb_path.parent / "spark", ignore_errors=True)
            shutil.copytree(self.workdir / f"{name}-spark", duckdb_path.parent / "spark")
        elif self.target == "postgres":
            self._clone(f"bench_{name}_{self.n}", pg_env["PGDATABASE"])
            # A copy keeps the planner statistics but not when they were taken: analysed again, as
            # the original was, or the run's analyze_raw hook would count an ANALYZE of raw in.
            connection = _pg_connect(pg_env)
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("select table_name from information_schema.tables where table_schema = 'raw'")
                for (table,) in cursor.fetchall():
                    cursor.execute(f'analyze raw."{table}"')
            connection.close()
        else:
            shutil.copy(self.workdir / f"{name}.duckdb", duckdb_path)

    def _clone(self, source: str, destination: str) -> None:
        import psycopg2

        env = self.cluster.environ
        admin = psycopg2.connect(
            host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"], password=env["PGPASSWORD"], dbname="postgres"
        )
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'drop database if exists "{destination}"')
            cursor.execute(f'create database "{destination}" template "{source}"')
        admin.close()


def run_target(n: int, target: str, args, cluster) -> dict:
    payloads = common.payload_dir(n, args.days, common.bench_now())
    project = common.bench_project(n)
    workdir = common.fresh_dir(f"transform-{target}-{n}")
    duckdb_path = workdir / "warehouse.duckdb"
    started = time.perf_counter()
    rows = build_raw_duckdb(str(duckdb_path), str(payloads), n)
    dbt_target = {"postgres": "postgres", "spark": "spark"}.get(target, "dev")
    pg_env, datadir = None, None
    if target == "spark":
        export_raw_to_spark(str(duckdb_path), workdir / "spark")
    if target == "postgres":
        pg_env = common.recreate_database(cluster, f"bench_transform_{n}")
        copy_raw_to_postgres(str(duckdb_path), pg_env, str(workdir))
        datadir = str(cluster.datadir)
    print(f"  {target} n={n}: raw {rows:,} rows written in {time.perf_counter() - started:.0f} s", flush=True)
    snapshots = Snapshots(target, cluster, workdir, n)
    snapshots.save("raw", duckdb_path, pg_env)

    def measured(label: str, repeat: int) -> dict:
        run = common.measure(transform_run, str(project), str(duckdb_path), dbt_target, pg_env, pg_datadir=datadir)
        detail = run["detail"]
        if not detail["ok"]:
            raise RuntimeError(f"{label} run failed: {detail['errors']}")
        print(
            f"  {target} n={n} {label} {repeat + 1}: {detail['seconds']:.1f} s {detail['steps']} "
            f"busy {detail['busy_s']}, peak RSS {run['peak_rss_mib']:.0f} MiB"
            + (f", server {run.get('server_peak_rss_mib', 0):.0f} MiB" if datadir else "")
            + (f", JVM {detail['jvm_peak_rss_mib']:.0f} MiB" if detail.get("jvm_peak_rss_mib") else ""),
            flush=True,
        )
        return {**detail, "peak_rss_mib": run["peak_rss_mib"], "server_peak_rss_mib": run.get("server_peak_rss_mib")}

    fulls, dailies = [], []
    for repeat in range(args.repeat):
        snapshots.restore("raw", duckdb_path, pg_env)
        fulls.append(measured("full", repeat))
    snapshots.save("built", duckdb_path, pg_env)
    for repeat in range(args.repeat):
        snapshots.restore("built", duckdb_path, pg_env)
        if target == "spark":
            append_held_back_spark(str(duckdb_path), workdir / "spark")
        else:
            append_held_back(target, str(duckdb_path), pg_env)
        dailies.append(measured("daily", repeat))
    median_full = sorted(fulls, key=lambda r: r["seconds"])[len(fulls) // 2]
    median_daily = sorted(dailies, key=lambda r: r["seconds"])[len(dailies) // 2]
    return {
        "target": target,
        "assets": n,
        "raw_rows": rows,
        "full_s": round(median_full["seconds"], 1),
        "daily_s": round(median_daily["seconds"], 1),
        "full_runs_s": [round(r["seconds"], 1) for r in fulls],
        "daily_runs_s": [round(r["seconds"], 1) for r in dailies],
        "full": median_full,
        "daily": median_daily,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 assets, 1 repeat, DuckDB: under 2 minutes")
    parser.add_argument("--assets", type=int, nargs="+", help="asset counts (default 2000)")
    parser.add_argument("--days", type=int, default=3650, help="sessions per asset (default 3650)")
    parser.add_argument("--repeat", type=int, default=None, help="runs per measurement; median reported (default 3)")
    parser.add_argument("--targets", nargs="+", choices=("duckdb", "postgres", "spark"), help="default: duckdb")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    if args.quick:
        args.assets, args.repeat = args.assets or [100], args.repeat or 1
    args.assets, args.repeat = args.assets or [2000], args.repeat or 3
    args.targets = args.targets or ["duckdb"]
    args.postgres = "postgres" in args.targets
    print(f"load average before: {os.getloadavg()}")

    def run_scale(n, args, cluster):
        return [run_target(n, target, args, cluster) for target in args.targets]

    results = common.run_scales(args, run_scale)
    print(f"load average after: {os.getloadavg()}")
    rows = [
        [
            r["target"],
            r["assets"],
            r["raw_rows"],
            r["full_s"],
            r["daily_s"],
            f"{r['daily_s'] / r['full_s']:.1%}",
            *[f"{r['full']['busy_s'].get(g, 0)} / {r['daily']['busy_s'].get(g, 0)}" for g in GROUPS[:-1]],
            r["full"]["peak_rss_mib"],
        ]
        for r in results
    ]
    header = ["target", "assets", "raw rows", "full s", "daily s", "daily/full", *[f"{g} busy" for g in GROUPS[:-1]]]
    print()
    print(common.table(rows, [*header, "peak RSS MiB"]))
    for r in results:
        print(f"  slowest nodes {r['target']} n={r['assets']} full: {r['full']['slowest']}")
        print(f"  slowest nodes {r['target']} n={r['assets']} daily: {r['daily']['slowest']}")
    if args.json:
        largest = max(args.assets)
        largest_runs = [r for r in results if r["assets"] == largest]
        figures = {r["target"]: {"full_s": r["full_s"], "daily_s": r["daily_s"]} for r in largest_runs}
        args.json.write_text(json.dumps({**figures, "runs": results}, indent=2, default=str))


if __name__ == "__main__":
    main()
