"""Backfills: a date range per provider, resumable after a crash without refetching what was
finished, and without losing or duplicating rows."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest

from extract.backfill import Backfill
from extract.emulator.server import Emulator, Fault
from extract.pipeline import backfill_provider, provider_assets
from flows.runtime.warehouse import query

COINS = provider_assets("coingecko")
TODAY = dt.datetime.now(dt.UTC).date()
WINDOW = Backfill(TODAY - dt.timedelta(days=80), TODAY - dt.timedelta(days=51))


def _points_per_coin(settings) -> dict[str, tuple[int, int]]:
    """coin -> (rows, distinct timestamps) in raw."""
    sql = "select coin_id, count(*), count(distinct ts) from raw.coingecko_market_chart group by coin_id"
    return {coin: (rows, keys) for coin, rows, keys in query(settings, sql)}


def _point_at(settings, emulator):
    urls = emulator.base_urls()
    return settings.with_overrides(coingecko_base_url=urls["coingecko"], workers=1)


def test_a_backfill_loads_exactly_its_range_and_a_rerun_fetches_nothing(duckdb_settings, emulator):
    report = backfill_provider("coingecko", duckdb_settings, WINDOW)
    assert report.ok and report.assets_ok == len(COINS)
    first, last = query(duckdb_settings, "select min(point_date), max(point_date) from raw.coingecko_market_chart")[0]
    assert (first, last) == (WINDOW.start, WINDOW.end)
    hours = ((WINDOW.end - WINDOW.start).days + 1) * 24
    assert _points_per_coin(duckdb_settings) == {coin: (hours, hours) for coin in COINS}

    calls_before = emulator.calls("coingecko")
    again = backfill_provider("coingecko", duckdb_settings, WINDOW)
    assert again.skipped == len(COINS) and again.assets_ok == 0
    assert emulator.calls("coingecko") == calls_before


def test_limit_takes_on_some_assets_and_the_next_run_the_rest(duckdb_settings, emulator):
    first = backfill_provider("coingecko", duckdb_settings, WINDOW, limit=2)
    assert first.assets_ok == 2
    rest = backfill_provider("coingecko", duckdb_settings, WINDOW)
    assert rest.skipped == 2 and rest.assets_ok == len(COINS) - 2
    assert set(_points_per_coin(duckdb_settings)) == set(COINS)


def test_alpha_vantage_and_fear_greed_backfills_keep_to_the_range(duckdb_settings):
    window = Backfill(dt.date(2020, 8, 24), dt.date(2020, 9, 4))
    premium = duckdb_settings.with_overrides(alpha_vantage_api_key="premium-key")
    assert backfill_provider("alpha_vantage", premium, window, assets=["AAPL"]).ok
    assert backfill_provider("fear_greed", duckdb_settings, window).ok
    days = query(duckdb_settings, "select min(date), max(date), count(*) from raw.alpha_vantage_daily")
    assert days == [(dt.date(2020, 8, 24), dt.date(2020, 9, 4), 10)]  # 10 NYSE sessions
    index = query(duckdb_settings, "select min(index_date), max(index_date), count(*) from raw.fear_greed_index")
    assert index == [(window.start, window.end, 12)]


def test_the_batches_of_a_backfill_share_one_budget(duckdb_settings, emulator):
    """Each batch is its own dlt source: a day budget spent by the first batches holds for the next."""
    symbols = provider_assets("alpha_vantage")
    budgets = {"alpha_vantage": {"per_minute": None, "per_day": 3}}
    # batches of 2 symbols
    settings = duckdb_settings.with_overrides(budgets=budgets, workers=1, alpha_vantage_api_key="premium-key")
    window = Backfill(dt.date(2020, 8, 24), dt.date(2020, 9, 4))
    report = backfill_provider("alpha_vantage", settings, window, assets=symbols)
    assert report.ok and report.assets_ok == 3, report.summary_line()
    assert len(report.deferred) == len(symbols) - 3


def test_a_free_plan_backfill_reaches_the_latest_sessions_only_and_says_so(duckdb_settings):
    window = Backfill(dt.date(2020, 8, 24), dt.date(2020, 9, 4))
    report = backfill_provider("alpha_vantage", duckdb_settings, window, assets=["AAPL"])
    assert report.ok and report.plan.startswith("free")
    assert "backfill reaches the latest 100 sessions only" in report.notes["AAPL"]
    tables = "select count(*) from information_schema.tables where table_name = 'alpha_vantage_daily'"
    assert query(duckdb_settings, tables) == [(0,)], "no rows in 2020 among the latest 100 sessions"


BACKFILL_SCRIPT = """
import datetime as dt, sys
from extract.backfill import Backfill
from extract.pipeline import backfill_provider
from extract.settings import Settings
window = Backfill(dt.date.fromisoformat(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]))
report = backfill_provider("coingecko", Settings.from_env(), window)
print(report.summary_line())
"""


@pytest.mark.slow
def test_a_killed_backfill_resumes_with_nothing_lost_duplicated_or_refetched(tmp_path, duckdb_settings):
    environment = {
        **os.environ,
        "DUCKDB_PATH": str(tmp_path / "killed.duckdb"),
        "DLT_DATA_DIR": str(tmp_path / "dlt"),
        "MARKET_ELT_WORKERS": "1",  # batches of two coins, one dlt load each
        "COINGECKO_CALLS_PER_MINUTE": "unlimited",
    }
    args = [sys.executable, "-c", BACKFILL_SCRIPT, WINDOW.start.isoformat(), WINDOW.end.isoformat()]
    with Emulator() as emulator:
        environment.update(emulator.environ())
        # The 4th coin (2nd batch) answers slowly: by then the 1st batch is committed.
        emulator.inject(Fault("coingecko", delay=60, path_contains=f"/coins/{COINS[3]}/"))
        process = subprocess.Popen(args, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        # A delayed request shows in `in_flight` as soon as it arrives.
        while not any(f"/coins/{COINS[3]}/" in path for path in emulator.in_flight) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, "the backfill must still be running when it is killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        emulator._faults.clear()
        requests_before = len(emulator.requests)
        resumed = subprocess.run(args, env=environment, capture_output=True, text=True, timeout=300, check=False)
        refetched = {
            coin for coin in COINS if any(f"/coins/{coin}/" in r.path for r in emulator.requests[requests_before:])
        }
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "2 already done" in resumed.stdout
    assert refetched == set(COINS[2:]), "the committed batch is not fetched again"
    settings = duckdb_settings.with_overrides(duckdb_path=tmp_path / "killed.duckdb")
    hours = ((WINDOW.end - WINDOW.start).days + 1) * 24
    assert _points_per_coin(settings) == {coin: (hours, hours) for coin in COINS}, "0 lost, 0 duplicated"
