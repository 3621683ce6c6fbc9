"""Trading calendars from exchange-calendars: each exchange's sessions and closes, CRYPTO every
day, and the committed calendar seeds exactly what `python -m extract.calendars` writes."""

from __future__ import annotations

import datetime as dt
import filecmp

import pytest

from extract import calendars
from extract.assets import infer_exchange, load_assets
from extract.settings import DBT_PROJECT_DIR

UTC = dt.UTC
THANKSGIVING = dt.date(2026, 11, 26)


def test_each_exchange_has_its_own_holidays():
    assert not calendars.is_session("XNYS", THANKSGIVING) and calendars.is_session("XLON", THANKSGIVING)
    assert not calendars.is_session("XNYS", dt.date(2001, 9, 11)), "unscheduled closures are known"
    assert not calendars.is_session("XNYS", dt.date(2025, 1, 9)), "the National Day of Mourning for Jimmy Carter"
    lunar_new_year = [dt.date(2026, 2, 16) + dt.timedelta(days=i) for i in range(5)]
    assert not any(calendars.is_session("XSHG", day) for day in lunar_new_year)
    assert all(calendars.is_session("XNYS", day) for day in lunar_new_year[1:]), "New York trades through it"
    assert calendars.is_session(calendars.CRYPTO, dt.date(2026, 11, 28)), "crypto trades on Saturdays"


def test_the_last_closed_session_follows_each_exchanges_close():
    evening = dt.datetime(2026, THANKSGIVING.month, THANKSGIVING.day, 22, 30, tzinfo=UTC)
    assert calendars.last_closed_session("XNYS", evening) == dt.date(2026, 11, 25)
    assert calendars.last_closed_session("XLON", evening) == THANKSGIVING
    assert calendars.last_closed_session("XSHG", evening) == THANKSGIVING
    before_close = dt.datetime(2026, 12, 1, 20, 59, tzinfo=UTC)  # 15:59 in New York
    assert calendars.last_closed_session("XNYS", before_close) == dt.date(2026, 11, 30)
    assert calendars.last_closed_session("XNYS", before_close + dt.timedelta(minutes=1)) == dt.date(2026, 12, 1)
    assert calendars.last_closed_session(calendars.CRYPTO, before_close) == dt.date(2026, 11, 30)
    assert calendars.session_closed("XLON", THANKSGIVING, evening) and not calendars.session_closed(
        "XNYS", THANKSGIVING, evening
    )


def test_a_calendar_known_only_to_the_announced_year_ends_there():
    last = calendars.known_until("XSHG")
    assert last.year <= calendars.LAST_DAY.year and last.month == 12
    beyond = calendars.sessions("XSHG", last, last + dt.timedelta(days=10))
    assert beyond == [last] or beyond == [], "no guessed sessions after the known span"
    guessed = calendars.sessions("XSHG", last, last + dt.timedelta(days=10), weekdays_beyond=True)
    assert all(day.weekday() < 5 for day in guessed[1:]) and len(guessed) > 1


def test_unknown_exchanges_are_named():
    with pytest.raises(calendars.UnknownExchangeError, match="unknown exchange 'XNOPE'"):
        calendars.calendar("XNOPE")


def test_alpha_vantage_suffixes_imply_the_exchange():
    assert infer_exchange("equity", "TSCO.LON") == "XLON"
    assert infer_exchange("equity", "000002.SHZ") == "XSHG"
    assert infer_exchange("equity", "IBM") == "XNYS"
    assert infer_exchange("crypto", None) == calendars.CRYPTO


def test_the_committed_calendar_seeds_are_current(tmp_path):
    """Regenerated for the universe's exchanges, the seeds are byte for byte the committed ones
    (after adding an exchange to assets.csv, run `python -m extract.calendars`)."""
    seeds = DBT_PROJECT_DIR / "seeds"
    exchanges = calendars.universe_exchanges(seeds / "assets.csv")
    assert set(exchanges) >= {a.exchange for a in load_assets() if a.asset_type == "equity"}
    calendars.write_seeds(tmp_path, exchanges)
    for name in ("exchanges.csv", "exchange_closures.csv"):
        assert filecmp.cmp(tmp_path / name, seeds / name, shallow=False), (
            f"{name} is stale: python -m extract.calendars"
        )


def test_the_dbt_suffix_list_is_the_extractors():
    import yaml

    from extract.alpha_vantage.settings import EXCHANGE_SUFFIXES

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    assert project["vars"]["alpha_vantage_exchange_suffixes"] == EXCHANGE_SUFFIXES
    assert project["vars"]["calendar_start"] == calendars.FIRST_DAY.isoformat()
    assert project["vars"]["calendar_end"] == calendars.LAST_DAY.isoformat()
