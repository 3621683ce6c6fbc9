"""Rate-budget benchmark: an Alpha Vantage backfill against the emulator enforcing a call budget
(default 600 calls/min). Reports the achieved calls/min as a share of the budget (target >= 90%)
and the rate-limited answers the emulator gave (target 0 in steady state).

    .venv/bin/python bench/rate_budget.py --quick          # ~1 min: 10 s "minutes", 2 windows
    .venv/bin/python bench/rate_budget.py                  # real 60 s minutes, 3 windows per setting

The client's budget and the emulator's limit are the same number over the same window (as when
COINGECKO_/ALPHAVANTAGE_CALLS_PER_MINUTE is set to the plan's limit); `--window` shortens the
"minute" on both sides (the budget scales: 600/min with a 10 s window is 100 calls per 10 s).
Assets have short histories (100 sessions) so each call is cheap and the budget is the limit.
Settings compared: the product's backfill (`backfill_provider`: batches of workers x 2 assets,
one dlt load each) with 4 workers, and batch sizes overridden (`--batches`) to show how much of
the budget the per-batch dlt load costs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

DAYS = 100


def backfill(settings, symbols: list[str], batch: int | None, now: dt.datetime, stop_after: float) -> dict:
    """`extract.pipeline.backfill_provider` with the batch size overridable (None = product's
    workers x 2) and a wall-clock cap (the bench stops starting batches after `stop_after` s)."""
    from extract.backfill import Backfill
    from extract.pipeline import _run, build_source, pipeline_for
    from extract.report import ProviderReport

    job = Backfill(now.date() - dt.timedelta(days=400), now.date())
    report = ProviderReport("alpha_vantage")
    pipeline = pipeline_for("alpha_vantage", settings)
    size = batch or max(1, settings.workers * 2)
    started = time.monotonic()
    loads, load_seconds = 0, 0.0
    for start in range(0, len(symbols), size):
        if time.monotonic() - started > stop_after:
            break
        batch = symbols[start : start + size]
        source = build_source("alpha_vantage", batch, settings, report, now, job)
        _run(pipeline, "alpha_vantage", source, report, settings)
        loads += 1
        trace = pipeline.last_trace
        load_seconds += sum(
            (s.finished_at - s.started_at).total_seconds() for s in trace.steps if s.step in ("normalize", "load")
        )
    return {
        "elapsed": time.monotonic() - started,
        "assets": report.assets_ok,
        "failures": len(report.failures),
        "calls": report.calls,
        "dlt_loads": loads,
        "normalize_load_s": round(load_seconds, 1),
    }


def run_setting(args, label: str, workers: int, batch: int | None, payloads: Path, now: dt.datetime) -> dict:
    from extract.emulator.universe import equity_symbol

    budget = args.budget * args.window / 60  # calls per (possibly shortened) window
    per_window = round(budget)
    symbols = [equity_symbol(i) for i in range(1, args.assets + 1)]
    workdir = common.fresh_dir(f"rate-{label}")
    emulator = common.EmulatorProcess(
        payloads,
        args.assets,
        DAYS,
        now,
        window_seconds=args.window,
        per_minute={"alpha_vantage": per_window},
        retry_after_seconds=1,
    )
    with emulator as urls:
        settings = common.settings_for(
            urls,
            workdir / "warehouse.duckdb",
            workers=workers,
            budgets={"alpha_vantage": {"per_minute": per_window, "per_day": None, "window_seconds": args.window}},
        )
        result = backfill(settings, symbols, batch, now, stop_after=args.windows * args.window)
    times = sorted(emulator.stats["times"])
    accepted = emulator.stats["requests"] - emulator.stats["throttled"]
    span = (times[-1] - times[0]) if len(times) > 1 else float("nan")
    # Steady state: the complete windows after the first (whose burst the sliding window allows),
    # as calls per window: a rate over whole windows, not over the span of one window's burst.
    steady_windows = args.windows - 1
    steady = [t for t in times if times[0] + args.window <= t < times[0] + args.windows * args.window]
    # Calls per budget window achieved, scaled to "per minute" of the configured budget.
    per_min = accepted / span * args.window / per_window * args.budget if span else 0
    steady_per_min = len(steady) / steady_windows / per_window * args.budget if steady_windows else 0
    return {
        "setting": label,
        "workers": workers,
        "batch": batch or workers * 2,
        "calls": emulator.stats["requests"],
        "throttled": emulator.stats["throttled"],
        "per_min": round(per_min, 1),
        "share": per_min / args.budget,
        "steady_per_min": round(steady_per_min, 1),
        "steady_share": steady_per_min / args.budget,
        **result,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 s windows, 2 per setting: about a minute")
    parser.add_argument("--budget", type=int, default=600, help="calls per minute (default 600)")
    parser.add_argument("--window", type=float, default=60.0, help="seconds in a budget 'minute' (default 60)")
    parser.add_argument("--windows", type=int, default=3, help="windows to run per setting (default 3)")
    parser.add_argument("--assets", type=int, default=None, help="generated equities (default: enough for the run)")
    parser.add_argument(
        "--batches", type=int, nargs="*", default=None, help="batch sizes to compare besides the product's (default 64)"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    if args.quick:
        args.window, args.windows = 10.0, 2
        args.batches = [] if args.batches is None else args.batches
    args.batches = [64] if args.batches is None else args.batches
    args.assets = args.assets or int(args.budget * args.windows * 1.3) + 50
    common.quiet()
    print(f"machine: {common.machine()}")
    print(f"budget {args.budget}/min, window {args.window:g} s, {args.windows} windows per setting")
    now = common.bench_now()
    payloads = common.payload_dir(args.assets, DAYS, now)
    settings = [("product-w4", 4, None)] + [(f"batch{b}-w4", 4, b) for b in args.batches]
    results = []
    for label, workers, batch in settings:
        result = run_setting(args, label, workers, batch, payloads, now)
        results.append(result)
        print(f"  {json.dumps(result)}", flush=True)
    rows = [
        [
            r["setting"],
            r["batch"],
            r["calls"],
            r["throttled"],
            r["dlt_loads"],
            r["normalize_load_s"],
            r["per_min"],
            f"{r['share']:.0%}",
            r["steady_per_min"],
            f"{r['steady_share']:.0%}",
        ]
        for r in results
    ]
    print()
    print(
        common.table(
            rows,
            [
                "setting",
                "batch",
                "calls",
                "throttled",
                "dlt loads",
                "normalize+load s",
                "calls/min",
                "share",
                "steady calls/min",
                "steady share",
            ],
        )
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
