"""What an extract run did, per provider: the run's summary and the run log's source."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

# A monthly quota this far used is worth a warning (CoinGecko's call credits).
QUOTA_WARNING_SHARE = 0.8


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
    # What limited an asset without failing it (e.g. "daily history limited by the free plan ...").
    notes: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # A configuration error that stopped every call (no key, a key of another plan).
    blocked: str | None = None
    plan: str | None = None
    # {period: (calls used today / this month by every run, quota or None, provider said spent)}
    budget: dict[str, tuple[int, int | None, bool]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __getstate__(self) -> dict:
        """Reports travel between processes (Dask workers): the lock stays behind."""
        return {name: value for name, value in self.__dict__.items() if name != "_lock"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _lock=threading.Lock())

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

    def note(self, asset: str, text: str) -> None:
        with self._lock:
            self.notes[asset] = text

    def warn(self, text: str) -> None:
        with self._lock:
            if text not in self.warnings:
                self.warnings.append(text)

    def block(self, error: Exception, not_fetched: list[str]) -> None:
        """A configuration error: one failure for the provider, its assets not fetched."""
        with self._lock:
            if self.blocked is None:
                self.blocked = str(error)
                self.failures["(configuration)"] = str(error)
            for asset in not_fetched:
                self.deferred.setdefault(asset, "not fetched: configuration error")

    def record_budget(self, usage: dict[str, tuple[int, int | None, bool]]) -> None:
        self.budget = usage
        warning = self.quota_warning()
        if warning:
            self.warn(warning)

    def quota_warning(self) -> str | None:
        """The monthly quota is nearly spent (by every run: the ledger's count)."""
        calls, quota, _ = self.budget.get("month", (0, None, False))
        if quota and calls >= QUOTA_WARNING_SHARE * quota:
            return f"{self.provider}: {calls:,} of this month's {quota:,} calls used ({calls / quota:.0%})"
        return None

    def absorb(self, batch: ProviderReport) -> None:
        """Add the report of one batch of this provider's assets (run elsewhere) to this one.
        The budget is the latest batch's (the ledger's counts are every run's anyway), and so is
        the quota warning."""
        with self._lock:
            quota_warnings = {self.quota_warning(), batch.quota_warning()}
            self.started = min(self.started, batch.started)
            if batch.finished and (self.finished is None or batch.finished >= self.finished):
                self.finished = batch.finished
                self.budget = batch.budget or self.budget
            self.calls += batch.calls
            self.rows += batch.rows
            self.assets_ok += batch.assets_ok
            self.skipped += batch.skipped
            self.failures.update(batch.failures)
            self.deferred.update(batch.deferred)
            self.notes.update(batch.notes)
            warnings = [text for text in self.warnings + batch.warnings if text not in quota_warnings]
            self.warnings = list(dict.fromkeys([*warnings, *filter(None, [self.quota_warning()])]))
            self.blocked = self.blocked or batch.blocked
            self.plan = batch.plan or self.plan

    @property
    def ok(self) -> bool:
        return not self.failures

    def budget_line(self) -> str:
        parts = []
        for period, (calls, quota, spent) in self.budget.items():
            if spent:
                parts.append(f"{period}: spent (the provider said so)")
            elif quota is not None:
                parts.append(f"{period}: {max(0, quota - calls):,} of {quota:,} calls left")
        return "; ".join(parts)

    def summary_line(self) -> str:
        line = (
            f"{self.provider}: {self.calls} calls, {self.rows} rows, "
            f"{self.assets_ok} assets ok, {len(self.failures)} failed"
        )
        if self.plan:
            line += f", plan {self.plan}"
        if self.skipped:
            line += f", {self.skipped} already done"
        if self.deferred:
            reason = next(iter(self.deferred.values()))
            line += f", {len(self.deferred)} deferred ({reason}): {', '.join(sorted(self.deferred))}"
        if self.budget_line():
            line += f"; budget {self.budget_line()}"
        details = [f"\n  - {asset}: {reason}" for asset, reason in sorted(self.failures.items())]
        by_note: dict[str, list[str]] = {}
        for asset, text in self.notes.items():
            by_note.setdefault(text, []).append(asset)
        details += [f"\n  note: {text}: {', '.join(sorted(assets))}" for text, assets in by_note.items()]
        details += [f"\n  warning: {text}" for text in self.warnings]
        return line + "".join(details)
