"""Rate-budget benchmark: an Alpha Vantage backfill against the emulator enforcing a call budget
(default 600 calls/min). Reports the achieved calls/min as a share of the budget (target >= 90%)
and the rate-limited answers the emulator gave (target 0 in steady state).

    .venv/bin/python bench/rate_budget.py --quick          # ~1 min: 10 s "minutes", 2 windows
    .venv/bin/python bench/rate_budget.py                  # real 60 s minutes, 3 windows per setting

The client's budget and the emulator's limit are the same number over the same window (as when
COINGECKO_/ALPHAVANTAGE_CALLS_PER_MINUTE is set to the plan's limit); `--window` shortens the
"minute" on both sides (the budget scales: 600/min with a 10 s window is 100 calls per 10 s).
Assets have short histories (100 sessions) so each call is cheap and the budget is the limit.
Settings compared: the product's backfill (`backfill_provider`: one call budget shared by all
batches, batches sized from it by `backfill_batch_size`, one dlt load each) with 4 workers, and
batch sizes overridden (`--batches`, default 8 = the former workers x 2, and 64) to show what the
per-batch dlt load costs against the budget. Throttled answers are reported by when they came:
in the first window (whose burst the sliding window allows), in steady state (the complete
windows after it) or after the measured windows (the last batch running past the cut).
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


def backfill(settings, symbols: list[str], batch: int | None, now: dt.datetime, stop_after: float) -> dict:
    """`extract.pipeline.backfill_provider`'s loop (one budget for all batches) with the batch size
    overridable (None = the product's `backfill_batch_size`) and a wall-clock cap (the bench
    stops starting batches after `stop_after` s)."""
    from extract.backfill import Backfill
    from extract.pipeline import _run, backfill_batch_size, pipeline_for
    from extract.registry import PROVIDERS
    from extract.report import ProviderReport

    job = Backfill(now.date() - dt.timedelta(days=400), now.date())
    report = ProviderReport("alpha_vantage")
    pipeline = pipeline_for("alpha_vantage", settings)
    spec = PROVIDERS["alpha_vantage"]
    budget = spec.budget(settings, now)
    size = batch or backfill_batch_size(budget, settings.workers, spec.calls_per_asset(job, settings, now))
    started = time.monotonic()
    loads = 0
    with common.StepTimes() as times:
        for start in range(0, len(symbols), size):
            if time.monotonic() - started > stop_after:
                break
            batch = symbols[start : start + size]
            source = spec.source(batch, settings, report, now, job, budget)
            _run(pipeline, "alpha_vantage", source, report, settings)
            loads += 1
    load_seconds = times.seconds.get("normalize", 0.0) + times.seconds.get("load", 0.0)
    return {
        "batch": size,
        "elapsed": round(time.monotonic() - started, 1),
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
    load_before = os.getloadavg()
    with emulator as urls:
        settings = common.settings_for(
            urls,
            workdir / "warehouse.duckdb",
            workers=workers,
            budgets={"alpha_vantage": {"per_minute": per_window, "per_day": None, "window_seconds": args.window}},
        )
        result = backfill(settings, symbols, batch, now, stop_after=args.windows * args.window)
    load_after = os.getloadavg()
    times = sorted(emulator.stats["times"])
    throttled_at = sorted(emulator.stats["throttled_at"])
    accepted = emulator.stats["requests"] - emulator.stats["throttled"]
    span = (times[-1] - times[0]) if len(times) > 1 else float("nan")
    # Steady state: the complete windows after the first (whose burst the sliding window allows),
    # as accepted calls per window: a rate over whole windows, not over the span of one burst.
    start, first_end, steady_end = times[0], times[0] + args.window, times[0] + args.windows * args.window
    steady_windows = args.windows - 1
    steady = [t for t in times if first_end <= t < steady_end]
    steady_throttled = [t for t in throttled_at if first_end <= t < steady_end]
    # Calls per budget window achieved, scaled to "per minute" of the configured budget.
    per_min = accepted / span * args.window / per_window * args.budget if span else 0
    steady_accepted = len(steady) - len(steady_throttled)
    steady_per_min = steady_accepted / steady_windows / per_window * args.budget if steady_windows else 0
    return {
        "setting": label,
        "workers": workers,
        "calls": emulator.stats["requests"],
        "throttled": emulator.stats["throttled"],
        "throttled_first_window": sum(1 for t in throttled_at if t < first_end),
        "throttled_steady": len(steady_throttled),
        "throttled_after": sum(1 for t in throttled_at if t >= steady_end),
        "throttled_s": [round(t - start, 2) for t in throttled_at],  # seconds after the first answer
        "per_min": round(per_min, 1),
        "share": per_min / args.budget,
        "steady_calls": steady_accepted,
        "steady_per_min": round(steady_per_min, 1),
        "steady_share": steady_per_min / args.budget,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
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
        "--batches",
        type=int,
        nargs="*",
        default=None,
        help="batch sizes to compare besides the product's (default 8 64; --quick: none)",
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    if args.quick:
        args.window, args.windows = 10.0, 2
        args.batches = [] if args.batches is None else args.batches
    args.batches = [8, 64] if args.batches is None else args.batches
    args.assets = args.assets or int(args.budget * args.windows * 1.3) + 50
    common.quiet()
    print(f"machine: {common.machine()}")
    print(f"started {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC, load average {os.getloadavg()}")
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
            f"{r['throttled']} ({r['throttled_first_window']}/{r['throttled_steady']}/{r['throttled_after']})",
            r["failures"],
            r["dlt_loads"],
            r["normalize_load_s"],
            r["per_min"],
            f"{r['share']:.0%}",
            r["steady_calls"],
            r["steady_per_min"],
            f"{r['steady_share']:.0%}",
            " ".join(f"{x:.2f}" for x in r["loadavg_after"]),
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
                "throttled (first/steady/after)",
                "failed assets",
                "dlt loads",
                "normalize+load s",
                "calls/min",
                "share",
                "steady calls",
                "steady calls/min",
                "steady share",
                "load avg after",
            ],
        )
    )
    print(f"finished {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC, load average {os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
