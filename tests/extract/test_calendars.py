"""Tests for the NYSE calendar against published, independently known dates."""

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from extract.calendars import (
    is_nyse_session,
    last_completed_session,
    nyse_holidays,
    nyse_sessions,
    previous_nyse_session,
)

D = dt.date
UTC = dt.UTC
PROVIDERS = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "providers"

# NYSE's published holiday lists.
PUBLISHED_HOLIDAYS = {
    2021: [
        D(2021, 1, 1),
        D(2021, 1, 18),
        D(2021, 2, 15),
        D(2021, 4, 2),
        D(2021, 5, 31),
        D(2021, 7, 5),
        D(2021, 9, 6),
        D(2021, 11, 25),
        D(2021, 12, 24),
    ],
    2022: [
        D(2022, 1, 17),
        D(2022, 2, 21),
        D(2022, 4, 15),
        D(2022, 5, 30),
        D(2022, 6, 20),
        D(2022, 7, 4),
        D(2022, 9, 5),
        D(2022, 11, 24),
        D(2022, 12, 26),
    ],
    2023: [
        D(2023, 1, 2),
        D(2023, 1, 16),
        D(2023, 2, 20),
        D(2023, 4, 7),
        D(2023, 5, 29),
        D(2023, 6, 19),
        D(2023, 7, 4),
        D(2023, 9, 4),
        D(2023, 11, 23),
        D(2023, 12, 25),
    ],
    2024: [
        D(2024, 1, 1),
        D(2024, 1, 15),
        D(2024, 2, 19),
        D(2024, 3, 29),
        D(2024, 5, 27),
        D(2024, 6, 19),
        D(2024, 7, 4),
        D(2024, 9, 2),
        D(2024, 11, 28),
        D(2024, 12, 25),
    ],
    2025: [
        D(2025, 1, 1),
        D(2025, 1, 9),
        D(2025, 1, 20),
        D(2025, 2, 17),
        D(2025, 4, 18),
        D(2025, 5, 26),
        D(2025, 6, 19),
        D(2025, 7, 4),
        D(2025, 9, 1),
        D(2025, 11, 27),
        D(2025, 12, 25),
    ],
    2026: [
        D(2026, 1, 1),
        D(2026, 1, 19),
        D(2026, 2, 16),
        D(2026, 4, 3),
        D(2026, 5, 25),
        D(2026, 6, 19),
        D(2026, 7, 3),
        D(2026, 9, 7),
        D(2026, 11, 26),
        D(2026, 12, 25),
    ],
    2027: [
        D(2027, 1, 1),
        D(2027, 1, 18),
        D(2027, 2, 15),
        D(2027, 3, 26),
        D(2027, 5, 31),
        D(2027, 6, 18),
        D(2027, 7, 5),
        D(2027, 9, 6),
        D(2027, 11, 25),
        D(2027, 12, 24),
    ],
}

SPECIAL_CLOSURES = [
    D(1994, 4, 27),
    D(2001, 9, 11),
    D(2001, 9, 12),
    D(2001, 9, 13),
    D(2001, 9, 14),
    D(2004, 6, 11),
    D(2007, 1, 2),
    D(2012, 10, 29),
    D(2012, 10, 30),
    D(2018, 12, 5),
    D(2025, 1, 9),
]


@pytest.mark.parametrize("year", sorted(PUBLISHED_HOLIDAYS))
def test_holidays_match_published_lists(year: int) -> None:
    assert sorted(nyse_holidays(year, year)) == PUBLISHED_HOLIDAYS[year]


def test_holiday_names() -> None:
    holidays = nyse_holidays(2022, 2022)
    assert holidays[D(2022, 4, 15)] == "Good Friday"
    assert holidays[D(2022, 6, 20)] == "Juneteenth"
    assert holidays[D(2022, 12, 26)] == "Christmas Day"


def test_multi_year_range_is_union_of_years() -> None:
    combined = nyse_holidays(2021, 2024)
    assert sorted(combined) == [d for y in range(2021, 2025) for d in PUBLISHED_HOLIDAYS[y]]


