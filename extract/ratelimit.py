"""Per-provider call budgets, shared by every worker thread of a run.

Providers meter calls per minute and per day (CoinGecko by plan, Alpha Vantage 25/day on a
free key). Waiting for a free slot before each attempt is cheaper than collecting 429s, and a
spent day budget must end the run cleanly, with what was loaded kept, rather than hammer on.
The budget sits in the HTTP adapter, below dlt's retrying session, so retries are metered too.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from requests.adapters import HTTPAdapter


class BudgetExhaustedError(RuntimeError):
    """The provider's calls for today are used up; the remaining assets wait for tomorrow."""


class RateBudget:
    """A sliding one-minute window plus a per-day count. `None` means unlimited.
    `window_seconds` shortens the "minute" for tests and benchmarks."""

    def __init__(
        self,
        provider: str,
        per_minute: int | None,
        per_day: int | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        window_seconds: float = 60.0,
    ) -> None:
        self.provider, self.per_minute, self.per_day = provider, per_minute, per_day
        self.window = window_seconds
        # The provider's window starts when our request arrives, a little after we count it:
        # waiting 2% (+50 ms) longer keeps the two windows from overlapping.
        self.margin = 0.02 * window_seconds + 0.05
        self._clock, self._sleep = clock, sleep
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()
        self.used = 0
        self.waited_seconds = 0.0

    def acquire(self) -> None:
        """Block until a call may be made; raise BudgetExhaustedError when the day is spent."""
        while True:
            with self._lock:
                if self.per_day is not None and self.used >= self.per_day:
                    raise BudgetExhaustedError(f"{self.provider}: day budget of {self.per_day} calls exhausted")
                now = self._clock()
                while self._recent and now - self._recent[0] >= self.window:
                    self._recent.popleft()
                if self.per_minute is None or len(self._recent) < self.per_minute:
                    self._recent.append(now)
                    self.used += 1
                    return
                wait = self.window - (now - self._recent[0]) + self.margin
                self.waited_seconds += wait
            self._sleep(wait)

    def saturate(self) -> None:
        """The provider said "too many": treat the current window as full, so the retry that
        follows waits for the window to roll instead of spending its attempts inside it."""
        if self.per_minute is None:
            return
        with self._lock:
            now = self._clock()
            self._recent.extend([now] * max(0, self.per_minute - len(self._recent)))


class BudgetedAdapter(HTTPAdapter):
    """An HTTPAdapter that takes one call from the budget before every request it sends,
    and saturates the budget when an answer says the provider is throttling."""

    def __init__(self, budget: RateBudget, is_throttled: Callable = lambda response: False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.budget = budget
        self.is_throttled = is_throttled

    def send(self, request, *args, **kwargs):
        self.budget.acquire()
        response = super().send(request, *args, **kwargs)
        if response.status_code == 429 or self.is_throttled(response):
            self.budget.saturate()
        return response
