"""Alpaca in the daily flow, offline, on DuckDB and Postgres: daily bars for the equities with
an alpaca_symbol, daily_bars' source chosen by var('equity_bar_sources') per asset (SPY, left
without an Alpha Vantage symbol here, takes Alpaca's unadjusted bars; the others keep Alpha
Vantage's), bar_reconciliation beside Alpha Vantage's, a rerun without duplicates, and a
disagreeing close warned about by asset and day while everything still publishes."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract.assets import load_assets
from extract.settings import DBT_PROJECT_DIR, Settings
from flows.commands.status import collect_status
from flows.daily import daily
from flows.runtime.warehouse import query
from tests.flows.loads import reload
from tests.flows.targets import TARGETS, use_warehouse
from tests.flows.test_gate import _universe
from tests.workdirs import project_copy

pytestmark = pytest.mark.slow
HISTORY_DAYS = 20


def _universe_with_an_alpaca_only_equity() -> Path:
    """The offline universe with SPY's Alpha Vantage symbol removed: Alpaca is its only source."""
    project = project_copy()
    rows = (DBT_PROJECT_DIR / "seeds" / "assets.csv").read_text().splitlines()[1:]
    _universe(project, [row.replace(",SPY,true,", ",,true,") if ",SPY," in row else row for row in rows])
    return project


@pytest.mark.parametrize("target", TARGETS)
def test_alpaca_bars_are_reconciled_with_alpha_vantage_and_a_disagreement_is_named(
    target, tmp_path, warehouse_dir, monkeypatch, prefect_harness, request
):
    use_warehouse(target, monkeypatch, request)
    monkeypatch.setenv("DUCKDB_PATH", str(warehouse_dir / "warehouse.duckdb"))
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    monkeypatch.setenv("MARKET_ELT_HISTORY_DAYS", str(HISTORY_DAYS))
    monkeypatch.setenv("MARKET_ELT_DBT_PROJECT_DIR", str(_universe_with_an_alpaca_only_equity()))
    summary = daily(offline=True)
    assert summary.ok, summary.text()
    settings = Settings.from_env()

    alpaca_symbols = {a.alpaca_symbol for a in load_assets() if a.is_active and a.alpaca_symbol}
    loaded = dict(query(settings, "select symbol, count(*) from raw.alpaca_daily_bars group by symbol"))
    assert set(loaded) == alpaca_symbols and min(loaded.values()) >= 10, loaded
    sources = dict(
        query(
            settings,
            "select a.symbol, min(b.source) || '/' || max(b.source) || '/' || min(b.adjustment)"
            " from daily_bars as b join assets as a using (asset_id) where a.asset_type = 'equity' group by 1",
        )
    )
    assert sources["SPY"] == "alpaca/alpaca/unadjusted", "Alpaca is SPY's only source"
    assert {sources[s] for s in alpaca_symbols - {"SPY"}} == {"alphavantage/alphavantage/splits_and_dividends"}

    reconciled = query(
        settings,
        "select symbol, status, count(*), sum(case when within_tolerance then 1 else 0 end)"
        " from bar_reconciliation group by 1, 2",
    )
    both = {symbol: (rows, agreeing) for symbol, status, rows, agreeing in reconciled if status == "both"}
    assert set(both) == alpaca_symbols - {"SPY"}, reconciled
    assert all(rows == agreeing and rows >= 10 for rows, agreeing in both.values()), "the emulator's providers agree"
    first = query(settings, "select count(*) from raw.alpaca_daily_bars")[0][0]

    assert daily(offline=True).ok
    assert query(settings, "select count(*) from raw.alpaca_daily_bars")[0][0] == first, "a rerun adds no duplicate"
    duplicates = (
        "select count(*) from (select asset_id, date from bar_reconciliation group by 1, 2 having count(*) > 1) d"
    )
    assert query(settings, duplicates) == [(0,)]

    day = query(settings, "select max(bar_date) from raw.alpaca_daily_bars where symbol = 'TSLA'")[0][0]
    tsla_day = f"symbol = 'TSLA' and bar_date = '{day}'"
    reload(
        settings,
        [f"update raw.alpaca_daily_bars set close = close * 1.02 where {tsla_day}"],
        {"alpaca_daily_bars": tsla_day},
    )
    summary = daily(providers=[])
    assert summary.ok, "a reconciliation warning publishes: " + summary.text()
    warnings = [line for line in summary.text().splitlines() if "bar_reconciliation_closes_agree" in line]
    assert len(warnings) == 1 and "symbol=TSLA" in warnings[0] and f"date={day}" in warnings[0], summary.text()
    flagged = query(
        settings, "select symbol, date, within_tolerance from bar_reconciliation where not within_tolerance"
    )
    assert flagged == [("TSLA", day, False)]
    (line,) = collect_status(settings)["providers"]["Alpaca against Alpha Vantage (bar_reconciliation)"]
    compared = sum(rows for rows, _ in both.values())
    assert (line["feed"], line["assets"], line["days_compared"], line["closes_beyond_tolerance"]) == (
        "iex",
        len(both),
        compared,
        1,
    ), "the status line counts the disagreeing close"
