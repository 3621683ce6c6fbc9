"""The providers' plans as a user with real keys meets them, over HTTP against the emulator: a
free Alpha Vantage key works with nothing else set, every notice gets its behaviour, budgets
outlive a run, CoinGecko keys must match their host, the running day is never a bar."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from extract.coingecko.helpers import candle_rows
from extract.emulator import alpha_vantage as av_texts
from extract.emulator.server import Emulator, EmulatorConfig, Fault
from extract.ledger import MemoryLedger, postgres_ledger, sqlite_ledger
from extract.pipeline import extract_provider, provider_assets
from extract.ratelimit import RateBudget
from extract.settings import NO_LIMITS, PostgresSettings
from flows.runtime.warehouse import query

SYMBOLS = provider_assets("alpha_vantage")
COINS = provider_assets("coingecko")
UTC = dt.UTC


@pytest.fixture
def own_emulator(request):
    config = getattr(request, "param", None) or EmulatorConfig()
    with Emulator(config=config) as running:
        yield running


def _point_at(settings, emulator, coingecko_plan="public", **changes):
    urls = emulator.base_urls(coingecko_plan)
    return settings.with_overrides(
        coingecko_base_url=urls["coingecko"],
        alpha_vantage_base_url=urls["alpha_vantage"],
        fear_greed_base_url=urls["fear_greed"],
        coingecko_plan=coingecko_plan,
        **changes,
    )


def _functions(emulator) -> list[tuple[str, str, str]]:
    return [(r.query.get("function"), r.query.get("symbol"), r.query.get("outputsize")) for r in emulator.requests]


US_SYMBOLS = ["AAPL", "MSFT", "TSLA", "NVDA", "IBM", "SPY"]


def test_a_free_key_with_nothing_else_set_learns_its_plan_once_and_then_calls_once_per_symbol(
    duckdb_settings, own_emulator
):
    """Six symbols: 25 calls on the first day (the probe, the daily series, the extras), one per
    symbol after that."""
    SYMBOLS = US_SYMBOLS  # noqa: N806 - the six of the issue's scenario
    settings = _point_at(duckdb_settings, own_emulator, alpha_vantage_api_key="my-free-key", budgets={})
    report = extract_provider("alpha_vantage", settings, assets=SYMBOLS)
    assert report.ok and report.assets_ok == len(SYMBOLS), report.summary_line()
    calls = _functions(own_emulator)
    assert calls[0] == ("TIME_SERIES_DAILY_ADJUSTED", SYMBOLS[0], "full"), "the plan is learned on one symbol"
    assert [c for c in calls if c[0] == "TIME_SERIES_DAILY_ADJUSTED"] == calls[:1], "refused once, never again"
    assert {c[2] for c in calls if c[0] == "TIME_SERIES_DAILY"} == {"compact"}, "never outputsize=full"
    assert report.plan.startswith("free")
    assert set(report.notes) == set(SYMBOLS) and "latest 100 sessions" in report.notes[SYMBOLS[0]]
    assert "limited by the free plan" in report.summary_line()
    per_symbol = query(settings, "select symbol, count(*) from raw.alpha_vantage_daily group by symbol")
    assert dict(per_symbol) == dict.fromkeys(SYMBOLS, 100)
    extras = {c[0] for c in calls} - {"TIME_SERIES_DAILY", "TIME_SERIES_DAILY_ADJUSTED"}
    assert extras == {"SPLITS", "DIVIDENDS", "TIME_SERIES_MONTHLY"}, "the free extras fill the rest of the day"
    assert len(calls) == 25 == 1 + 4 * len(SYMBOLS), "the free key's 25 calls a day, all used well"
    assert report.budget["day"] == (25, 25, False)

    tomorrow = dt.datetime.now(UTC) + dt.timedelta(days=1)
    before = len(own_emulator.requests)
    again = extract_provider("alpha_vantage", settings, now=tomorrow, assets=SYMBOLS)
    assert again.ok and again.plan.startswith("free (learned on")
    assert sorted(_functions(own_emulator)[before:]) == sorted(("TIME_SERIES_DAILY", s, "compact") for s in SYMBOLS)


def test_a_day_too_short_for_the_extras_puts_the_daily_bars_first_and_the_rest_off(duckdb_settings, own_emulator):
    """The whole universe on a free key: every symbol's daily series first, then corporate actions
    and monthly histories until the 25 calls are spent; the next day takes up what is left."""
    # The free plan's day budget, without its one call a second (paced in the tests above): 50 s less.
    budgets = {"alpha_vantage": {"per_second": None}}
    settings = _point_at(duckdb_settings, own_emulator, alpha_vantage_api_key="my-free-key", budgets=budgets)
    report = extract_provider("alpha_vantage", settings)
    assert report.ok and report.assets_ok == len(SYMBOLS), report.summary_line()
    calls = _functions(own_emulator)
    assert len(calls) == 25 and [c[0] for c in calls[: 1 + len(SYMBOLS)]].count("TIME_SERIES_DAILY") == len(SYMBOLS)
    left = 3 * len(SYMBOLS) - (25 - 1 - len(SYMBOLS))
    assert len(report.deferred) == left and all(" (" in name for name in report.deferred), report.deferred
    tomorrow = dt.datetime.now(UTC) + dt.timedelta(days=1)
    before = len(own_emulator.requests)
    assert extract_provider("alpha_vantage", settings, now=tomorrow).ok
    assert len(own_emulator.requests) - before == len(SYMBOLS) + left, "the daily series, then what was put off"


def test_a_spent_day_budget_defers_a_second_same_day_run_without_a_call(duckdb_settings, own_emulator):
    budgets = {"alpha_vantage": {"per_day": 4, "per_second": None}}
    settings = _point_at(duckdb_settings, own_emulator, alpha_vantage_api_key="premium-key", budgets=budgets)
    first = extract_provider("alpha_vantage", settings)
    assert first.assets_ok == 4 and len(first.deferred) == len(SYMBOLS) - 4
    calls = own_emulator.calls()
    second = extract_provider("alpha_vantage", settings)
    assert own_emulator.calls() == calls, "not a single call"
    assert second.ok and set(second.deferred) == set(SYMBOLS)
    assert (
        "day budget of 4 calls exhausted" in second.summary_line() and "day: 0 of 4 calls left" in second.summary_line()
    )


def test_the_providers_daily_limit_defers_the_rest_for_the_day_without_retries_or_the_key(
    duckdb_settings, own_emulator
):
    """The answer echoes the key ("We have detected your API key as ..."): it never reaches a report."""
    key = "SECRET-free-key-42"
    own_emulator.config.per_day["alpha_vantage"] = 3
    settings = _point_at(duckdb_settings, own_emulator, alpha_vantage_api_key=key, workers=1, budgets={})
    report = extract_provider("alpha_vantage", settings)
    assert report.ok, report.summary_line()
    assert own_emulator.calls() == 4, "three answered, one refused, no retry"
    assert len(report.deferred) == len(SYMBOLS) - 2  # the probe and one symbol got their calls
    assert "today's requests are used up" in report.summary_line() and key not in report.summary_line()
    assert report.budget["day"][2], "the provider's word is kept in the ledger"
    calls = own_emulator.calls()
    assert extract_provider("alpha_vantage", settings).deferred and own_emulator.calls() == calls


def test_a_burst_notice_waits_a_second_and_the_free_plan_paces_at_one_call_a_second(duckdb_settings, own_emulator):
    own_emulator.config.per_second["alpha_vantage"] = 1
    own_emulator.inject(Fault("alpha_vantage", body={"Information": av_texts.BURST}))
    settings = _point_at(
        duckdb_settings, own_emulator, alpha_vantage_api_key="free-key", alpha_vantage_plan="free", budgets={}
    )
    started = time.monotonic()
    report = extract_provider("alpha_vantage", settings, assets=SYMBOLS[:2])
    assert report.ok, report.summary_line()
    statuses = [r for r in own_emulator.requests if r.query.get("function") == "TIME_SERIES_DAILY"]
    assert len(statuses) == 3, "the burst answer was retried once"
    gaps = [b.at - a.at for a, b in zip(own_emulator.requests, own_emulator.requests[1:], strict=False)]
    assert min(gaps) >= 0.95, f"at most one call a second: {gaps}"
    assert time.monotonic() - started >= len(own_emulator.requests) - 1


@pytest.mark.parametrize(
    ("key", "words"),
    [(None, "ALPHAVANTAGE_API_KEY is not set"), ("demo", "ALPHAVANTAGE_API_KEY=demo only serves")],
)
def test_a_missing_or_demo_key_is_one_configuration_error(duckdb_settings, own_emulator, key, words):
    settings = _point_at(duckdb_settings, own_emulator, alpha_vantage_api_key=key)
    report = extract_provider("alpha_vantage", settings)
    assert list(report.failures) == ["(configuration)"] and words in report.failures["(configuration)"]
    assert set(report.deferred) >= set(SYMBOLS) - {"IBM"}
    assert own_emulator.calls() <= 2, "no call without a key; a demo key stops at its first refusal"


def test_coingecko_key_on_the_wrong_host_is_one_error_naming_the_plan_setting(duckdb_settings, own_emulator):
    """COINGECKO_PLAN=pro pointed at the public host: the paid key's header there is 10010."""
    settings = _point_at(duckdb_settings, own_emulator, "pro", coingecko_api_key="pro-key", workers=1)
    settings = settings.with_overrides(coingecko_base_url=own_emulator.base_urls("public")["coingecko"])
    report = extract_provider("coingecko", settings)
    assert list(report.failures) == ["(configuration)"], report.summary_line()
    reason = report.failures["(configuration)"]
    assert "pro-api.coingecko.com" in reason and "COINGECKO_PLAN=basic or COINGECKO_PLAN=pro" in reason
    assert set(report.deferred) == set(COINS), "no coin was fetched"
    assert own_emulator.calls() <= 3, "one refusal per resource at most, then nothing"


