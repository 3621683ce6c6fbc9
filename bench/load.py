"""Load benchmark: extract + load Alpha Vantage daily bars from the emulator into `raw` with dlt,
against DuckDB's own `read_json` of the same payloads (the limit).

    .venv/bin/python bench/load.py --quick                 # < 1 min: 100 assets x 3,650 days
    .venv/bin/python bench/load.py                         # 2,000 assets x 3,650 days (7.3M bars)
    .venv/bin/python bench/load.py --assets 250 1000 2000  # scaling
    .venv/bin/python bench/load.py --postgres --assets 250 # the same on a throwaway Postgres
    .venv/bin/python bench/load.py --minute-backfill       # Alpaca 1Min, 100 symbols x 1 year into the lake

The emulator serves pre-generated `outputsize=full` payloads (one file per symbol, generated
once into $BENCH_WORKDIR, default /tmp/market-elt-bench) from its own process, without rate
limits. Every measured step runs in a fresh process: wall time and that process's peak RSS
(for Postgres also the server's summed RSS). Variants:

- `dlt`: the product (`extract.pipeline.extract_provider` on the generated symbols): one Arrow
  table per symbol, parquet files on DuckDB, CSV and COPY on Postgres, merged into `raw`.
- `limit`: DuckDB `read_json` of the payload files into a table (Postgres: the same, then COPY).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

from extract.alpha_vantage.settings import ADJUSTED_FIELDS as AV_FIELDS

# ---------------------------------------------------------------- measured steps (child processes)


def minute_backfill(n: int, urls: dict, workdir: str, now_iso: str, days: int) -> dict:
    """The product's streamed minute backfill (extract.alpaca.intraday) of `n` symbols over
    `days` calendar days into a fresh lake, without a call budget (the emulator's own process
    generates and encodes the minutes)."""
    from extract.alpaca.intraday import backfill_lake
    from extract.backfill import Backfill

    now = dt.datetime.fromisoformat(now_iso)
    settings = common.settings_for(
        urls, Path(workdir) / "warehouse.duckdb", alpaca_base_url=urls["alpaca"],
        alpaca_api_key_id="plus-key-id", alpaca_api_secret_key="plus-secret", alpaca_plan="plus",
    )  # fmt: skip
    window = Backfill(now.date() - dt.timedelta(days=days), now.date() - dt.timedelta(days=1))
    result = backfill_lake(_symbols(n), settings, "1Min", window, now=now)
    if result.report.failures:
        raise RuntimeError(f"minute backfill failed: {result.report.failures}")
    return {"rows": result.bars, "calls": result.report.calls, "bars_per_s": round(result.bars_per_second)}


def run_minute_backfill(args) -> None:
    n = args.assets[0] if args.assets else 100
    now = common.bench_now()
    runs = []
    for repeat in range(args.repeat or 1):
        workdir = common.fresh_dir(f"minute-backfill-{n}")
        emulator = common.EmulatorProcess(None, n, 400, now)
        with emulator as urls:
            result = common.measure(minute_backfill, n, urls, str(workdir), now.isoformat(), 365)
        runs.append(result)
        print(
            f"  minute backfill n={n} run {repeat + 1}: {result['seconds']:.1f} s, {result['detail']['rows']:,} bars,"
            f" {result['detail']['rows'] / result['seconds']:,.0f} bars/s, peak RSS {result['peak_rss_mib']:.0f} MiB,"
            f" CPU {result['cpu_seconds']:.1f} s, emulator CPU {emulator.stats['cpu_seconds']:.1f} s,"
            f" {result['detail']['calls']} calls",
            flush=True,
        )
    seconds = common.median([r["seconds"] for r in runs])
    rows = runs[-1]["detail"]["rows"]
    print(
        f"median {seconds:.1f} s: {rows / seconds:,.0f} bars/s; peak RSS {max(r['peak_rss_mib'] for r in runs):.0f} MiB"
    )
    if args.json:
        args.json.write_text(json.dumps({"minute_backfill": {"symbols": n, "rows": rows, "median_s": seconds,
                                         "peak_rss_mib": max(r["peak_rss_mib"] for r in runs)}}, indent=2))  # fmt: skip


def _symbols(n: int) -> list[str]:
    from extract.emulator.universe import equity_symbol

    return [equity_symbol(i) for i in range(1, n + 1)]


def dlt_load(
    n: int,
    urls: dict,
    workdir: str,
    target: str,
    pg_env: dict | None,
    now_iso: str,
    profile: str = "",
) -> dict:
    import os

    if pg_env:
        os.environ.update(pg_env)
    from extract.pipeline import extract_provider

    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    profiler = common.py_spy(os.getpid(), Path(profile), 600) if profile else None
    settings = common.settings_for(urls, Path(workdir) / "warehouse.duckdb", target)
    with common.StepTimes() as times:
        report = extract_provider("alpha_vantage", settings, now=dt.datetime.fromisoformat(now_iso), assets=_symbols(n))
    steps = {step: round(seconds, 1) for step, seconds in times.seconds.items()}
    if profiler:
        profiler.send_signal(2)
        profiler.wait(timeout=60)
    if report.failures:
        raise RuntimeError(f"failures: {list(report.failures.items())[:3]}")
    return {"rows": report.rows, "steps": steps, "calls": report.calls}


LIMIT_SQL = """
create or replace table raw.alpha_vantage_daily_limit as
select meta."2. Symbol" as symbol, cast(e.key as date) as date, 'TIME_SERIES_DAILY_ADJUSTED' as function,
    meta."3. Last Refreshed" as last_refreshed, {fields}
