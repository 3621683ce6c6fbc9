"""Per-provider call budgets, shared by every worker thread of a run.

Providers meter calls per second (Alpha Vantage's free burst limit), per minute, per day and per
month. Waiting for a free slot before each attempt is cheaper than collecting 429s, and a spent
day or month budget must end the run cleanly, with what was loaded kept, rather than hammer on.
The budget sits in the HTTP adapter, below dlt's retrying session, so retries are metered too.
The sliding windows are this run's; day and month counts live in a ledger every run shares
(`extract.ledger`).

A provider counts a call in its window when the request ARRIVES, some time after we send it
(network, thread scheduling) and before its answer reaches us. So a call holds its slot from
the moment it is taken until its answer (or its error) is back, and the slot's window starts
then: a slot in flight counts and never expires. Any call taken a window after an earlier
call's answer arrives at the provider at least a window after that earlier call did, however
long either spent on the way: the provider's window cannot overflow, whatever the delays.

Workers in other processes or on other machines (MARKET_ELT_TASK_RUNNER=dask) each hold a
budget of their own: `share()` makes every call also hold a slot of a shared pool per window,
taken before it is sent and given back a window after its answer, the same rule across them all.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from requests.adapters import HTTPAdapter

from extract.ledger import Ledger, MemoryLedger


class _Window:
    """Answer times of the calls in one sliding window, oldest first."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit, self.seconds = limit, seconds
        self.recent: deque[float] = deque()

    def expire(self, now: float) -> None:
        while self.recent and now - self.recent[0] >= self.seconds:
            self.recent.popleft()


class SharedSlots(Protocol):
    """`limit` slots shared by every budget created with the same name, in any process."""

    def acquire(self) -> None:
        """Block until a slot is free, and take it."""

    def release_after(self, seconds: float) -> None:
        """Give the slot taken back `seconds` from now, without waiting for it."""