def test_a_basic_key_configured_as_pro_falls_back_to_hourly_bars_with_a_warning(duckdb_settings, own_emulator):
    settings = _point_at(duckdb_settings, own_emulator, "pro", coingecko_api_key="basic-key", workers=1)
    report = extract_provider("coingecko", settings)
    assert report.ok, report.summary_line()
    [warning] = [warning for warning in report.warnings if "no /ohlc/range candles" in warning]
    assert "no hourly candles are loaded" in warning, "one warning for the daily and the hourly candles"
    refused = [r for r in own_emulator.requests if "/ohlc/range" in r.path]
    assert len(refused) == 1, "asked once (daily or hourly), then the run stops asking for both"
    assert query(settings, "select count(distinct coin_id) from raw.coingecko_market_chart") == [(len(COINS),)]


def test_a_key_without_a_plan_is_taken_as_demo_and_said_so(monkeypatch):
    from extract.settings import Settings

    monkeypatch.setenv("COINGECKO_API_KEY", "demo-key")
    monkeypatch.delenv("COINGECKO_PLAN", raising=False)
    settings = Settings.from_env()
    assert settings.coingecko_plan == "demo" and "taken as a demo key" in settings.coingecko_plan_note


@pytest.mark.parametrize(
    "own_emulator",
    [EmulatorConfig(per_minute={"coingecko": 2}, window_seconds=2, coingecko_html_429=True, retry_after_seconds=1)],
    indirect=True,
)
def test_cloudflares_html_429_is_waited_out(duckdb_settings, own_emulator):
    settings = _point_at(duckdb_settings, own_emulator, budgets={"coingecko": NO_LIMITS}, workers=1)
    report = extract_provider("coingecko", settings, assets=COINS[:3])
    assert report.ok, report.summary_line()
    assert sum(r.status == 429 for r in own_emulator.requests) >= 1, "the emulator did throttle"
    assert query(settings, "select count(distinct coin_id) from raw.coingecko_market_chart") == [(3,)]