from (
    select "Meta Data" as meta, unnest(map_entries("Time Series (Daily)")) as e
    from read_json({files}, columns = {{
        'Meta Data': 'STRUCT("2. Symbol" VARCHAR, "3. Last Refreshed" VARCHAR)',
        'Time Series (Daily)': 'MAP(VARCHAR, STRUCT({struct}))'}}, maximum_object_size = 100000000)
)
"""


def limit_sql(payloads: str, n: int) -> str:
    files = "[" + ", ".join(f"'{payloads}/{s}.json'" for s in _symbols(n)) + "]"
    return LIMIT_SQL.format(
        files=files,
        fields=", ".join(f'e.value."{f}" as "_{f.replace(". ", "_").replace(" ", "_")}"' for f in AV_FIELDS),
        struct=", ".join(f'"{f}" VARCHAR' for f in AV_FIELDS),
    )


def duckdb_limit(n: int, payloads: str, workdir: str) -> dict:
    import duckdb

    with duckdb.connect(str(Path(workdir) / "limit.duckdb")) as con:
        con.execute("create schema if not exists raw")
        con.execute(limit_sql(payloads, n))
        rows = con.execute("select count(*) from raw.alpha_vantage_daily_limit").fetchone()[0]
    return {"rows": rows}


def postgres_limit(n: int, payloads: str, workdir: str, pg_env: dict) -> dict:
    """read_json in DuckDB, then COPY into Postgres (what a hand-written loader would do)."""
    import os

    import duckdb

    os.environ.update(pg_env)
    from flows.runtime.warehouse import postgres_connection

    csv_path = Path(workdir) / "limit.csv"
    with duckdb.connect() as con:
        con.execute("create schema raw")
        con.execute(limit_sql(payloads, n))
        con.execute(f"copy raw.alpha_vantage_daily_limit to '{csv_path}' (header false)")
    columns = ", ".join(
        ["symbol text", "date date", "function text", "last_refreshed text"] + [f'"{f}" text' for f in AV_FIELDS]
    )
    connection = postgres_connection()
    with connection, connection.cursor() as cursor:
        cursor.execute("create schema if not exists raw")
        cursor.execute("drop table if exists raw.alpha_vantage_daily_limit")
        cursor.execute(f"create table raw.alpha_vantage_daily_limit ({columns})")
        with csv_path.open() as handle:
            cursor.copy_expert("copy raw.alpha_vantage_daily_limit from stdin with (format csv)", handle)
        cursor.execute("select count(*) from raw.alpha_vantage_daily_limit")
        rows = cursor.fetchone()[0]
    connection.close()
    csv_path.unlink()
    return {"rows": rows}


# ---------------------------------------------------------------- driver


def run_scale(n: int, args, cluster) -> list[dict]:
    now = common.bench_now()
    payloads = common.payload_dir(n, args.days, now)
    results = []
    targets = ["postgres"] if args.postgres else ["dev"]
    for target in targets:
        variants = args.variants or ["limit", "dlt"]
        for variant in variants:
            runs = []
            for repeat in range(args.repeat):
                workdir = common.fresh_dir(f"load-{target}-{variant}-{n}")
                pg_env = common.recreate_database(cluster, f"bench_load_{repeat}") if target == "postgres" else None
                datadir = str(cluster.datadir) if cluster else None
                if variant == "limit":
                    if target == "postgres":
                        result = common.measure(
                            postgres_limit, n, str(payloads), str(workdir), pg_env, pg_datadir=datadir
                        )
                    else:
                        result = common.measure(duckdb_limit, n, str(payloads), str(workdir))
                else:
                    emulator = common.EmulatorProcess(payloads, n, args.days, now)
                    with emulator as urls:
                        result = common.measure(
                            dlt_load,
                            n,
                            urls,
                            str(workdir),
                            target,
                            pg_env,
                            now.isoformat(),
                            str(args.profile / f"{target}-{variant}-{n}.txt") if args.profile else "",
                            pg_datadir=datadir,
                        )
                    result["emulator_cpu_seconds"] = emulator.stats["cpu_seconds"]
                runs.append(result)
                print(
                    f"  {target:8} {variant:14} n={n:5} run {repeat + 1}: {result['seconds']:7.1f} s, "
                    f"peak RSS {result['peak_rss_mib']:7.0f} MiB, CPU {result['cpu_seconds']:.1f} s"
                    + (
                        f" (+ child processes: {result['children_cpu_seconds']:.1f} s CPU, "
                        f"peak RSS {result['children_peak_rss_mib']:.0f} MiB)"
                        + f", emulator {result['emulator_cpu_seconds']:.1f} s CPU"
                        if variant == "dlt"
                        else ""
                    )
                    + (f", server {result['server_peak_rss_mib']:.0f} MiB" if "server_peak_rss_mib" in result else "")
                    + f"  {json.dumps(result['detail'])}",
                    flush=True,
                )
            results.append(
                {
                    "target": target,
                    "variant": variant,
                    "assets": n,
                    "rows": runs[-1]["detail"]["rows"],
                    "median_s": round(common.median([r["seconds"] for r in runs]), 1),
                    "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
                    "server_peak_rss_mib": max((r.get("server_peak_rss_mib", 0) for r in runs), default=0),
                    "steps": runs[-1]["detail"].get("steps"),
                }
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 assets, 1 repeat: under a minute")
    parser.add_argument("--assets", type=int, nargs="+", help="asset counts to run (default 2000)")
    parser.add_argument("--days", type=int, default=3650, help="sessions per asset (default 3650)")
    parser.add_argument("--repeat", type=int, default=None, help="runs per variant; the median is reported (default 3)")
    parser.add_argument("--postgres", action="store_true", help="load into a throwaway Postgres instead of DuckDB")
    parser.add_argument("--variants", nargs="+", choices=["limit", "dlt"], help="default: both")
    parser.add_argument("--profile", type=Path, help="py-spy each dlt run into this folder (folded stacks)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument(
        "--minute-backfill", action="store_true", help="Alpaca 1Min bars of --assets (default 100) symbols x 1 year"
    )
    args = parser.parse_args()
    if args.minute_backfill:
        common.quiet()
        print(f"machine: {common.machine()}")
        run_minute_backfill(args)
        return
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    if args.quick:
        args.assets, args.repeat = args.assets or [100], args.repeat or 1
    args.assets, args.repeat = args.assets or [2000], args.repeat or 3
    results = common.run_scales(args, run_scale)
    rows = []
    for r in results:
        same = [x for x in results if (x["target"], x["assets"]) == (r["target"], r["assets"])]
        limit = next((x for x in same if x["variant"] == "limit"), None)
        ratio = r["median_s"] / limit["median_s"] if limit and limit["median_s"] else float("nan")
        rate = r["rows"] / r["median_s"] / 1000 if r["median_s"] else 0
        rows.append(
            [
                r["target"],
                r["variant"],
                r["assets"],
                r["rows"],
                r["median_s"],
                f"{ratio:.2f}x",
                f"{rate:.0f}k",
                r["peak_rss_mib"],
                r["server_peak_rss_mib"] or "",
                r["steps"] or "",
            ]
        )
    print()
    print(
        common.table(
            rows,
            [
                "target",
                "variant",
                "assets",
                "rows",
                "median s",
                "vs limit",
                "rows/s",
                "peak RSS MiB",
                "server MiB",
                "dlt steps s",
            ],
        )
    )
    if len(args.assets) > 1:
        print("\nscaling (median s per 1,000 assets):")
        for target, variant in sorted({(r["target"], r["variant"]) for r in results}):
            series = [(r["assets"], r["median_s"]) for r in results if (r["target"], r["variant"]) == (target, variant)]
            print(f"  {target:8} {variant:14} " + ", ".join(f"{n}: {s / n * 1000:.1f}" for n, s in series))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
