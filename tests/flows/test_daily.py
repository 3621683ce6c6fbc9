"""The daily flow end to end, offline, under a real Prefect harness, on DuckDB and Postgres."""

from __future__ import annotations

import datetime as dt
import functools

import pytest

from extract.assets import load_assets
from extract.emulator.server import Emulator
from extract.settings import Settings
from flows.daily import daily
from flows.runtime import offline
from flows.runtime.warehouse import query
from tests.flows.intraday import assert_intraday_marts, first_hour, remove_a_print
from tests.flows.targets import TARGETS, use_warehouse

pytestmark = pytest.mark.slow
HISTORY_DAYS = 20


@pytest.fixture
def flow_env(tmp_path, warehouse_dir, monkeypatch, prefect_harness):
    # The offline emulator answers as of the test's start: a session closing while the test runs
    # (London's at 16:30 UTC) would otherwise add a bar between its two runs.
    started = dt.datetime.now(dt.UTC)
    monkeypatch.setattr(offline, "Emulator", functools.partial(Emulator, clock=lambda: started))
    monkeypatch.setenv("DUCKDB_PATH", str(warehouse_dir / "warehouse.duckdb"))
    monkeypatch.setenv("DBT_TARGET", "dev")
    monkeypatch.setenv("MARKET_ELT_HISTORY_DAYS", str(HISTORY_DAYS))
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    return warehouse_dir


def _assert_marts_complete(settings: Settings) -> None:
    active = [a for a in load_assets() if a.is_active]
    today = dt.datetime.now(dt.UTC).date()
    bars = dict(query(settings, "select asset_id, count(*) from daily_bars group by asset_id"))
    for asset in active:
        # crypto: every complete UTC day of the history window; equities: the latest 100
        # sessions of their own exchange, all the offline demo's free Alpha Vantage key gets.
        expected = HISTORY_DAYS if asset.asset_type == "crypto" else 100
        assert bars.get(asset.asset_id) == expected, asset.symbol
    inactive = {a.asset_id for a in load_assets() if not a.is_active}
    assert not inactive & set(bars), "inactive assets are not extracted"
    duplicates = query(
        settings, "select count(*) from (select asset_id, date from daily_bars group by 1, 2 having count(*) > 1) d"
    )
    assert duplicates == [(0,)]
    max_crypto_date = query(
        settings,
        "select max(date) from daily_bars db join assets a on db.asset_id = a.asset_id where a.asset_type = 'crypto'",
    )[0][0]
    assert max_crypto_date == today - dt.timedelta(days=1), "only complete UTC days"
    fear_greed = query(
        settings, "select count(*) from observations where metric = 'fear_greed_index' and asset_id is null"
    )
    assert fear_greed[0][0] > 3000
    features = query(settings, "select count(*), count(sma_20), count(rsi_14) from daily_features")[0]
    total_bars = sum(bars.values())
    assert features[0] == total_bars, "daily_features is published with one row per bar"
    # features.md: sma_20 is NULL for each asset's first 19 rows, rsi_14 for its first 14.
    assert features[1:] == (total_bars - 19 * len(active), total_bars - 14 * len(active))
    currencies = dict(
        query(settings, "select a.symbol, max(b.currency) from daily_bars b join assets a using (asset_id) group by 1")
    )
    assert {currencies[s] for s in ("TSCO.LON", "SHOP.TRT", "600104.SHH", "AAPL")} == {"GBX", "CAD", "CNY", "USD"}
    exchanges = dict(query(settings, "select symbol, exchange from assets"))
    assert (exchanges["TSCO.LON"], exchanges["600104.SHH"], exchanges["BTC"]) == ("XLON", "XSHG", None)
    wide = query(settings, "select count(*) from observations_wide where current_price is not null")
    assert wide[0][0] == sum(1 for a in active if a.asset_type == "crypto")


def _table_counts(settings: Settings) -> dict[str, int]:
    tables = ["daily_bars", "observations", "assets", "raw.alpha_vantage_daily", "raw.fear_greed_index"]
    return {table: query(settings, f"select count(*) from {table}")[0][0] for table in tables}


@pytest.mark.parametrize("target", TARGETS)
def test_offline_flow_fills_the_marts_and_a_second_run_adds_no_duplicates(target, flow_env, monkeypatch, request):
    use_warehouse(target, monkeypatch, request)
    summary = daily(offline=True)
    assert summary.ok, summary.text()
    settings = Settings.from_env()
    _assert_marts_complete(settings)
    first_hourly = assert_intraday_marts(settings)
    first = _table_counts(settings)
    today = dt.datetime.now(dt.UTC).date()
    thinned = today - dt.timedelta(days=8)
    remove_a_print(settings, "solana", thinned)

    again = daily(offline=True)
    assert again.ok, again.text()
    assert _table_counts(settings) == first
    assert "daily_bars crypto: 6/6 active assets" in again.text()
    # The re-fetched lag days (MARKET_ELT_LAG_DAYS=3: from the day before yesterday's eve) and
    # SOL's reloaded day are all the hourly bars recompute; they still follow the definition.
    changes = dict(query(settings, "select a.symbol, c.changed_from from intermediate.int_hourly_bar_changes as c"
                                   " join assets as a using (asset_id)"))  # fmt: skip
    refetched = first_hour(today - dt.timedelta(days=3))
    assert changes == {symbol: refetched for symbol in first_hourly} | {"SOL": first_hour(thinned)}
    hourly = assert_intraday_marts(settings)
    assert [bar for bar in hourly["SOL"] if bar[0].date() == thinned and bar[6] == 0], "the vanished print's hour"
    unchanged = [bar for bar in first_hourly["BTC"] if bar[0].date() < today - dt.timedelta(days=3)]
    assert hourly["BTC"][: len(unchanged)] == unchanged


def test_the_equities_schedule_skips_a_day_no_exchange_traded_without_a_call(flow_env, emulator, monkeypatch):
    for name, value in emulator.environ().items():
        monkeypatch.setenv(name, value)
    new_years_evening = dt.datetime(2026, 1, 1, 22, 30, tzinfo=dt.UTC)  # New York, London, Toronto, Shanghai closed
    calls = emulator.calls()
    summary = daily(providers=["alpha_vantage"], closed_sessions_only=True, now=new_years_evening)
    assert summary.ok and summary.providers == [] and summary.dbt == []
    assert emulator.calls() == calls, "no provider was called"
    assert not (flow_env / "warehouse.duckdb").exists(), "the warehouse was not touched"


def test_on_thanksgiving_the_equities_schedule_fetches_only_the_exchanges_that_traded(flow_env, emulator, monkeypatch):
    """New York is closed; London, Toronto and Shanghai traded and have closed by 22:30 UTC."""
    for name, value in {**emulator.environ(), "ALPHAVANTAGE_API_KEY": "premium-key"}.items():
        monkeypatch.setenv(name, value)
    thanksgiving_evening = dt.datetime(2026, 11, 26, 22, 30, tzinfo=dt.UTC)
    before = len(emulator.requests)
    summary = daily(providers=["alpha_vantage"], transform=False, closed_sessions_only=True, now=thanksgiving_evening)
    assert summary.ok, summary.text()
    fetched = {r.query.get("symbol") for r in emulator.requests[before:] if r.provider == "alpha_vantage"}
    assert fetched == {"TSCO.LON", "SHOP.TRT", "600104.SHH"}
