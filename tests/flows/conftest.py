"""Flow-test fixtures: the session's emulator standing in for the real providers."""

from __future__ import annotations

import pytest

from extract.settings import BUDGET_WINDOWS


@pytest.fixture
def live_env(tmp_path, warehouse_dir, monkeypatch, prefect_harness, emulator):
    """Run flows against the session's emulator as if it were the real providers (no
    `--offline`), so tests can inject faults and bad payloads into it."""
    monkeypatch.setenv("DUCKDB_PATH", str(warehouse_dir / "warehouse.duckdb"))
    monkeypatch.setenv("DBT_TARGET", "dev")
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    monkeypatch.setenv("MARKET_ELT_HISTORY_DAYS", "20")
    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", "test-key")
    for name, value in emulator.environ().items():
        monkeypatch.setenv(name, value)
    # No client-side pacing (the free Alpha Vantage plan's one call a second included, which made
    # a 37-call extract take 37 s): the plans' budgets have tests of their own (tests/*/test_plans.py).
    for provider in ("COINGECKO", "ALPHAVANTAGE", "FEAR_GREED"):
        for window in BUDGET_WINDOWS:
            monkeypatch.setenv(f"{provider}_CALLS_PER_{window.upper()}", "unlimited")
    yield emulator
    emulator._faults.clear()
