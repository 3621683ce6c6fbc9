"""Per-provider call budgets, shared by every worker thread of a run.

Providers meter calls per minute and per day (CoinGecko by plan, Alpha Vantage 25/day on a
free key). Waiting for a free slot before each attempt is cheaper than collecting 429s, and a
spent day budget must end the run cleanly, with what was loaded kept, rather than hammer on.
The budget sits in the HTTP adapter, below dlt's retrying session, so retries are metered too.

A provider counts a call in its window when the request ARRIVES, some time after we send it
(network, thread scheduling) and before its answer reaches us. So a call holds its slot from
the moment it is taken until its answer (or its error) is back, and the slot's minute starts
then: a slot in flight counts and never expires. Any call taken a window after an earlier
call's answer arrives at the provider at least a window after that earlier call did, however
long either spent on the way: the provider's window cannot overflow, whatever the delays.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from requests.adapters import HTTPAdapter


class BudgetExhaustedError(RuntimeError):
    """The provider's calls for today are used up; the remaining assets wait for tomorrow."""


class RateBudget:
    """A sliding one-minute window plus a per-day count. `None` means unlimited.
    `window_seconds` shortens the "minute" for tests and benchmarks.

    `acquire()` takes a slot before a call is sent, `release()` gives it its time once the
    answer is complete (or the call failed); `call()` does both around a block."""

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
        # Slots are timed by answers, so the provider's window is never ahead of ours; the
        # margin only covers the two clocks ticking at slightly different rates (0.1%).
        self.margin = 0.001 * window_seconds
        self._clock, self._sleep = clock, sleep
        self._recent: deque[float] = deque()  # answer times of the calls in the window, oldest first
        self._lock = threading.Condition()
        self.in_flight = 0
        self.used = 0
        self.waited_seconds = 0.0

    def acquire(self) -> None:
        """Block until a call may be made; raise BudgetExhaustedError when the day is spent.
        Every acquire must be followed by one `release()`, whether the call succeeded or not."""
        while True:
            with self._lock:
                if self.per_day is not None and self.used >= self.per_day:
                    raise BudgetExhaustedError(f"{self.provider}: day budget of {self.per_day} calls exhausted")
                now = self._clock()
                while self._recent and now - self._recent[0] >= self.window:
                    self._recent.popleft()
                if self.per_minute is None or self.in_flight + len(self._recent) < self.per_minute:
                    self.in_flight += 1
                    self.used += 1
                    return
                if not self._recent:
                    # Every slot is in flight: the first one back starts its minute then.
                    self._lock.wait()
                    continue
                wait = self.window - (now - self._recent[0]) + self.margin
                self.waited_seconds += wait
            self._sleep(wait)

    def release(self) -> None:
        """The call taken by `acquire()` is over (answered, failed or timed out): its slot
        stays in the window for a window from now, since the provider may have counted it
        at any moment until now."""
        with self._lock:
            self.in_flight = max(0, self.in_flight - 1)
            if self.per_minute is not None:
                self._recent.append(self._clock())
            self._lock.notify_all()

    @contextmanager
    def call(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def saturate(self) -> None:
        """The provider said "too many": treat the current window as full, so the retry that
        follows waits for the window to roll instead of spending its attempts inside it."""
        if self.per_minute is None:
            return
        with self._lock:
            now = self._clock()
            self._recent.extend([now] * max(0, self.per_minute - len(self._recent) - self.in_flight))


class BudgetedAdapter(HTTPAdapter):
    """An HTTPAdapter that holds one call of the budget while each request it sends is on its
    way (until the response headers or an error come back), and saturates the budget when an
    answer says the provider is throttling."""

    def __init__(self, budget: RateBudget, is_throttled: Callable = lambda response: False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.budget = budget
        self.is_throttled = is_throttled

    def send(self, request, *args, **kwargs):
        with self.budget.call():
            response = super().send(request, *args, **kwargs)
        if response.status_code == 429 or self.is_throttled(response):
            self.budget.saturate()
        return response
