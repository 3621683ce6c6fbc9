"""Two runs at once on one warehouse: the second waits, bounded, saying who holds it, or refuses
at once; never half-way through. A real second process holds the lock, on DuckDB and Postgres."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from extract.settings import Settings
from flows.commands.cli import main
from flows.runtime.warehouse import query
from flows.runtime.warehouse_lock import WarehouseBusyError, warehouse_lock

HOLD = """
import sys, time
from extract.settings import Settings
from flows.runtime.warehouse_lock import warehouse_lock
with warehouse_lock(Settings.from_env(), "the scheduled run", 0):
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
"""


def _hold(seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


@pytest.fixture(params=["dev", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request, warehouse_dir, monkeypatch) -> Settings:
    if request.param == "postgres":
        request.getfixturevalue("pg_env")
    monkeypatch.setenv("DBT_TARGET", request.param)
    monkeypatch.setenv("DUCKDB_PATH", str(warehouse_dir / "warehouse.duckdb"))
    return Settings.from_env()


def test_a_second_run_refuses_at_once_or_waits_naming_the_holder(warehouse):
    holder = _hold(3)
    try:
        with (
            pytest.raises(WarehouseBusyError, match=r"in use by .*the scheduled run \(pid \d+"),
            warehouse_lock(warehouse, "a manual run", 0),
        ):
            pass
        said = []
        started = time.monotonic()
        with warehouse_lock(warehouse, "a manual run", 60, said.append):
            waited = time.monotonic() - started
        assert 1 < waited < 30, waited
        assert len(said) == 1 and "the scheduled run" in said[0], said
    finally:
        holder.wait(timeout=30)


def test_a_run_that_cannot_wait_long_enough_gives_up_cleanly(warehouse):
    holder = _hold(5)
    try:
        with (
            pytest.raises(WarehouseBusyError, match=r"still in use by .* after 1 s"),
            warehouse_lock(warehouse, "a manual run", 1),
        ):
            pass
    finally:
        holder.wait(timeout=30)
    with warehouse_lock(warehouse, "a manual run", 0):
        pass  # released when its holder ended


@pytest.mark.slow
def test_the_cli_refuses_a_run_while_another_holds_the_warehouse(warehouse, monkeypatch, prefect_harness):
    monkeypatch.setenv("MARKET_ELT_LOCK_TIMEOUT", "0")
    holder = _hold(20)
    try:
        assert main(["run", "--offline", "--providers", "fear_greed"]) == 75, "EX_TEMPFAIL: try again later"
    finally:
        holder.kill()
        holder.wait(timeout=30)
    with warehouse_lock(warehouse, "a check", 0):
        tables = query(warehouse, "select count(*) from information_schema.tables where table_schema = 'raw'")
    assert tables == [(0,)], "the refused run touched nothing"
