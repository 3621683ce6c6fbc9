"""MARKET_ELT_TASK_RUNNER=dask on a real LocalCluster of 2 worker processes (one per module):
budgets in separate processes share one call window through the scheduler's semaphores
(flows/runtime/dask_shared.py); the daily flow with providers split into batches publishes the
same marts, row for row, as the default thread runner from the same emulator, and leaves the
same dlt state; a failing asset on a worker is reported as the thread runner reports it; a
backfill's batches run on the workers and a rerun skips them.

The emulator's clock is frozen for the module, so both runners are served the same answers.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

import cloudpickle
import pytest
import requests
from distributed import Client, LocalCluster
from prefect.client.orchestration import get_client

from extract.backfill import Backfill
from extract.emulator.server import Emulator, EmulatorConfig, Fault
from extract.pipeline import pipeline_for, provider_assets
from extract.ratelimit import BudgetedAdapter, RateBudget
from extract.registry import PROVIDERS
from extract.settings import Settings
from flows.backfill import backfill
from flows.daily import daily
from flows.runtime.dask_shared import SemaphoreSlots
from flows.runtime.summary import RunFailedError
from flows.runtime.warehouse import columns_and_rows, query

pytestmark = pytest.mark.slow
WORKERS = 2
HISTORY_DAYS = 20


@pytest.fixture(scope="module")
def cluster(prefect_harness):
    """One LocalCluster of worker processes for the module; its workers report task runs to the
    session's Prefect API."""
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import tests/
    with get_client(sync_client=True) as client:
        api_url = str(client.api_url).rstrip("/")
    with LocalCluster(
        n_workers=WORKERS,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        env={"PREFECT_API_URL": api_url},
    ) as running:
        yield running


@pytest.fixture(scope="module")
def frozen_emulator():
    """An emulator whose clock stands still: every run of the module gets the same answers."""
    frozen = dt.datetime.now(dt.UTC)
    with Emulator(clock=lambda: frozen) as running:
        yield running


@pytest.fixture
def run_env(tmp_path, monkeypatch, frozen_emulator):
    """Point flows at the frozen emulator as the real providers; `use(name, runner)` gives each
    run a warehouse and dlt directory of its own and picks the task runner."""
    for name, value in frozen_emulator.environ(alpaca_plan="free").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", "test-key")
    monkeypatch.setenv("MARKET_ELT_HISTORY_DAYS", str(HISTORY_DAYS))
    monkeypatch.setenv("DBT_TARGET", "dev")
    for provider in ("COINGECKO", "ALPHAVANTAGE", "FEAR_GREED", "ALPACA"):
        for window in ("SECOND", "MINUTE", "DAY", "MONTH"):
            monkeypatch.setenv(f"{provider}_CALLS_PER_{window}", "unlimited")

    def use(name: str, runner: str, cluster: LocalCluster | None = None) -> Settings:
        monkeypatch.setenv("DUCKDB_PATH", str(tmp_path / name / "warehouse.duckdb"))
        monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / name / "dlt"))
        monkeypatch.setenv("MARKET_ELT_TASK_RUNNER", runner)
        if cluster is not None:
            monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
        return Settings.from_env()

    yield use
    frozen_emulator._faults.clear()


