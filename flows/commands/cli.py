"""`market-elt`: the user's front door to the flows, the extractors, dbt and the emulator."""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import os
import sys
import time
from pathlib import Path

from flows.runtime import prefect_api
from flows.runtime.telemetry import quiet_environment

# The commands that run a flow: Prefect's server is started for them before anything else loads.
FLOW_COMMANDS = ("run", "extract", "backfill", "transform", "check")


def _add_plan_options(parser: argparse.ArgumentParser) -> None:
    from extract.alpha_vantage.settings import PLANS as AV_PLANS
    from extract.coingecko.settings import PLANS as CG_PLANS

    parser.add_argument(
        "--av-plan",
        choices=tuple(AV_PLANS),
        default="free",
        help="the Alpha Vantage plan the emulator plays (default free)",
    )
    parser.add_argument(
        "--cg-plan",
        choices=tuple(CG_PLANS),
        default="public",
        help="the CoinGecko plan the emulator plays (default public)",
    )


def _add_provider_options(parser: argparse.ArgumentParser) -> None:
    from extract.registry import PROVIDERS

    parser.add_argument("--offline", action="store_true", help="serve every provider from the bundled emulator")
    parser.add_argument(
        "--providers", nargs="+", choices=tuple(PROVIDERS), metavar="PROVIDER", help="only these providers"
    )
    _add_plan_options(parser)


def _plans(args: argparse.Namespace) -> dict[str, str]:
    return {"alpha_vantage": args.av_plan, "coingecko": args.cg_plan}


def build_parser() -> argparse.ArgumentParser:
    from extract.registry import PROVIDERS

    parser = argparse.ArgumentParser(prog="market-elt", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="extract all providers, then dbt seed/run/test (the daily flow)")
    _add_provider_options(run)
    extract = commands.add_parser("extract", help="extract and load raw data only")
    _add_provider_options(extract)
    backfill = commands.add_parser("backfill", help="load a date range for one provider (resumable), then dbt")
    backfill.add_argument("--provider", required=True, choices=tuple(PROVIDERS))
    backfill.add_argument("--start", required=True, type=dt.date.fromisoformat, help="first day, YYYY-MM-DD")
    backfill.add_argument("--end", type=dt.date.fromisoformat, help="last day, YYYY-MM-DD (default: today)")
    backfill.add_argument("--assets", nargs="+", metavar="ID", help="provider ids (coingecko ids or symbols)")
    backfill.add_argument("--limit", type=int, help="take on at most N unfinished assets in this invocation")
    backfill.add_argument(
        "--timeframe",
        choices=("1Day", "1Hour", "1Min"),
        default="1Day",
        help="alpaca only: 1Hour or 1Min bars go to the Parquet lake (MARKET_ELT_LAKE_DIR); default 1Day",
    )
    backfill.add_argument("--offline", action="store_true", help="serve the provider from the bundled emulator")
    _add_plan_options(backfill)
    backfill.add_argument("--no-transform", action="store_true", help="skip dbt after loading")
    transform = commands.add_parser("transform", help="dbt seed, run and test on the configured warehouse")
    for rebuilding in (run, transform):
        rebuilding.add_argument(
            "--full-refresh",
            action="store_true",
            help="rebuild every model from all of raw (after a model's logic changed); runs build what changed",
        )
    check = commands.add_parser(
        "check", help="dbt test on the last build without publishing; --all: every row (a daily run checks its changes)"
    )
    check.add_argument("--all", action="store_true", help="every test over every row (weekly in prefect.yaml)")
    for flow_command in (run, extract, backfill, transform, check):
        flow_command.add_argument(
            "--verbose", action="store_true", help="every log line on the console (the log file has them anyway)"
        )
    export = commands.add_parser("export", help="write marts to Parquet partitioned by symbol/year/month")
    export.add_argument("--out", type=Path, default=Path("data/export"), help="directory (default data/export)")
    export.add_argument(
        "--marts",
        nargs="+",
        default=["daily_bars", "daily_features", "observations"],
        metavar="MART",
        help="marts to export (default daily_bars daily_features observations)",
    )
    chart = commands.add_parser(
        "chart", help="PNG: one asset's close, SMA 50/200, Bollinger, RSI 14; several compared; or hourly candles"
    )
    chart.add_argument("symbols", nargs="+", metavar="SYMBOL", help="symbols of the assets mart, e.g. BTC ETH AAPL")
    chart.add_argument(
        "--normalize", action="store_true", help="rebase each close to 100 on the first date all symbols have a bar"
    )
    chart.add_argument("--since", type=dt.date.fromisoformat, metavar="DATE", help="start at this day, YYYY-MM-DD")
    chart.add_argument(
        "--hourly", action="store_true", help="one symbol's hourly candles by session (default: the last 7 days)"
    )
    chart.add_argument("--out", type=Path, help="PNG path (default data/charts/<SYMBOL>[-<SYMBOL>...][-hourly].png)")
    universe = commands.add_parser("universe", help="edit the asset universe (seeds/assets.csv)")
    universe_commands = universe.add_subparsers(dest="universe_command", required=True)
    add = universe_commands.add_parser(
        "add", help="append a constituents CSV's equities (Alpaca symbols), optionally as an index's members"
    )
    add.add_argument("--from-csv", required=True, type=Path, metavar="FILE", help="a CSV with a Symbol column")
    add.add_argument("--index", metavar="NAME", help="record the file's symbols as members of this index")
    add.add_argument(
        "--date", type=dt.date.fromisoformat, help="the members' date added, YYYY-MM-DD (default: today, UTC)"
    )
    commands.add_parser("docs", help="generate the dbt docs site (catalog of the configured warehouse)")
    status = commands.add_parser("status", help="runbook view: latest bars, missing sessions, last runs, freshness")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--runs", type=int, default=10, help="how many run-log rows to show (default 10)")
    status.add_argument(
        "--known-gaps",
        metavar="REASON",
        help="print seeds/known_gaps.csv rows acknowledging the missing sessions holding assets back",
    )
    commands.add_parser("serve", help="run prefect.yaml's schedules in this process until Ctrl-C (no worker needed)")
    emulator = commands.add_parser("emulator", help="serve the provider emulator until Ctrl-C (analysts' sandbox)")
    emulator.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    _add_plan_options(emulator)
    return parser


