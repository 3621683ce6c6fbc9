"""Extraction on Dask (MARKET_ELT_TASK_RUNNER=dask): the same Alpha Vantage backfill with 1, 2
and 4 Dask workers against the emulator enforcing a per-minute budget (default 600 calls/min),
the budget held across the workers through the scheduler. Reports calls, throttled answers
(target 0), the share of the budget used in steady state (target >= 90%), wall time, load average.

    .venv/bin/python bench/extract_dask.py --quick          # 20 s "minutes", 3 windows per setting, ~4 min
    .venv/bin/python bench/extract_dask.py                  # real 60 s minutes, 3 windows per setting
    .venv/bin/python bench/extract_dask.py --primitives     # also: a dask Semaphore vs a Prefect rate limit

The product's path runs: the flows' fan-out (flows/fan_out.py `backfill_in_batches`) inside a
Prefect flow (the process's temporary Prefect server), batches sized by `backfill_batch_size`
(about 15 s of the budget), each a task on a LocalCluster of N worker processes (one thread
each, `MARKET_ELT_WORKERS`=4 fetching threads per task), loads into one DuckDB file through the
scheduler's writer lock, every call holding a slot of the scheduler's semaphore for its window.
The client's budget and the emulator's limit are the same number over the same window; the
emulator (its own process) counts a request when it arrives. Each symbol's backfill is one call
(100 sessions, so calls are cheap and the budget is the limit). There are symbols for one more
window than measured: steady state is the complete windows after the first.

`--primitives`: 2 workers each send calls through (a) a budget sharing a `distributed.Semaphore`
whose leases go back a window after each answer (what the product uses) and (b) Prefect's
`rate_limit` on a global concurrency limit of the same size with slot decay limit/window per
second; throttled answers and the most calls the emulator saw in one sliding window.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

DAYS = 100
FETCH_THREADS = 4


def backfill_on_dask(settings, symbols: list[str], now: dt.datetime):
    """The product's Dask backfill of `symbols` in a flow run; its summary."""
    from prefect import flow

    from extract.backfill import Backfill
    from flows.fan_out import backfill_in_batches
    from flows.runtime.summary import RunSummary

    @flow(name="bench-extract-dask")
    def run() -> RunSummary:
        summary = RunSummary()
        window = Backfill(now.date() - dt.timedelta(days=400), now.date())
        backfill_in_batches(settings, "alpha_vantage", window, symbols, None, summary)
        return summary

    return run()


def run_workers(args, workers: int, payloads: Path, now: dt.datetime, api_url: str) -> dict:
    from distributed import LocalCluster

    from extract.emulator.universe import equity_symbol

    per_window = round(args.budget * args.window / 60)
    symbols = [equity_symbol(i) for i in range(1, args.assets + 1)]
    workdir = common.fresh_dir(f"dask-{workers}")
    emulator = common.EmulatorProcess(
        payloads,
        args.assets,
        DAYS,
        now,
        window_seconds=args.window,
        per_minute={"alpha_vantage": per_window},
        retry_after_seconds=1,
    )
    load_before = os.getloadavg()
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        env={"PREFECT_API_URL": api_url, "RUNTIME__LOG_LEVEL": "ERROR"},
    )
    with emulator as urls, cluster:
        settings = common.settings_for(
            urls,
            workdir / "warehouse.duckdb",
            workers=FETCH_THREADS,
            task_runner="dask",
            dask_scheduler_address=cluster.scheduler_address,
            budgets={"alpha_vantage": {"per_minute": per_window, "per_day": None, "window_seconds": args.window}},
        )
        started = time.monotonic()
        summary = backfill_on_dask(settings, symbols, now)
        wall = time.monotonic() - started
    load_after = os.getloadavg()
    (report,) = summary.providers
    times = sorted(emulator.stats["times"])
    throttled_at = sorted(emulator.stats["throttled_at"])
    first_end = times[0] + args.window
    steady_end = times[0] + args.windows * args.window
    steady = [t for t in times if first_end <= t < steady_end]
    steady_throttled = [t for t in throttled_at if first_end <= t < steady_end]
    steady_accepted = len(steady) - len(steady_throttled)
    steady_windows = args.windows - 1
    return {
        "workers": workers,
        "assets": report.assets_ok,
        "failed": len(report.failures) + len(summary.errors),
        "calls": emulator.stats["requests"],
        "throttled": emulator.stats["throttled"],
        "throttled_steady": len(steady_throttled),
        "steady_calls": steady_accepted,
        "steady_share": steady_accepted / (steady_windows * per_window),
        "wall_s": round(wall, 1),
        "calls_per_min": round(emulator.stats["requests"] / (times[-1] - times[0]) * 60, 1),
        "emulator_cpu_s": emulator.stats["cpu_seconds"],
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
    }


# ---------------------------------------------------------------- primitives compared


