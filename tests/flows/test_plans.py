"""The whole flow as users with real keys run it: a free Alpha Vantage key with nothing else set
(the emulator enforcing the free plan's limits), each CoinGecko plan, and a paid plan's running
daily candle, which never becomes a bar."""

from __future__ import annotations

import datetime as dt

import pytest

from extract.emulator.server import Emulator, EmulatorConfig
from extract.settings import Settings
from flows.commands.cli import main
from flows.commands.status import collect_status
from flows.daily import daily
from flows.runtime.warehouse import query
from tests.workdirs import project_copy

pytestmark = pytest.mark.slow
SYMBOLS = ["AAPL", "MSFT", "TSLA", "NVDA", "IBM", "SPY"]
BUDGET_VARIABLES = [f"{p}_CALLS_PER_{w}" for p in ("COINGECKO", "ALPHAVANTAGE", "FEAR_GREED")
                    for w in ("SECOND", "MINUTE", "DAY", "MONTH")]  # fmt: skip


@pytest.fixture
def user_env(tmp_path, warehouse_dir, monkeypatch, prefect_harness):
    """A user's environment: a warehouse path and nothing else of market-elt's (no budgets)."""
    monkeypatch.setenv("DUCKDB_PATH", str(warehouse_dir / "warehouse.duckdb"))
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    for name in [*BUDGET_VARIABLES, "ALPHAVANTAGE_PLAN", "COINGECKO_PLAN", "COINGECKO_API_KEY", "DBT_TARGET"]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_free_alpha_vantage_key_and_nothing_else_set(user_env, caplog):
    """The free plan's real limits (one call a second, 25 a day) and a universe of six US stocks:
    the run exits 0, loads the latest 100 sessions of every symbol, says the plan limited them,
    and a second run the same day defers without a single call."""
    project = project_copy()
    universe = (project / "seeds" / "assets.csv").read_text().splitlines()
    (project / "seeds" / "assets.csv").write_text(
        "\n".join(line for line in universe if not any(s in line for s in (".LON", ".TRT", ".SHH"))) + "\n"
    )
    user_env.setenv("MARKET_ELT_DBT_PROJECT_DIR", str(project))
    limits = EmulatorConfig(per_second={"alpha_vantage": 1}, per_day={"alpha_vantage": 25})
    with Emulator(config=limits) as emulator:
        for name, value in emulator.environ().items():
            user_env.setenv(name, value)
        user_env.setenv("ALPHAVANTAGE_API_KEY", "my-free-key")
        assert main(["run", "--providers", "alpha_vantage", "fear_greed"]) == 0
        printed = caplog.text
        assert "plan free (learned from the provider's answer)" in printed
        assert "daily history limited by the free plan to the latest 100 sessions" in printed
        assert emulator.throttled == {}, "paced at the free plan's rate: no burst or daily notice provoked"
        settings = Settings.from_env()
        bars = query(settings, "select a.symbol, count(*) from daily_bars b join assets a using (asset_id) "
                               "where a.asset_type = 'equity' group by a.symbol")  # fmt: skip
        assert dict(bars) == dict.fromkeys(SYMBOLS, 100)
        adjusted = query(settings, "select count(*) from daily_bars where adjustment = 'splits_and_dividends'")
        assert adjusted[0][0] > 0, "free bars adjusted from the SPLITS and DIVIDENDS answers"
        history = query(settings, "select count(*) from monthly_bars where source = 'alphavantage_monthly'")
        assert history[0][0] > 100 * len(SYMBOLS), "years of monthly history from TIME_SERIES_MONTHLY"
        limited = collect_status(settings)["providers"]["Daily history limited by the free plan"]
        assert {row["symbol"] for row in limited} == set(SYMBOLS)

        calls = emulator.calls("alpha_vantage")
        assert calls == 25
        assert main(["run", "--providers", "alpha_vantage"]) == 0
        assert emulator.calls("alpha_vantage") == calls, "the day's budget is spent: not a single call"
        assert f"{len(SYMBOLS)} deferred (alpha_vantage: day budget of 25 calls exhausted)" in caplog.text


@pytest.mark.parametrize("plan", ["public", "demo", "basic", "pro"])
def test_the_offline_flow_on_each_coingecko_plan(user_env, plan):
    user_env.setenv("MARKET_ELT_HISTORY_DAYS", "20")  # what differs by plan is in the last days
    summary = daily(offline=True, providers=["coingecko"], offline_plans={"coingecko": plan})
    assert summary.ok, summary.text()
    assert f"plan {plan}" in summary.text()
    settings = Settings.from_env()
    sources = dict(query(settings, "select source, count(*) from daily_bars group by source"))
    assert set(sources) == ({"coingecko"} if plan == "pro" else {"coingecko_hourly"}), sources
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    assert query(settings, "select max(date) from daily_bars") == [(yesterday,)]
    hourly = dict(
        query(settings, f"select source, count(*) from hourly_bars where hour_start <= '{yesterday} 23:00' group by 1")
    )
    assert set(hourly) == ({"coingecko"} if plan == "pro" else {"coingecko_hourly"}), "true hourly candles win"
    assert sum(hourly.values()) == 24 * sum(sources.values()), "24 hourly bars for each daily bar"


def test_a_paid_plans_running_daily_candle_is_never_a_bar(user_env, emulator):
    """CoinGecko stamps a candle with its close time; one closing tonight is today's, still open."""
    for name, value in emulator.environ("pro").items():
        user_env.setenv(name, value)
    user_env.setenv("COINGECKO_PLAN", "pro")
    user_env.setenv("COINGECKO_API_KEY", "pro-key")
    user_env.setenv("MARKET_ELT_HISTORY_DAYS", "20")
    tonight = dt.datetime.combine(dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1), dt.time(), dt.UTC)

    def with_running_candle(provider, path, params, body):
        if path.endswith("/ohlc/range") and body:
            body = [*body, [int(tonight.timestamp() * 1000), *body[-1][1:]]]
        return body

    emulator.payload_hooks.append(with_running_candle)
    try:
        summary = daily(providers=["coingecko"])
    finally:
        emulator.payload_hooks.remove(with_running_candle)
    assert summary.ok, summary.text()
    settings = Settings.from_env()
    today = dt.datetime.now(dt.UTC).date()
    assert query(settings, "select count(*) from daily_bars where date >= current_date")[0][0] == 0
    assert query(settings, "select max(date) from daily_bars")[0][0] == today - dt.timedelta(days=1)
    assert query(settings, "select count(*) from raw.coingecko_ohlc where candle_date = current_date") == [(0,)]
