"""The call budget: a sliding minute window and a day count, shared by threads."""

from __future__ import annotations

import threading

import pytest

from extract.ratelimit import BudgetExhaustedError, RateBudget


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
        budget.acquire()
    clock.now = 1030
    budget.acquire()  # the call at t=1000 leaves the window at t=1060
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
    budget.acquire()
    budget.saturate()  # the provider said "too many" after one call of ours
    budget.acquire()
    assert clock.slept == [pytest.approx(60 + budget.margin)]
