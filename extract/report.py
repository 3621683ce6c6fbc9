"""What an extract run did, per provider: the run's summary and the run log's source."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field


@dataclass
class ProviderReport:
    provider: str
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished: dt.datetime | None = None
    calls: int = 0
    rows: int = 0
    assets_ok: int = 0
    skipped: int = 0  # already finished by an earlier run of the same backfill
    failures: dict[str, str] = field(default_factory=dict)
    deferred: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_call(self, *_args, **_kwargs) -> None:
        """A `requests` response hook: every HTTP answer, retries included, is one call."""
        with self._lock:
            self.calls += 1

    def succeed(self) -> None:
        with self._lock:
            self.assets_ok += 1

    def fail(self, asset: str, reason: str) -> None:
        with self._lock:
            self.failures[asset] = reason

    def defer(self, asset: str, reason: str) -> None:
        """Not fetched this run (day budget spent): not a failure, the next run picks it up."""
        with self._lock:
            self.deferred[asset] = reason

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary_line(self) -> str:
        line = (
            f"{self.provider}: {self.calls} calls, {self.rows} rows, "
            f"{self.assets_ok} assets ok, {len(self.failures)} failed"
        )
        if self.skipped:
            line += f", {self.skipped} already done"
        if self.deferred:
            reason = next(iter(self.deferred.values()))
            line += f", {len(self.deferred)} deferred ({reason}): {', '.join(sorted(self.deferred))}"
        return line + "".join(f"\n  - {asset}: {reason}" for asset, reason in sorted(self.failures.items()))