def test_a_daily_candle_still_open_is_never_a_bar():
    now = dt.datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    closed = int(dt.datetime(2026, 12, 1, tzinfo=UTC).timestamp() * 1000)
    running = int(dt.datetime(2026, 12, 2, tzinfo=UTC).timestamp() * 1000)
    rows = candle_rows("bitcoin", [[closed, 1, 2, 0.5, 1.5], [running, 1.5, 2, 1, 1.8]], now)
    assert [row["candle_date"] for row in rows] == [dt.date(2026, 11, 30)]


@pytest.mark.parametrize("make_ledger", ["memory", "sqlite"])
def test_the_ledger_shares_one_day_between_budgets(tmp_path, make_ledger):
    ledger = MemoryLedger() if make_ledger == "memory" else sqlite_ledger(tmp_path / "ledger.sqlite3")
    now = dt.datetime(2026, 12, 1, 12, tzinfo=UTC)
    first = RateBudget("alpha_vantage", None, 3, ledger=ledger, account="av@x", wall_clock=lambda: now)
    second = RateBudget("alpha_vantage", None, 3, ledger=ledger, account="av@x", wall_clock=lambda: now)
    other = RateBudget("alpha_vantage", None, 3, ledger=ledger, account="av@emulator", wall_clock=lambda: now)
    for budget in (first, first, second):
        budget.acquire()
        budget.release()
    with pytest.raises(Exception, match="day budget of 3 calls exhausted"):
        second.acquire()
    other.acquire()  # another account (the emulator) has its own quota
    tomorrow = RateBudget("alpha_vantage", None, 3, ledger=ledger, account="av@x",
                          wall_clock=lambda: now + dt.timedelta(days=1))  # fmt: skip
    tomorrow.acquire()
    assert first.usage()["day"] == (3, 3, False) and first.usage()["month"][0] == 4


