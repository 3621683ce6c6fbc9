"""Transform benchmark: full `dbt build` on a generated warehouse of N equities x D sessions
(default 2,000 x 3,650 = 7.3M raw bars), split by model group from dbt's run_results.json, then
an incremental daily run (one new session for every asset) as a share of the full build.

    .venv/bin/python bench/transform.py --quick                  # < 1 min: 100 assets, DuckDB
    .venv/bin/python bench/transform.py                          # 2,000 assets on DuckDB
    .venv/bin/python bench/transform.py --assets 250 1000 2000   # scaling
    .venv/bin/python bench/transform.py --postgres --assets 250  # a throwaway Postgres

`raw.alpha_vantage_daily` is written the way dlt leaves it (same columns, `_dlt_load_id`,
`_dlt_id`) straight from the generated payloads with DuckDB's read_json (the load is measured
by bench/load.py; on Postgres the rows are COPYed in). The dbt project is copied to the bench
workdir with an `assets` seed listing the generated equities; nothing in dbt_project/ changes.

Groups: staging (models/staging), bars (models/intermediate/bars), marts (models/marts),
features (models/intermediate/features + daily_features), tests (data and unit tests);
`busy s` sums node execution times (dbt runs 2 threads), `wall s` is first start to last end.
The last day of every asset is held back from the full build and appended (new load id)
before the incremental run, as the daily extract would.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from load import limit_sql

FEATURES_EXCLUDE = ["daily_features", "path:models/intermediate/features"]
GROUPS = ("staging", "bars", "marts", "features", "tests", "other")


def _group(result: dict, nodes: dict) -> str:
    unique_id = result["unique_id"]
    if unique_id.startswith(("test.", "unit_test.")):
        return "tests"
    path = nodes.get(unique_id, "")
    if "intermediate/features" in path or unique_id.endswith(".daily_features"):
        return "features"
    for group, prefix in (("staging", "staging/"), ("bars", "intermediate/bars"), ("marts", "marts/")):
        if path.startswith(prefix):
            return group
    return "other"


def split_by_group(project: Path) -> dict[str, dict]:
    from datetime import datetime

    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    nodes = {uid: node.get("original_file_path", "").removeprefix("models/") for uid, node in manifest["nodes"].items()}
    nodes |= {uid: node.get("original_file_path", "") for uid, node in manifest.get("unit_tests", {}).items()}
    groups: dict[str, dict] = {}
    for result in results:
        group = groups.setdefault(_group(result, nodes), {"nodes": 0, "busy": 0.0, "start": None, "end": None})
        group["nodes"] += 1
        group["busy"] += result.get("execution_time") or 0.0
        for timing in result.get("timing", []):
            if timing.get("started_at") and timing.get("completed_at"):
                start = datetime.fromisoformat(timing["started_at"].replace("Z", "+00:00"))
                end = datetime.fromisoformat(timing["completed_at"].replace("Z", "+00:00"))
                group["start"] = min(group["start"] or start, start)
                group["end"] = max(group["end"] or end, end)
    slowest = sorted(results, key=lambda r: -(r.get("execution_time") or 0))[:6]
    out = {
        name: {
            "nodes": g["nodes"],
            "busy_s": round(g["busy"], 1),
            "wall_s": round((g["end"] - g["start"]).total_seconds(), 1) if g["start"] else 0.0,
        }
        for name, g in groups.items()
    }
    out["_slowest"] = [(r["unique_id"].split(".")[-1], round(r.get("execution_time") or 0, 1)) for r in slowest]
    return out


# ---------------------------------------------------------------- raw data


def build_raw_duckdb(duckdb_path: str, payloads: str, n: int) -> int:
    import duckdb

    with duckdb.connect(duckdb_path) as con:
        con.execute("create schema if not exists raw")
        con.execute(limit_sql(payloads, n))
        con.execute(
            "create or replace table raw.alpha_vantage_daily as select *, cast(null as varchar) as _5_volume, "
            "'1700000000.0' as _dlt_load_id, "
            "cast(uuid() as varchar) as _dlt_id from raw.alpha_vantage_daily_limit order by symbol, date"
        )
        con.execute("drop table raw.alpha_vantage_daily_limit")
        con.execute(
            "create table raw.held_back as select * from raw.alpha_vantage_daily "
            "where date = (select max(date) from raw.alpha_vantage_daily)"
        )
        con.execute("delete from raw.alpha_vantage_daily where date = (select max(date) from raw.alpha_vantage_daily)")
        return con.execute("select count(*) from raw.alpha_vantage_daily").fetchone()[0]


def copy_raw_to_postgres(duckdb_path: str, pg_env: dict, workdir: str) -> None:
    import os

    import duckdb

    os.environ.update(pg_env)
    from flows.runtime.warehouse import postgres_connection

    connection = postgres_connection()
    with duckdb.connect(duckdb_path) as con, connection, connection.cursor() as cursor:
        cursor.execute("create schema if not exists raw")
        for table in ("alpha_vantage_daily", "held_back"):
            columns = con.execute(f"describe raw.{table}").fetchall()
            ddl = ", ".join(f'"{name}" {"date" if kind == "DATE" else "text"}' for name, kind, *_ in columns)
            cursor.execute(f"drop table if exists raw.{table}; create table raw.{table} ({ddl})")
            csv_path = Path(workdir) / f"{table}.csv"
            con.execute(f"copy raw.{table} to '{csv_path}' (header false)")
            with csv_path.open() as handle:
                cursor.copy_expert(f"copy raw.{table} from stdin with (format csv)", handle)
            csv_path.unlink()
        cursor.execute("analyze raw.alpha_vantage_daily")
    connection.close()


def append_held_back(settings_target: str, duckdb_path: str, pg_env: dict | None) -> None:
    sql = (
        "insert into raw.alpha_vantage_daily select * from raw.held_back; "
        "update raw.alpha_vantage_daily set _dlt_load_id = '1700086400.0' "
        "where date = (select max(date) from raw.held_back)"
    )
    if settings_target == "postgres":
        import os

        os.environ.update(pg_env or {})
        from flows.runtime.warehouse import postgres_connection

        connection = postgres_connection()
        with connection, connection.cursor() as cursor:
            cursor.execute(sql)
        connection.close()
    else:
        import duckdb

        with duckdb.connect(duckdb_path) as con:
            con.execute(sql)


# ---------------------------------------------------------------- dbt (child process)


def dbt_step(project: str, duckdb_path: str, target: str, pg_env: dict | None, command: list[str]) -> dict:
    import os

    os.environ.update(pg_env or {})
    os.environ["DUCKDB_PATH"], os.environ["DBT_TARGET"] = duckdb_path, target
    from dbt.cli.main import dbtRunner

    args = [*command, "--project-dir", project, "--profiles-dir", str(common.ROOT), "--target", target, "--quiet"]
    result = dbtRunner().invoke(args)
    failed = [
        f"{r.node.name}: {(r.message or '')[:200]}"
        for r in (getattr(result.result, "results", None) or [])
        if str(r.status).lower() in ("error", "runtime error")
    ]
    groups = split_by_group(Path(project)) if command[0] in ("build", "run", "test") else {}
    if not result.success and (failed or result.exception):
        return {"ok": False, "failed": failed[:5], "exception": str(result.exception)[:300], "groups": groups}
    return {"ok": True, "groups": groups}


def run_scale(n: int, args, cluster) -> list[dict]:
    now = common.bench_now()
    payloads = common.payload_dir(n, args.days, now)
    project = common.bench_project(n)
    results = []
    for target in ["postgres"] if args.postgres else ["dev"]:
        workdir = common.fresh_dir(f"transform-{target}-{n}")
        duckdb_path = str(workdir / "warehouse.duckdb")
        started = time.perf_counter()
        rows = build_raw_duckdb(duckdb_path, str(payloads), n)
        pg_env, datadir = None, None
        if target == "postgres":
            pg_env = common.recreate_database(cluster, f"bench_transform_{n}")
            copy_raw_to_postgres(duckdb_path, pg_env, str(workdir))
            datadir = str(cluster.datadir)
        print(f"  {target} n={n}: raw {rows} rows written in {time.perf_counter() - started:.0f} s", flush=True)

        def step(command, duckdb_path=duckdb_path, target=target, pg_env=pg_env, datadir=datadir):
            return common.measure(dbt_step, str(project), duckdb_path, target, pg_env, command, pg_datadir=datadir)

        seed = step(["seed", "--full-refresh"])
        exclude = [] if args.features else ["--exclude", *FEATURES_EXCLUDE]
        fulls = []
        for repeat in range(args.repeat):
            full = step(["build", "--full-refresh", *exclude])
            if not full["detail"]["ok"] and not exclude:
                print(f"  build with features failed ({full['detail']['failed']}); excluding {FEATURES_EXCLUDE}")
                exclude = ["--exclude", *FEATURES_EXCLUDE]
                full = step(["build", "--full-refresh", *exclude])
            if not full["detail"]["ok"]:
                raise RuntimeError(f"dbt build failed: {full['detail']}")
            publish = step(["run-operation", "publish_marts"])
            fulls.append((full, publish))
            print(
                f"  {target} n={n} full build {repeat + 1}: {full['seconds']:.1f} s "
                f"(publish {publish['seconds']:.1f} s), "
                f"peak RSS {full['peak_rss_mib']:.0f} MiB"
                + (f", server {full.get('server_peak_rss_mib', 0):.0f} MiB" if datadir else "")
                + f"  {json.dumps(full['detail']['groups'])}",
                flush=True,
            )
        append_held_back(target, duckdb_path, pg_env)
        incremental = step(["build", *exclude])
        if not incremental["detail"]["ok"]:
            raise RuntimeError(f"incremental dbt build failed: {incremental['detail']}")
        inc_publish = step(["run-operation", "publish_marts"])
        groups = json.dumps(incremental["detail"]["groups"])
        print(f"  {target} n={n} incremental: {incremental['seconds']:.1f} s  {groups}")
        full_s = common.median([f["seconds"] + p["seconds"] for f, p in fulls])
        median_run = sorted(fulls, key=lambda fp: fp[0]["seconds"])[len(fulls) // 2][0]
        results.append(
            {
                "target": target,
                "assets": n,
                "raw_rows": rows,
                "features": not exclude,
                "seed_s": round(seed["seconds"], 1),
                "full_s": round(full_s, 1),
                "groups": median_run["detail"]["groups"],
                "incremental_s": round(incremental["seconds"] + inc_publish["seconds"], 1),
                "incremental_groups": incremental["detail"]["groups"],
                "peak_rss_mib": max(f["peak_rss_mib"] for f, _ in fulls),
                "server_peak_rss_mib": max((f.get("server_peak_rss_mib", 0) for f, _ in fulls), default=0),
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 assets, 1 repeat: under a minute")
    parser.add_argument("--assets", type=int, nargs="+", help="asset counts (default 2000)")
    parser.add_argument("--days", type=int, default=3650, help="sessions per asset (default 3650)")
    parser.add_argument("--repeat", type=int, default=None, help="full builds per scale; median reported (default 3)")
    parser.add_argument("--postgres", action="store_true", help="a throwaway Postgres instead of DuckDB")
    parser.add_argument(
        "--no-features", dest="features", action="store_false", help=f"exclude {' '.join(FEATURES_EXCLUDE)}"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    if args.quick:
        args.assets, args.repeat = args.assets or [100], args.repeat or 1
    args.assets, args.repeat = args.assets or [2000], args.repeat or 3
    results = common.run_scales(args, run_scale)
    rows = []
    for r in results:

        def cell(name, g=r["groups"]):
            return f"{g[name]['wall_s']} / {g[name]['busy_s']}" if name in g else "-"

        rows.append(
            [
                r["target"],
                r["assets"],
                r["raw_rows"],
                r["seed_s"],
                r["full_s"],
                *map(cell, GROUPS[:-1]),
                r["incremental_s"],
                f"{r['incremental_s'] / r['full_s']:.0%}",
                r["peak_rss_mib"],
                r["server_peak_rss_mib"] or "",
            ]
        )
    print()
    print(
        common.table(
            rows,
            [
                "target",
                "assets",
                "raw rows",
                "seed s",
                "full build+publish s",
                "staging wall/busy",
                "bars",
                "marts",
                "features",
                "tests",
                "incremental s",
                "incr/full",
                "peak RSS MiB",
                "server MiB",
            ],
        )
    )
    for r in results:
        print(f"  slowest nodes {r['target']} n={r['assets']}: {r['groups'].get('_slowest')}")
    if len(args.assets) > 1:
        per_thousand = [f"{r['target']} {r['assets']}: {r['full_s'] / r['assets'] * 1000:.1f}" for r in results]
        print("\nscaling (full build s per 1,000 assets): " + ", ".join(per_thousand))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
