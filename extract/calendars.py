"""Trading calendars: which days each exchange trades, from the exchange-calendars library.

Several parts of the pipeline ask "was this a session of the asset's exchange?" and "what is
its last closed session?": the equities schedule (a run fetches only the exchanges whose
session has closed), `market-elt status` (is an asset's last bar the one expected?), the
emulator (each exchange's equities trade on its own sessions) and, through the generated seeds
`dbt_project/seeds/exchanges.csv` and `exchange_closures.csv`, the missing-session gate and the
`trading_calendar` mart. Exchanges are ISO 10383 MICs (XNYS, XLON, XTSE, XSHG, ...); `CRYPTO`
trades every day, its sessions closing at midnight UTC.

Calendars span FIRST_DAY..LAST_DAY, or less where the library has not recorded that far (the
Chinese exchanges' holidays are known only through the announced year): beyond its last known
day an exchange's sessions are unknown, and the gate does not judge them.

`python -m extract.calendars` rewrites the seeds for the exchanges of the universe (and XNYS);
tests/extract/test_calendars.py checks that the committed seeds are what it writes.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import sys
from pathlib import Path

import exchange_calendars as xcals
import pandas as pd

CRYPTO = "CRYPTO"
DEFAULT_EXCHANGE = "XNYS"
# The span of the calendars (and of the trading_calendar mart: dbt_project.yml's calendar vars).
FIRST_DAY = dt.date(2005, 1, 1)
LAST_DAY = dt.date(2035, 12, 31)
UTC = dt.UTC


class UnknownExchangeError(ValueError):
    """An exchange code exchange-calendars does not know."""


@functools.cache
def calendar(exchange: str) -> xcals.ExchangeCalendar:
    """The exchange's calendar over FIRST_DAY..LAST_DAY, or to the library's last recorded day."""
    if exchange not in xcals.get_calendar_names(include_aliases=True):
        raise UnknownExchangeError(f"unknown exchange {exchange!r}: expected an ISO 10383 MIC such as XNYS or XLON")
    try:
        return xcals.get_calendar(exchange, start=FIRST_DAY.isoformat(), end=LAST_DAY.isoformat())
    except ValueError:  # holidays recorded only to the announced year
        return xcals.get_calendar(exchange, start=FIRST_DAY.isoformat())


def known_until(exchange: str) -> dt.date:
    return LAST_DAY if exchange == CRYPTO else calendar(exchange).last_session.date()


def sessions(exchange: str, start: dt.date, end: dt.date, weekdays_beyond: bool = False) -> list[dt.date]:
    """The exchange's sessions in [start, end] within its known span; with `weekdays_beyond`
    (the emulator's synthetic future) the days of its trading week after that span."""
    if exchange == CRYPTO:
        return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    cal = calendar(exchange)
    last = cal.last_session.date()
    known = []
    if min(end, last) >= max(start, cal.first_session.date()):
        known = cal.sessions_in_range(max(start, cal.first_session.date()).isoformat(), min(end, last).isoformat())
    days = [day.date() for day in known]
    if weekdays_beyond and end > last:
        beyond = pd.bdate_range(max(start, last + dt.timedelta(days=1)), end, freq="C", weekmask=cal.weekmask)
        days += [day.date() for day in beyond]
    return days


def is_session(exchange: str, day: dt.date) -> bool:
    if exchange == CRYPTO:
        return True
    cal = calendar(exchange)
    return cal.first_session.date() <= day <= cal.last_session.date() and cal.is_session(day.isoformat())


def session_close(exchange: str, day: dt.date) -> dt.datetime:
    """When the session of `day` closes (UTC); crypto's day closes at the next midnight UTC."""
    if exchange == CRYPTO:
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), UTC)
    return calendar(exchange).session_close(day.isoformat()).to_pydatetime()


def session_closed(exchange: str, day: dt.date, now: dt.datetime) -> bool:
    """`day` is a session of the exchange and it has closed by `now`."""
    return is_session(exchange, day) and session_close(exchange, day) <= now


def last_closed_session(exchange: str, now: dt.datetime) -> dt.date:
    """The latest session of the exchange that has closed by `now`."""
    if exchange == CRYPTO:
        return now.astimezone(UTC).date() - dt.timedelta(days=1)
    cal = calendar(exchange)
    # Sessions are labelled by their local date, which may be a day ahead of UTC's.
    day = min(now.astimezone(UTC).date() + dt.timedelta(days=1), cal.last_session.date())
    session = cal.date_to_session(day.isoformat(), direction="previous")
    while cal.session_close(session) > now:
        session = cal.previous_session(session)
    return session.date()


# ---------------------------------------------------------------- the seeds


def closure_rows(exchange: str) -> list[dict]:
    """Weekdays of the exchange's week that are not sessions (closed) and early closes, in its span."""
    cal = calendar(exchange)
    first, last = cal.first_session.date(), cal.last_session.date()
    names = {}
    if cal.regular_holidays is not None:
        names = {ts.date(): name for ts, name in cal.regular_holidays.holidays(first, last, return_name=True).items()}
    weekdays = pd.bdate_range(first, last, freq="C", weekmask=cal.weekmask)
    sessions_ = set(cal.sessions_in_range(first.isoformat(), last.isoformat()))
    rows = [
        {"exchange": exchange, "date": day.date().isoformat(), "kind": "closed", "name": names.get(day.date(), "")}
        for day in weekdays
        if day not in sessions_
    ]
    rows += [
        {"exchange": exchange, "date": day.date().isoformat(), "kind": "early_close", "name": ""}
        for day in cal.early_closes
        if first <= day.date() <= last
    ]
    return sorted(rows, key=lambda row: (row["date"], row["kind"]))


def exchange_row(exchange: str) -> dict:
    cal = calendar(exchange)
    return {
        "exchange": exchange,
        "timezone": str(cal.tz),
        "weekmask": cal.weekmask,
        "first_day": cal.first_session.date().isoformat(),
        "last_day": cal.last_session.date().isoformat(),
    }


def universe_exchanges(assets_csv: Path) -> list[str]:
    from extract.assets import load_assets

    exchanges = {asset.exchange for asset in load_assets(assets_csv) if asset.exchange != CRYPTO}
    return sorted(exchanges | {DEFAULT_EXCHANGE})


def write_seeds(seeds_dir: Path, exchanges: list[str]) -> None:
    """`exchanges.csv` (one row per exchange) and `exchange_closures.csv` for `exchanges`."""
    with (seeds_dir / "exchanges.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["exchange", "timezone", "weekmask", "first_day", "last_day"])
        writer.writeheader()
        writer.writerows(exchange_row(exchange) for exchange in exchanges)
    with (seeds_dir / "exchange_closures.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["exchange", "date", "kind", "name"])
        writer.writeheader()
        for exchange in exchanges:
            writer.writerows(closure_rows(exchange))


def main() -> int:
    from extract.settings import DBT_PROJECT_DIR

    seeds = DBT_PROJECT_DIR / "seeds"
    exchanges = universe_exchanges(seeds / "assets.csv")
    write_seeds(seeds, exchanges)
    print(f"wrote {seeds / 'exchanges.csv'} and exchange_closures.csv for {', '.join(exchanges)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
