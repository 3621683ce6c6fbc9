"""Dask workers on a real 2-worker LocalCluster: budgets in separate processes share one call
window through the scheduler's semaphores (flows/runtime/dask_budget.py)."""

from __future__ import annotations

import sys
import time

import cloudpickle
import pytest
import requests
from distributed import Client, LocalCluster

from extract.emulator.server import Emulator, EmulatorConfig
from extract.ratelimit import BudgetedAdapter, RateBudget
from flows.runtime.dask_budget import SemaphoreSlots

pytestmark = pytest.mark.slow
WORKERS = 2


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster of worker processes for the module."""
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import tests/
    with LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None) as running:
        yield running


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
    # 18 calls at 6 per 2 s: the last ones wait for two windows to roll, not much longer.
    assert 2 * window <= elapsed < 4 * window + 5
