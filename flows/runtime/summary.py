"""What a run did, end to end: printed at the end, raised on failure, written to the run log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from extract.report import ProviderReport
from flows.gate import Verdict
from flows.runtime.dbt import DbtSummary


class RunFailedError(RuntimeError):
    """Raised at the end of a run in which any provider, asset or dbt node failed; carries the
    run's summary."""

    def __init__(self, message: str, summary: RunSummary) -> None:
        super().__init__(message)
        self.summary = summary

    def __reduce__(self):
        return type(self), (self.args[0], self.summary)


@dataclass
class RunSummary:
    providers: list[ProviderReport] = field(default_factory=list)
    dbt: list[DbtSummary] = field(default_factory=list)
    marts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    gate: Verdict | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and all(report.ok for report in self.providers)

    def text(self) -> str:
        lines = [report.summary_line() for report in self.providers]
        lines += [summary.line() for summary in self.dbt]
        lines += self.marts
        lines += [f"WARNING {warning}" for warning in self.warnings]
        lines += [f"ERROR {error}" for error in self.errors]
        return "\n".join(lines)

    def raise_if_failed(self) -> None:
        if not self.ok:
            finished = dt.datetime.now(dt.UTC)
            raise RunFailedError(f"run finished with failures at {finished:%Y-%m-%d %H:%M} UTC:\n{self.text()}", self)