def run() -> None:
    """The `market-elt` console script: `main()`, then the exit handlers (the log file's last
    lines, Prefect's last logs and events, the API server's stop), then the process ends without
    Python's teardown of every module it loaded (dbt, dlt, Prefect, pandas: about 1.2 s after a
    flow run here, spent freeing memory the process is about to give back anyway). The handler
    doing it is registered first, so it runs last; an exception out of main() exits as usual."""
    outcome: dict[str, int] = {}

    def end_without_teardown() -> None:
        if "code" in outcome:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(outcome["code"])

    atexit.register(end_without_teardown)
    outcome["code"] = main()
    sys.exit(outcome["code"])


def main(argv: list[str] | None = None) -> int:
    quiet_environment()
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0] in FLOW_COMMANDS and not {"-h", "--help"} & set(argv):
        prefect_api.start()
    args = build_parser().parse_args(argv)
    if args.command == "emulator":
        return _serve_emulator(args.port, args.av_plan, args.cg_plan)
    if args.command in ("export", "chart", "docs", "serve", "status", "universe"):
        return _operations(args)
    return _run_flow(args)


def _run_flow(args: argparse.Namespace) -> int:
    """run, extract, backfill, transform, check: progress and a summary table on a terminal, the full
    log in a file (flows/runtime/console.py)."""
    from extract.settings import Settings
    from flows.runtime import console

    console.start(Settings.from_env().duckdb_path.parent / "logs", args.verbose)
    # Imported late: Prefect's import and start-up are slow, `--help` should not wait for them,
    # and Prefect reads its console level (set by console.start) when imported. The flows'
    # modules (dbt, dlt, Prefect's client) load here, while Prefect's server starts.
    import flows.backfill
    import flows.daily  # noqa: F401
    from flows.runtime.summary import RunFailedError
    from flows.runtime.warehouse_lock import WarehouseBusyError

    try:
        with prefect_api.serving():
            summary = _call_flow(args)
    except RunFailedError as failed:
        console.render_summary(failed.summary)
        return 1
    except WarehouseBusyError as busy:
        print(f"market-elt {args.command}: {busy}", file=sys.stderr)
        return 75  # EX_TEMPFAIL: try again later
    console.render_summary(summary)
    return 0