def test_the_sqlite_ledger_is_shared_between_processes(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "ledger.sqlite3"
    script = (
        "import datetime as dt, sys\n"
        "from extract.ledger import sqlite_ledger\n"
        "ledger = sqlite_ledger(__import__('pathlib').Path(sys.argv[1]))\n"
        "now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)\n"
        "for _ in range(20): ledger.take('cg@x', {'month': 100}, now)\n"
    )
    workers = [subprocess.Popen([sys.executable, "-c", script, str(path)]) for _ in range(3)]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0, 0]
    usage = sqlite_ledger(path).usage("cg@x", dt.datetime(2026, 12, 1, tzinfo=UTC))
    assert usage["month"] == (60, False) and usage["day"] == (60, False)


def _take_together(connect, start: threading.Barrier, calls: int, now: dt.datetime, errors: list[str]) -> None:
    ledger = postgres_ledger(connect)
    start.wait()
    try:
        for _ in range(calls):
            ledger.take("cg@x", {"month": 1000}, now)
    except Exception as exc:  # noqa: BLE001 - collected: the assertion names them
        errors.append(repr(exc))
    finally:
        ledger.close()


@pytest.mark.postgres
def test_workers_starting_together_create_the_postgres_ledger_once_and_count_every_call(pg_env):
    """Dask workers (or a run's providers) open the ledger at the same moment on a new warehouse:
    `create ... if not exists` alone lets two sessions collide on the same new table."""
    import psycopg2

    connect = lambda: psycopg2.connect(**PostgresSettings.from_env().connect_kwargs())  # noqa: E731
    now, sessions, calls = dt.datetime(2026, 12, 1, tzinfo=UTC), 8, 5
    for _ in range(10):
        admin = connect()
        with admin, admin.cursor() as cursor:
            cursor.execute("drop schema if exists ops cascade")
        admin.close()
        start, errors = threading.Barrier(sessions), []
        threads = [
            threading.Thread(target=_take_together, args=(connect, start, calls, now, errors)) for _ in range(sessions)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert postgres_ledger(connect).usage("cg@x", now)["month"] == (sessions * calls, False)


def test_a_monthly_quota_at_eighty_percent_warns(duckdb_settings, own_emulator):
    budgets = {"coingecko": {"per_month": 2}}
    settings = _point_at(duckdb_settings, own_emulator, budgets=budgets)
    report = extract_provider("coingecko", settings, assets=COINS[:1])
    assert any("of this month's 2 calls used (100%)" in warning for warning in report.warnings), report.summary_line()
    assert report.budget["month"][:2] == (own_emulator.calls(), 2)