class RateBudget:
    """Sliding windows (`per_second`, `per_minute`) plus day and month quotas kept in `ledger`
    under `account`. `None` means unlimited. `window_seconds` shortens the "minute" for tests
    and benchmarks. `share()` adds pools shared with other processes' budgets of this account.

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
        per_second: int | None = None,
        per_month: int | None = None,
        ledger: Ledger | None = None,
        account: str | None = None,
        wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.provider = provider
        self.window = window_seconds
        # Slots are timed by answers, so the provider's window is never ahead of ours; the
        # margin only covers the two clocks ticking at slightly different rates (0.1%).
        self.margin = 0.001 * window_seconds
        self._lock = threading.Condition()
        self._windows: list[_Window] = []
        self.account = account or provider
        self._share: Callable[[str, int, float], SharedSlots] | None = None
        self._shared: list[tuple[float, SharedSlots]] = []
        # The shared slots a thread's call in flight holds: given back to the pools they came
        # from, even when new limits replaced the pools meanwhile.
        self._holding = threading.local()
        self.set_limits(per_second=per_second, per_minute=per_minute, per_day=per_day, per_month=per_month)
        self.ledger = ledger or MemoryLedger()
        self._clock, self._sleep, self._wall_clock = clock, sleep, wall_clock
        self.in_flight = 0
        self.used = 0
        self.waited_seconds = 0.0
        # No call before this (clock) time: the provider said when its quota turns (`pause`).
        self._paused_until = 0.0

    def set_limits(
        self,
        per_second: int | None = None,
        per_minute: int | None = None,
        per_day: int | None = None,
        per_month: int | None = None,
        window_seconds: float | None = None,
    ) -> None:
        """New limits (a plan learned mid-run); calls already in the windows keep counting
        (in this process: the shared pools of the new limits start empty)."""
        with self._lock:
            if window_seconds is not None:
                self.window, self.margin = window_seconds, 0.001 * window_seconds
            old = {window.seconds: window.recent for window in self._windows}
            self.per_second, self.per_minute, self.per_day, self.per_month = per_second, per_minute, per_day, per_month
            self._windows = []
            for limit, seconds in ((per_second, 1.0), (per_minute, self.window)):
                if limit:
                    window = _Window(limit, seconds)
                    window.recent = old.get(seconds, window.recent)
                    self._windows.append(window)
            self._shared = self._shared_pools()

    def share(self, slots: Callable[[str, int, float], SharedSlots]) -> None:
        """Hold every call also in a pool of each window's size, `slots(name, limit, seconds)`, that budgets
        of the same account elsewhere name alike (flows/runtime/dask_shared.py): their calls
        together keep within each window."""
        with self._lock:
            self._share = slots
            self._shared = self._shared_pools()

    def _shared_pools(self) -> list[tuple[float, SharedSlots]]:
        if self._share is None:
            return []
        return [
            (
                window.seconds,
                self._share(
                    f"market-elt:{self.account}:{window.limit}/{window.seconds:g}s", window.limit, window.seconds
                ),
            )
            for window in self._windows
        ]

    @property
    def quotas(self) -> dict[str, int | None]:
        return {"day": self.per_day, "month": self.per_month}

    def acquire(self) -> None:
        """Block until a call may be made; raise BudgetExhaustedError when the day or month is
        spent. Every acquire must be followed by one `release()` in the same thread, whether the call
        succeeded or not."""
        while True:
            with self._lock:
                now = self._clock()
                wait = max(0.0, self._paused_until - now)
                for window in self._windows:
                    window.expire(now)
                    if self.in_flight + len(window.recent) >= window.limit:
                        if not window.recent:
                            wait = None  # every slot is in flight: the first one back starts its window
                            break
                        wait = max(wait, window.seconds - (now - window.recent[0]) + self.margin)
                if wait is None:
                    self._lock.wait()
                    continue
                if wait == 0.0:
                    self.ledger.take(self.account, self.quotas, self._wall_clock())
                    self.in_flight += 1
                    self.used += 1
                    shared = list(self._shared)
                    break
                self.waited_seconds += wait
            self._sleep(wait)
        taken: list[tuple[float, SharedSlots]] = []
        try:
            for seconds, slots in shared:
                slots.acquire()
                taken.append((seconds, slots))
        except BaseException:  # nothing was sent: the slots taken go back at once
            for _seconds, slots in taken:
                slots.release_after(0.0)
            with self._lock:
                self.in_flight -= 1
                self._lock.notify_all()
            raise
        self._holding.slots = taken

    def release(self) -> None:
        """The call taken by `acquire()` is over (answered, failed or timed out): its slot
        stays in each window for a window from now, since the provider may have counted it
        at any moment until now."""
        with self._lock:
            self.in_flight = max(0, self.in_flight - 1)
            now = self._clock()
            for window in self._windows:
                window.recent.append(now)
            self._lock.notify_all()
        shared, self._holding.slots = getattr(self._holding, "slots", []), []
        for seconds, slots in shared:
            slots.release_after(seconds + self.margin)

    @contextmanager
    def call(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def saturate(self, per_second_only: bool = False) -> None:
        """The provider said "too many": treat the current windows as full (only the one-second
        window after a burst notice), so the retry that follows waits for them to roll instead
        of spending its attempts inside them."""
        with self._lock:
            now = self._clock()
            for window in self._windows:
                if per_second_only and window.seconds != 1.0:
                    continue
                window.recent.extend([now] * max(0, window.limit - len(window.recent) - self.in_flight))

    def pause(self, seconds: float) -> None:
        """The provider said when its quota turns (e.g. Alpaca's X-RateLimit-Reset): no call
        of this budget starts before then."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def exhaust(self, period: str = "day") -> None:
        """The provider said this period's calls are spent: no call of any run until it turns."""
        self.ledger.exhaust(self.account, period, self._wall_clock())

    def usage(self) -> dict[str, tuple[int, int | None, bool]]:
        """{period: (calls used by every run, quota or None, reported spent)}, for the run report."""
        usage = self.ledger.usage(self.account, self._wall_clock())
        return {period: (calls, self.quotas[period], spent) for period, (calls, spent) in usage.items()}


class BudgetedAdapter(HTTPAdapter):
    """An HTTPAdapter that holds one call of the budget while each request it sends is on its
    way (until the response headers or an error come back), and saturates the budget when an
    answer says the provider is throttling. `classify` maps a response to None (fine),
    "burst" (too many this second) or "throttled" (too many this minute). `pause_for` maps a
    throttled response to the seconds until the provider's quota turns, when it says so: the
    budget then pauses that long instead of treating its windows as full."""

    def __init__(
        self,
        budget: RateBudget,
        classify: Callable = lambda response: None,
        pause_for: Callable = lambda response: None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.budget = budget
        self.classify = classify
        self.pause_for = pause_for

    def send(self, request, *args, **kwargs):
        with self.budget.call():
            response = super().send(request, *args, **kwargs)
        kind = "throttled" if response.status_code == 429 else self.classify(response)
        if kind in ("burst", "throttled"):
            seconds = self.pause_for(response)
            if seconds is not None:
                self.budget.pause(seconds)
            else:
                self.budget.saturate(per_second_only=kind == "burst")
        return response
