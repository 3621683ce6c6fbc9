"""The call budget: a sliding minute window and a day count, shared by threads; a call holds
its slot from before it is sent until its answer is back."""

from __future__ import annotations

import random
import threading

import pytest
import requests
from requests.adapters import HTTPAdapter

from extract.ledger import BudgetExhaustedError
from extract.pipeline import backfill_batch_size
from extract.ratelimit import BudgetedAdapter, RateBudget


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_minute_window_makes_the_next_call_wait_until_the_oldest_expires():
    clock = FakeClock()
    budget = RateBudget("coingecko", per_minute=3, per_day=None, clock=clock, sleep=clock.sleep)
    for offset in (0, 10, 20):
        clock.now = 1000 + offset
        with budget.call():
            pass
    clock.now = 1030
    budget.acquire()  # the call answered at t=1000 leaves the window at t=1060
    assert clock.slept == [pytest.approx(30 + budget.margin)]
    assert budget.used == 4


def test_the_day_budget_raises_once_spent():
    budget = RateBudget("alpha_vantage", per_minute=None, per_day=2)
    budget.acquire()
    budget.acquire()
    with pytest.raises(BudgetExhaustedError, match="alpha_vantage: day budget of 2 calls exhausted"):
        budget.acquire()


def test_threads_share_one_budget():
    clock = FakeClock()
    budget = RateBudget("coingecko", per_minute=None, per_day=50, clock=clock, sleep=clock.sleep)
    admitted, refused = [], []

    def worker():
        for _ in range(20):
            try:
                budget.acquire()
                admitted.append(1)
            except BudgetExhaustedError:
                refused.append(1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 50 and len(refused) == 30


def test_a_throttled_answer_makes_the_next_call_wait_for_the_window():
    clock = FakeClock()
    budget = RateBudget("alpha_vantage", per_minute=5, per_day=None, clock=clock, sleep=clock.sleep)
    with budget.call():
        pass
    budget.saturate()  # the provider said "too many" after one call of ours
    budget.acquire()
    assert clock.slept == [pytest.approx(60 + budget.margin)]


def test_a_call_in_flight_keeps_its_slot_and_its_minute_starts_at_its_answer():
    clock = FakeClock()
    budget = RateBudget("coingecko", per_minute=1, per_day=None, clock=clock, sleep=clock.sleep)
    budget.acquire()  # sent at t=1000; the provider may count it any time until its answer
    clock.now = 1100  # a slow answer: far past the window, yet the slot is still held
    waiter = threading.Thread(target=budget.acquire)
    waiter.start()  # blocks: the only slot is in flight
    budget.release()  # answered at t=1100
    waiter.join(timeout=30)
    assert not waiter.is_alive()
    assert clock.slept == [pytest.approx(60 + budget.margin)], "the next call waits a window from the answer"
    assert budget.in_flight == 1 and budget.used == 2


def test_the_providers_window_never_overflows_whatever_the_delays():
    """Calls go out in overlapping groups, each arriving at the provider some random time after
    it was sent and answered some random time after that (up to two windows either way). The
    provider counts arrivals: no window of its ever holds more than the budget."""
    rng = random.Random(7)
    clock = FakeClock()
    budget = RateBudget("coingecko", per_minute=5, per_day=None, clock=clock, sleep=clock.sleep)
    arrivals = []
    for _ in range(200):
        group = []
        for _ in range(rng.randint(1, 4)):
            budget.acquire()
            arrival = clock.now + rng.choice([0.0, rng.uniform(0, 1), rng.uniform(0, 120)])
            group.append((arrival + rng.choice([0.0, rng.uniform(0, 1), rng.uniform(0, 120)]), arrival))
        for answered, arrival in sorted(group):
            clock.now = max(clock.now, answered)
            budget.release()
            arrivals.append(arrival)
    arrivals.sort()
    busiest = max(sum(1 for t in arrivals if start <= t < start + 60) for start in arrivals)
    assert busiest == 5, "the budget is used up to the limit, never past it"
    assert budget.in_flight == 0


@pytest.mark.parametrize("error", [requests.ConnectionError("refused"), requests.ReadTimeout("slow")])
def test_a_call_that_raises_gives_its_slot_back_timed_at_the_error(monkeypatch, error):
    clock = FakeClock()
    budget = RateBudget("coingecko", per_minute=1, per_day=None, clock=clock, sleep=clock.sleep)

    def failing_send(self, request, *args, **kwargs):
        clock.now = 1005  # the error comes back 5 s after the call was sent
        raise error

    monkeypatch.setattr(HTTPAdapter, "send", failing_send)
    with pytest.raises(type(error)):
        BudgetedAdapter(budget).send(requests.Request("GET", "http://127.0.0.1:9/").prepare())
    assert budget.in_flight == 0
    budget.acquire()  # the provider may have counted the failed call until t=1005
    assert clock.slept == [pytest.approx(60 + budget.margin)]


def test_a_backfill_batch_is_about_fifteen_seconds_of_the_budget():
    def budget(per_minute, window=60.0):
        return RateBudget("alpha_vantage", per_minute, None, window_seconds=window)

    assert backfill_batch_size(budget(600), workers=4) == 150
    assert backfill_batch_size(budget(100, window=10), workers=4) == 150  # the same rate, shorter "minute"
    assert backfill_batch_size(budget(600), workers=4, calls_per_asset=5) == 30
    assert backfill_batch_size(budget(5), workers=4) == 8, "never fewer than keep the workers busy"
    assert backfill_batch_size(budget(None), workers=4) == 8
    assert backfill_batch_size(budget(100_000), workers=4) == 1000
