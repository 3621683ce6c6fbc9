"""One emulated HTTP answer: status, JSON-able body (or bytes as sent), extra headers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Answer:
    status: int
    body: object
    headers: dict[str, str] = field(default_factory=dict)
