"""`market-elt`: the user's front door to the flows, the extractors, dbt and the emulator."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

from extract.settings import quiet_environment

PROVIDER_CHOICES = ("coingecko", "alpha_vantage", "fear_greed")


def _add_provider_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--offline", action="store_true", help="serve every provider from the bundled emulator")
    parser.add_argument(
        "--providers", nargs="+", choices=PROVIDER_CHOICES, metavar="PROVIDER", help="only these providers"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="market-elt", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="extract all providers, then dbt seed/run/test (the daily flow)")
    _add_provider_options(run)
    extract = commands.add_parser("extract", help="extract and load raw data only")
    _add_provider_options(extract)
    backfill = commands.add_parser("backfill", help="load a date range for one provider (resumable), then dbt")
    backfill.add_argument("--provider", required=True, choices=PROVIDER_CHOICES)
    backfill.add_argument("--start", required=True, type=dt.date.fromisoformat, help="first day, YYYY-MM-DD")
    backfill.add_argument("--end", type=dt.date.fromisoformat, help="last day, YYYY-MM-DD (default: today)")
    backfill.add_argument("--assets", nargs="+", metavar="ID", help="provider ids (coingecko ids or symbols)")
    backfill.add_argument("--limit", type=int, help="take on at most N unfinished assets in this invocation")
    backfill.add_argument("--offline", action="store_true", help="serve the provider from the bundled emulator")
    backfill.add_argument("--no-transform", action="store_true", help="skip dbt after loading")
    commands.add_parser("transform", help="dbt seed, run and test on the configured warehouse")
    emulator = commands.add_parser("emulator", help="serve the provider emulator until Ctrl-C (analysts' sandbox)")
    emulator.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    return parser


def main(argv: list[str] | None = None) -> int:
    quiet_environment()
    args = build_parser().parse_args(argv)
    if args.command == "emulator":
        return _serve_emulator(args.port)
    # Imported late: Prefect's import and start-up are slow, `--help` should not wait for them.
    from flows.backfill import backfill
    from flows.daily import daily
    from flows.summary import RunFailedError

    try:
        if args.command == "transform":
            daily(providers=[], transform=True)
        elif args.command == "backfill":
            end = args.end or dt.datetime.now(dt.UTC).date()
            backfill(args.provider, args.start, end, args.assets, args.limit, args.offline, not args.no_transform)
        else:
            daily(offline=args.offline, providers=args.providers, transform=args.command == "run")
    except RunFailedError:
        return 1
    return 0


def _serve_emulator(port: int) -> int:
    from extract.emulator.server import Emulator

    with Emulator(port=port) as emulator:
        print("Provider emulator listening. Point market-elt at it with:")
        for name, value in emulator.environ().items():
            print(f"  export {name}={value}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
