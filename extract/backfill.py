"""A backfill job: a date range for some assets, resumable by its id."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

UTC = dt.UTC


@dataclass(frozen=True)
class Backfill:
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"backfill end {self.end} is before its start {self.start}")

    @property
    def job_id(self) -> str:
        """Assets finished by a job are remembered under this id in the resource's dlt state."""
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def end_time(self, now: dt.datetime) -> dt.datetime:
        """The last instant of `end` (UTC), or now if that is earlier."""
        return min(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), UTC) - dt.timedelta(seconds=1), now)

    def covers(self, day: dt.date) -> bool:
        return self.start <= day <= self.end