def _published(settings: Settings) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every published mart's columns and rows in a stable order, without the dlt load ids
    (each run's own)."""
    tables = query(settings, "select table_name from information_schema.tables where table_schema = 'main'")
    marts = {}
    for (table,) in sorted(tables):
        columns, _ = columns_and_rows(settings, f"select * from main.{table} limit 0")
        kept = [column for column in columns if column != "load_id"]
        order = ", ".join(str(i) for i in range(1, len(kept) + 1))
        marts[table] = columns_and_rows(settings, f"select {', '.join(kept)} from main.{table} order by {order}")
    return marts


def _sources_state(settings: Settings) -> dict[str, dict]:
    """Each provider pipeline's `sources` state as committed to the warehouse (restored into a
    new working directory): cursors, finished backfills, a learned plan."""
    states = {}
    for provider in PROVIDERS:
        pipeline = pipeline_for(provider, settings, settings.dlt_dir / "restored")
        pipeline.sync_destination()
        states[provider] = pipeline.state.get("sources", {})
    return states


def test_the_daily_flow_in_batches_on_dask_publishes_what_the_thread_runner_publishes(
    cluster, run_env, frozen_emulator, monkeypatch
):
    threads = run_env("threads", "thread")
    assert daily().ok
    expected_marts, expected_state = _published(threads), _sources_state(threads)

    monkeypatch.setenv("MARKET_ELT_BATCH_ASSETS", "2")  # 3 batches of coins, 5 of equities, ...
    on_dask = run_env("dask", "dask", cluster)
    before = len(frozen_emulator.requests)
    summary = daily()
    assert summary.ok, summary.text()

    marts = _published(on_dask)
    for table in ("daily_bars", "observations", "daily_features", "hourly_bars", "weekly_bars"):
        assert marts[table][1], f"{table} has rows"
    for table, expected in expected_marts.items():
        assert marts[table] == expected, table
    assert _sources_state(on_dask) == expected_state, "cursors, plan and extras as the thread runner left them"
    coins = provider_assets("coingecko", on_dask)
    charted = [r.path for r in frozen_emulator.requests[before:] if "market_chart" in r.path]
    assert sorted(charted) == sorted(f"/api/v3/coins/{coin}/market_chart/range" for coin in coins), (
        "each coin fetched once, by one batch"
    )
    report = next(r for r in summary.providers if r.provider == "coingecko")
    batches = -(-len(coins) // 2)
    assert report.assets_ok == len(coins) and report.calls == len(coins) + batches, "a chart and a markets call each"


def _raw_tables(settings: Settings) -> dict[str, list[tuple]]:
    """Every table dlt loaded into `raw`, its rows in a stable order, without dlt's per-load ids."""
    tables = query(settings, "select table_name from information_schema.tables where table_schema = 'raw'")
    loaded = {}
    for (table,) in sorted(tables):
        if table.startswith("_dlt"):
            continue
        columns, _ = columns_and_rows(settings, f"select * from raw.{table} limit 0")
        kept = sorted(column for column in columns if column not in ("_dlt_load_id", "_dlt_id"))
        order = ", ".join(str(i) for i in range(1, len(kept) + 1))
        loaded[table] = query(settings, f"select {', '.join(kept)} from raw.{table} order by {order}")
    return loaded


@pytest.mark.postgres
def test_on_postgres_batches_load_side_by_side_what_the_thread_runner_loads(cluster, run_env, pg_env, monkeypatch):
    """A new Postgres warehouse: the batches create their tables one at a time and load in
    parallel afterwards; the call ledger is created once."""
    import psycopg2

    monkeypatch.setenv("DBT_TARGET", "postgres")
    threads = run_env("threads", "thread")
    assert daily(transform=False).ok
    expected = _raw_tables(threads)

    admin = psycopg2.connect(**{**threads.postgres.connect_kwargs(), "dbname": "postgres"})
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'drop database if exists "{threads.postgres.dbname}_dask"')
        cursor.execute(f'create database "{threads.postgres.dbname}_dask"')
    admin.close()
    monkeypatch.setenv("PGDATABASE", f"{threads.postgres.dbname}_dask")
    monkeypatch.setenv("MARKET_ELT_BATCH_ASSETS", "2")
    on_dask = run_env("dask", "dask", cluster)
    summary = daily(transform=False)
    assert summary.ok, summary.text()
    assert _raw_tables(on_dask) == expected
    assert _sources_state(on_dask) == _sources_state(threads)
    counted = query(on_dask, "select sum(calls) from ops.call_ledger where period = 'day'")[0][0]
    assert counted == sum(report.calls for report in summary.providers), "every call of every batch, once"


def test_a_failing_asset_on_a_worker_is_reported_as_on_the_thread_runner(
    cluster, run_env, frozen_emulator, monkeypatch
):
    monkeypatch.setenv("MARKET_ELT_BATCH_ASSETS", "2")
    reports = {}
    for runner in ("thread", "dask"):
        run_env(runner, runner, cluster)
        frozen_emulator.inject(Fault("coingecko", status=500, path_contains="/coins/solana/"), times=50)
        with pytest.raises(RunFailedError) as failed:
            daily(providers=["coingecko"], transform=False)
        frozen_emulator._faults.clear()
        (reports[runner],) = failed.value.summary.providers
        assert failed.value.summary.errors == []
    coins = provider_assets("coingecko")
    assert set(reports["dask"].failures) == set(reports["thread"].failures) == {"solana"}
    assert "HTTP 500" in reports["dask"].failures["solana"]
    assert reports["dask"].failures == reports["thread"].failures
    assert reports["dask"].assets_ok == reports["thread"].assets_ok == len(coins) - 1
    batches = -(-len(coins) // 2)
    assert reports["dask"].calls == reports["thread"].calls + batches - 1, "the same calls and a markets call a batch"


def test_a_backfill_runs_its_batches_on_the_workers_and_a_rerun_skips_them(cluster, run_env, monkeypatch):
    monkeypatch.setenv("MARKET_ELT_WORKERS", "1")  # batches of 2 coins: 3 tasks
    today = dt.datetime.now(dt.UTC).date()
    window = dict(provider="coingecko", start=today - dt.timedelta(days=40), end=today - dt.timedelta(days=30))
    threads = run_env("threads", "thread")
    assert backfill(**window, transform=False).ok
    points = "select coin_id, ts, price, market_cap, total_volume from raw.coingecko_market_chart order by 1, 2"
    expected = query(threads, points)

    on_dask = run_env("dask", "dask", cluster)
    first = backfill(**window, transform=False)
    assert first.ok, first.text()
    assert query(on_dask, points) == expected
    again = backfill(**window, transform=False)
    report = again.providers[0]
    assert (report.skipped, report.calls) == (len(provider_assets("coingecko")), 0), "every coin was finished"
    finished = _sources_state(on_dask)["coingecko"]["coingecko"]["resources"]["coingecko_market_chart"]["backfills"]
    assert sorted(finished[Backfill(window["start"], window["end"]).job_id]) == sorted(provider_assets("coingecko"))


def _hammer(url: str, calls: int, per_window: int, window: float, shared: bool) -> list[int]:
    """`calls` requests through a budget of `per_window` calls per `window` s, in a worker."""
    budget = RateBudget("coingecko", per_minute=per_window, per_day=None, window_seconds=window)
    if shared:
        budget.share(SemaphoreSlots)
    session = requests.Session()
    session.mount("http://", BudgetedAdapter(budget))
    statuses = []
    for _ in range(calls):
        statuses.append(session.get(url, params={"vs_currency": "usd", "ids": "bitcoin"}, timeout=10).status_code)
    return statuses


def _most_in_a_window(times: list[float], window: float) -> int:
    times, most, start = sorted(times), 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "per-process"])
def test_workers_share_one_call_budget(cluster, shared):
    per_window, window, calls = 6, 2.0, 9
    config = EmulatorConfig(window_seconds=window, per_minute={"coingecko": per_window})
    with Emulator(config=config) as emulator, Client(cluster) as client:
        url = f"{emulator.base_urls()['coingecko']}/coins/markets"
        started = time.monotonic()
        futures = [
            client.submit(_hammer, url, calls, per_window, window, shared, pure=False, workers=[worker])
            for worker in list(client.nthreads())
        ]
        statuses = [status for future in futures for status in future.result()]
        elapsed = time.monotonic() - started
    accepted = [r.at for r in emulator.requests if r.status == 200]
    if not shared:  # each process alone keeps its own window: together they overflow the provider's
        assert 429 in statuses
        return
    assert set(statuses) == {200}, statuses
    assert not emulator.throttled
    assert _most_in_a_window(accepted, window) <= per_window
    # 18 calls at 6 per 2 s: the last six cannot start before two windows have rolled.
    assert elapsed >= 2 * window