def test_returned_dict_is_a_fresh_copy() -> None:
    nyse_holidays(2024, 2024).clear()
    assert len(nyse_holidays(2024, 2024)) == 10


@pytest.mark.parametrize("years", [(1989, 1990), (2100, 2101)])
def test_years_outside_supported_range_raise(years: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        nyse_holidays(*years)


@pytest.mark.parametrize(
    "good_friday",
    [
        D(1990, 4, 13),
        D(2000, 4, 21),
        D(2008, 3, 21),
        D(2011, 4, 22),
        D(2016, 3, 25),
        D(2019, 4, 19),
        D(2020, 4, 10),
        D(2038, 4, 23),
    ],
)
def test_good_friday(good_friday: dt.date) -> None:
    year = good_friday.year
    assert nyse_holidays(year, year)[good_friday] == "Good Friday"
    assert not is_nyse_session(good_friday)


@pytest.mark.parametrize("day", SPECIAL_CLOSURES)
def test_special_closures(day: dt.date) -> None:
    assert day in nyse_holidays(day.year, day.year)
    assert not is_nyse_session(day)


@pytest.mark.parametrize(
    "day",
    [
        D(1993, 12, 31),  # New Year's Day 1994 was a Saturday.
        D(2010, 12, 31),  # New Year's Day 2011 was a Saturday.
        D(2021, 12, 31),  # New Year's Day 2022 was a Saturday.
        D(2021, 6, 18),  # Juneteenth was first observed in 2022.
        D(1997, 1, 20),  # MLK Day was first observed in 1998.
        D(2012, 10, 31),  # Reopened after Hurricane Sandy.
        D(2001, 9, 17),  # Reopened after September 11.
    ],
)
def test_open_days_near_closures(day: dt.date) -> None:
    assert is_nyse_session(day)


def test_mlk_day_from_1998() -> None:
    assert not is_nyse_session(D(1998, 1, 19))


def test_weekends_are_not_sessions() -> None:
    assert not is_nyse_session(D(2024, 1, 6))
    assert not is_nyse_session(D(2024, 1, 7))
    assert is_nyse_session(D(2024, 1, 8))


@pytest.mark.parametrize(("year", "sessions"), [(2021, 252), (2022, 251), (2023, 250), (2024, 252)])
def test_session_counts(year: int, sessions: int) -> None:
    assert len(nyse_sessions(D(year, 1, 1), D(year, 12, 31))) == sessions


def test_nyse_sessions_is_inclusive_and_ordered() -> None:
    assert nyse_sessions(D(2024, 3, 27), D(2024, 4, 2)) == [
        D(2024, 3, 27),
        D(2024, 3, 28),
        D(2024, 4, 1),
        D(2024, 4, 2),
    ]
    assert nyse_sessions(D(2024, 1, 2), D(2024, 1, 2)) == [D(2024, 1, 2)]
    assert nyse_sessions(D(2024, 1, 6), D(2024, 1, 7)) == []
    assert nyse_sessions(D(2024, 1, 3), D(2024, 1, 2)) == []


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2024, 1, 9), D(2024, 1, 8)),
        (D(2024, 1, 8), D(2024, 1, 5)),
        (D(2024, 1, 7), D(2024, 1, 5)),
        (D(2024, 1, 2), D(2023, 12, 29)),
        (D(2022, 1, 3), D(2021, 12, 31)),
        (D(2021, 12, 27), D(2021, 12, 23)),
        (D(2001, 9, 17), D(2001, 9, 10)),
        (D(2012, 10, 31), D(2012, 10, 26)),
    ],
)
def test_previous_nyse_session(day: dt.date, expected: dt.date) -> None:
    assert previous_nyse_session(day) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Standard time: the 16:00 EST close is 21:00 UTC.
        (dt.datetime(2024, 1, 5, 20, 59, 59, tzinfo=UTC), D(2024, 1, 4)),
        (dt.datetime(2024, 1, 5, 21, 0, tzinfo=UTC), D(2024, 1, 5)),
        (dt.datetime(2024, 1, 6, 4, 59, tzinfo=UTC), D(2024, 1, 5)),
        (dt.datetime(2024, 1, 6, 12, 0, tzinfo=UTC), D(2024, 1, 5)),
        (dt.datetime(2024, 1, 7, 23, 0, tzinfo=UTC), D(2024, 1, 5)),
        (dt.datetime(2024, 1, 8, 14, 30, tzinfo=UTC), D(2024, 1, 5)),
        (dt.datetime(2024, 1, 8, 21, 0, tzinfo=UTC), D(2024, 1, 8)),
        # Daylight time: the 16:00 EDT close is 20:00 UTC.
        (dt.datetime(2024, 7, 12, 19, 59, 59, tzinfo=UTC), D(2024, 7, 11)),
        (dt.datetime(2024, 7, 12, 20, 0, tzinfo=UTC), D(2024, 7, 12)),
        (dt.datetime(2024, 7, 12, 21, 0, tzinfo=UTC), D(2024, 7, 12)),
        (dt.datetime(2024, 7, 13, 2, 0, tzinfo=UTC), D(2024, 7, 12)),
        (dt.datetime(2024, 7, 15, 3, 0, tzinfo=UTC), D(2024, 7, 12)),
        (dt.datetime(2024, 7, 15, 20, 0, tzinfo=UTC), D(2024, 7, 15)),
        # Holidays: Independence Day and the Good Friday weekend.
        (dt.datetime(2024, 7, 4, 22, 0, tzinfo=UTC), D(2024, 7, 3)),
        (dt.datetime(2024, 3, 31, 12, 0, tzinfo=UTC), D(2024, 3, 28)),
    ],
)
def test_last_completed_session(now: dt.datetime, expected: dt.date) -> None:
    assert last_completed_session(now) == expected