def _call_flow(args: argparse.Namespace):
    """The flow a run, extract, backfill, transform or check command stands for, called."""
    from flows.backfill import backfill
    from flows.daily import daily

    if args.command == "transform":
        return daily(providers=[], transform=True, full_refresh=args.full_refresh)
    if args.command == "check":
        from flows.check import check

        return check(check_all=args.all)
    if args.command == "backfill":
        end = args.end or dt.datetime.now(dt.UTC).date()
        return backfill(
            args.provider, args.start, end, args.assets, args.limit, args.offline, not args.no_transform,
            offline_plans=_plans(args), timeframe=args.timeframe,
        )  # fmt: skip
    return daily(
        offline=args.offline,
        providers=args.providers,
        transform=args.command == "run",
        offline_plans=_plans(args),
        full_refresh=getattr(args, "full_refresh", False),
    )


def _operations(args: argparse.Namespace) -> int:
    """export, chart, docs, status, serve: each reads the configured warehouse or prefect.yaml."""
    from extract.settings import Settings

    settings = Settings.from_env()
    try:
        if args.command == "export":
            from flows.commands.export import export_marts

            print("\n".join(export_marts(settings, args.out, args.marts).lines()))
        elif args.command == "chart":
            from flows.commands.chart import chart

            print(
                chart(settings, args.symbols, args.out, normalize=args.normalize, since=args.since, hourly=args.hourly)
            )
        elif args.command == "status":
            from flows.commands.status import as_json, collect_status, known_gap_rows, render

            if args.known_gaps:
                print("\n".join(known_gap_rows(settings, args.known_gaps)))
                return 0
            report = collect_status(settings, runs=args.runs)
            if args.json:
                print(as_json(report))
            else:
                render(report)
        elif args.command == "universe":
            from flows.commands.universe import add_from_csv

            today = args.date or dt.datetime.now(dt.UTC).date()
            print("\n".join(add_from_csv(settings.assets_csv, args.from_csv, args.index, today).lines()))
        elif args.command == "docs":
            from flows.commands.docs import build_docs

            index = build_docs(settings)
            print(f"dbt docs: {index.parent / 'static_index.html'} opens from disk; {index} needs `dbt docs serve`")
        else:
            from flows.deployments import serve_all

            serve_all()
    except (ValueError, LookupError, FileNotFoundError) as exc:
        print(f"market-elt {args.command}: {exc}", file=sys.stderr)
        return 2
    return 0


def _serve_emulator(port: int, av_plan: str, cg_plan: str) -> int:
    from extract.emulator.server import Emulator, EmulatorConfig
    from flows.runtime.offline import COINGECKO_KEYS, OFFLINE_ALPHA_VANTAGE_KEY

    with Emulator(port=port, config=EmulatorConfig(alpha_vantage_plan=av_plan)) as emulator:
        print(
            f"Provider emulator listening (Alpha Vantage {av_plan} plan, CoinGecko {cg_plan}). Point market-elt at it:"
        )
        variables = {**emulator.environ(cg_plan), "ALPHAVANTAGE_API_KEY": OFFLINE_ALPHA_VANTAGE_KEY}
        if COINGECKO_KEYS[cg_plan]:
            variables |= {"COINGECKO_PLAN": cg_plan, "COINGECKO_API_KEY": COINGECKO_KEYS[cg_plan]}
        for name, value in variables.items():
            print(f"  export {name}={value}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    run()
