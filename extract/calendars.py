"""NYSE trading calendar (full-day closures only), standard library only.

Equity prices exist only for NYSE sessions, so several parts of the pipeline
need the same answer to "was the market open on this day?":

* the provider emulator generates equity bars only on sessions;
* dbt's calendar seed is generated from this module, so models and
  extractors agree on what counts as a missing bar;
* the scheduled equities flow exits cleanly on a closed day instead of
  requesting data that cannot exist.

Holidays follow current NYSE rules for 1990-2100, plus the well-known
unscheduled closures. Early closes are ignored: those days are sessions.
"""

import datetime as dt
import functools
from collections.abc import Mapping
from types import MappingProxyType
from zoneinfo import ZoneInfo

FIRST_YEAR = 1990
LAST_YEAR = 2100

NEW_YORK = ZoneInfo("America/New_York")
SESSION_CLOSE = dt.time(16, 0)

_SPECIAL_CLOSURES: dict[dt.date, str] = {
    dt.date(1994, 4, 27): "National Day of Mourning (Richard Nixon)",
    dt.date(2001, 9, 11): "September 11 attacks",
    dt.date(2001, 9, 12): "September 11 attacks",
    dt.date(2001, 9, 13): "September 11 attacks",
    dt.date(2001, 9, 14): "September 11 attacks",
    dt.date(2004, 6, 11): "National Day of Mourning (Ronald Reagan)",
    dt.date(2007, 1, 2): "National Day of Mourning (Gerald Ford)",
    dt.date(2012, 10, 29): "Hurricane Sandy",
    dt.date(2012, 10, 30): "Hurricane Sandy",
    dt.date(2018, 12, 5): "National Day of Mourning (George H. W. Bush)",
    dt.date(2025, 1, 9): "National Day of Mourning (Jimmy Carter)",
}


def _easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday_shift) // 451
    month, day = divmod(h + weekday_shift - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th given weekday (Monday=0) of a month."""
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    """The last given weekday (Monday=0) of a month."""
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last = next_month - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: dt.date) -> dt.date:
    """Move a Saturday holiday to Friday and a Sunday holiday to Monday."""
    if day.weekday() == 5:
        return day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


@functools.lru_cache(maxsize=LAST_YEAR - FIRST_YEAR + 1)
def _year_holidays(year: int) -> Mapping[dt.date, str]:
    """Read-only full-day closures of one year."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year {year} outside {FIRST_YEAR}..{LAST_YEAR}")
    holidays: dict[dt.date, str] = {}
    new_year = dt.date(year, 1, 1)
    # A Saturday New Year's Day is not observed on the previous Friday.
    if new_year.weekday() != 5:
        holidays[_observed(new_year)] = "New Year's Day"
    if year >= 1998:
        holidays[_nth_weekday(year, 1, 0, 3)] = "Martin Luther King Jr. Day"
    holidays[_nth_weekday(year, 2, 0, 3)] = "Washington's Birthday"
    holidays[_easter(year) - dt.timedelta(days=2)] = "Good Friday"
    holidays[_last_weekday(year, 5, 0)] = "Memorial Day"
    if year >= 2022:
        holidays[_observed(dt.date(year, 6, 19))] = "Juneteenth"
    holidays[_observed(dt.date(year, 7, 4))] = "Independence Day"
    holidays[_nth_weekday(year, 9, 0, 1)] = "Labor Day"
    holidays[_nth_weekday(year, 11, 3, 4)] = "Thanksgiving Day"
    holidays[_observed(dt.date(year, 12, 25))] = "Christmas Day"
    holidays.update({d: n for d, n in _SPECIAL_CLOSURES.items() if d.year == year})
    return MappingProxyType(dict(sorted(holidays.items())))


def nyse_holidays(start_year: int, end_year: int) -> dict[dt.date, str]:
    """Weekday full-day closures (date -> name) for the inclusive year range."""
    return {day: name for year in range(start_year, end_year + 1) for day, name in _year_holidays(year).items()}


def is_nyse_session(d: dt.date) -> bool:
    """Whether the NYSE holds a regular session on ``d``."""
    return d.weekday() < 5 and d not in _year_holidays(d.year)


def nyse_sessions(start: dt.date, end: dt.date) -> list[dt.date]:
    """Sessions between ``start`` and ``end``, both inclusive."""
    days = (start + dt.timedelta(days=n) for n in range((end - start).days + 1))
    return [d for d in days if is_nyse_session(d)]


def previous_nyse_session(d: dt.date) -> dt.date:
    """The latest session strictly before ``d``."""
    d -= dt.timedelta(days=1)
    while not is_nyse_session(d):
        d -= dt.timedelta(days=1)
    return d


def last_completed_session(now_utc: dt.datetime) -> dt.date:
    """The latest session whose 16:00 New York close is at or before ``now_utc``.

    ``now_utc`` must be timezone-aware; any zone is accepted.
    """
    if now_utc.utcoffset() is None:
        raise ValueError("now_utc must be timezone-aware")
    local = now_utc.astimezone(NEW_YORK)
    today = local.date()
    if is_nyse_session(today) and local.time() >= SESSION_CLOSE:
        return today
    return previous_nyse_session(today)


SEED_FIRST_YEAR, SEED_LAST_YEAR = 2000, 2040


def holiday_seed_rows() -> list[tuple[str, str]]:
    """(date, name) of every NYSE full-day closure for dbt's `nyse_holidays` seed."""
    holidays = nyse_holidays(SEED_FIRST_YEAR, SEED_LAST_YEAR)
    return [(day.isoformat(), name) for day, name in sorted(holidays.items())]


def write_holiday_seed(path) -> None:
    """Regenerate dbt_project/seeds/nyse_holidays.csv (`python -m extract.calendars`)."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["holiday_date", "holiday_name"])
        writer.writerows(holiday_seed_rows())


if __name__ == "__main__":
    from extract.settings import DBT_PROJECT_DIR

    write_holiday_seed(DBT_PROJECT_DIR / "seeds" / "nyse_holidays.csv")