def _through_semaphore(url: str, calls: int, per_window: int, window: float) -> list[int]:
    import requests

    from extract.ratelimit import BudgetedAdapter, RateBudget
    from flows.runtime.dask_shared import shared_slots

    budget = RateBudget("alpha_vantage", per_minute=per_window, per_day=None, window_seconds=window)
    budget.share(shared_slots)
    session = requests.Session()
    session.mount("http://", BudgetedAdapter(budget))
    return [_call(session, url) for _ in range(calls)]


def _through_prefect_rate_limit(url: str, calls: int, name: str) -> list[int]:
    import requests
    from prefect.concurrency.sync import rate_limit

    session = requests.Session()
    statuses = []
    for _ in range(calls):
        rate_limit(name, strict=True)
        statuses.append(_call(session, url))
    return statuses


def _call(session, url: str) -> int:
    answer = session.get(url, params={"function": "TIME_SERIES_DAILY", "symbol": "E0001", "apikey": "k"}, timeout=30)
    return 429 if "Note" in answer.text or answer.status_code == 429 else answer.status_code


def _most_in_a_window(times: list[float], window: float) -> int:
    times, most, start = sorted(times), 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def compare_primitives(args, payloads: Path, now: dt.datetime, api_url: str) -> list[dict]:
    from distributed import Client, LocalCluster
    from prefect.client.orchestration import get_client

    per_window = round(args.budget * args.window / 60)
    calls = per_window * args.windows // 2  # each of 2 workers: the run lasts about `windows` windows
    name = f"bench-av-{per_window}-per-{args.window:g}s"
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(name, per_window, slot_decay_per_second=per_window / args.window)
    results = []
    for primitive in ("dask semaphore", "prefect rate_limit"):
        emulator = common.EmulatorProcess(
            payloads, args.assets, DAYS, now, window_seconds=args.window, per_minute={"alpha_vantage": per_window}
        )
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, env={"PREFECT_API_URL": api_url}
        )
        with emulator as urls, cluster, Client(cluster) as client:
            url = f"{urls['alpha_vantage']}/query"
            started = time.monotonic()
            futures = [
                client.submit(_through_semaphore, url, calls, per_window, args.window, pure=False, workers=[worker])
                if primitive == "dask semaphore"
                else client.submit(_through_prefect_rate_limit, url, calls, name, pure=False, workers=[worker])
                for worker in list(client.nthreads())
            ]
            statuses = [status for future in futures for status in future.result()]
            wall = time.monotonic() - started
        results.append(
            {
                "primitive": primitive,
                "calls": len(statuses),
                "throttled": statuses.count(429),
                "most_in_a_window": _most_in_a_window(emulator.stats["times"], args.window),
                "limit": per_window,
                "wall_s": round(wall, 1),
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20 s windows: about 4 minutes")
    parser.add_argument("--budget", type=int, default=600, help="calls per minute (default 600)")
    parser.add_argument("--window", type=float, default=60.0, help="seconds in a budget 'minute' (default 60)")
    parser.add_argument("--windows", type=int, default=3, help="windows measured per setting (default 3)")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4], help="Dask workers (default 1 2 4)")
    parser.add_argument("--primitives", action="store_true", help="also compare the sharing primitives")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    if args.quick:
        args.window = 20.0
    per_window = round(args.budget * args.window / 60)
    args.assets = per_window * (args.windows + 1)
    common.quiet()
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    from prefect.client.orchestration import get_client

    print(f"machine: {common.machine()}")
    print(f"started {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC, load average {os.getloadavg()}")
    print(f"budget {args.budget}/min, window {args.window:g} s, {args.windows} windows, {args.assets} symbols")
    now = common.bench_now()
    payloads = common.payload_dir(args.assets, DAYS, now)
    with get_client(sync_client=True) as client:  # starts this process's temporary Prefect server
        api_url = str(client.api_url).rstrip("/")
    results = []
    for workers in args.workers:
        result = run_workers(args, workers, payloads, now, api_url)
        results.append(result)
        print(f"  {json.dumps(result)}", flush=True)
    rows = [
        [
            r["workers"],
            r["assets"],
            r["failed"],
            r["calls"],
            f"{r['throttled']} ({r['throttled_steady']} steady)",
            r["steady_calls"],
            f"{r['steady_share']:.0%}",
            r["calls_per_min"],
            r["wall_s"],
            " ".join(f"{x:.2f}" for x in r["loadavg_after"]),
        ]
        for r in results
    ]
    headers = ["workers", "assets", "failed", "calls", "throttled", "steady calls", "steady share", "calls/min",
               "wall s", "load avg after"]  # fmt: skip
    print()
    print(common.table(rows, headers))
    if args.primitives:
        compared = compare_primitives(args, payloads, now, api_url)
        for result in compared:
            print(f"  {json.dumps(result)}", flush=True)
        results.append({"primitives": compared})
    print(f"finished {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC, load average {os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