def test_last_completed_session_accepts_any_aware_zone() -> None:
    tokyo = dt.datetime(2024, 1, 6, 6, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 21:00Z
    assert last_completed_session(tokyo) == D(2024, 1, 5)


def test_last_completed_session_rejects_naive_datetime() -> None:
    with pytest.raises(ValueError):
        last_completed_session(dt.datetime(2024, 1, 5, 21, 0))


def _load_fixture(relative: str) -> dict:
    path = PROVIDERS / relative
    if not path.exists():
        pytest.skip(f"fixture not available: {path}")
    return json.loads(path.read_text())


def test_alpha_vantage_recorded_payload_has_one_bar_per_session() -> None:
    payload = _load_fixture("alpha_vantage/time_series_daily_adjusted_AAPL_compact_100rows_2021-07-23.json")
    days = sorted(D.fromisoformat(key) for key in payload["Time Series (Daily)"])
    assert days == nyse_sessions(D(2021, 3, 3), D(2021, 7, 23))


def test_yahoo_recorded_payload_has_one_bar_per_session() -> None:
    payload = _load_fixture("yahoo_finance/v8_chart_MSFT_1d_2021-02-01_to_2022-01-31_events_div.json")
    new_york = ZoneInfo("America/New_York")
    timestamps = payload["chart"]["result"][0]["timestamp"]
    days = [dt.datetime.fromtimestamp(ts, tz=new_york).date() for ts in timestamps]
    # The request's end bound is exclusive: Monday 2022-01-31 is not included.
    assert days == nyse_sessions(D(2021, 2, 1), D(2022, 1, 28))


def test_the_dbt_holiday_seed_is_generated_from_this_module(tmp_path):
    from extract.calendars import write_holiday_seed
    from extract.settings import DBT_PROJECT_DIR

    write_holiday_seed(tmp_path / "nyse_holidays.csv")
    committed = (DBT_PROJECT_DIR / "seeds" / "nyse_holidays.csv").read_text()
    assert committed == (tmp_path / "nyse_holidays.csv").read_text(), "run `python -m extract.calendars`"
    assert "2022-06-20,Juneteenth" in committed
