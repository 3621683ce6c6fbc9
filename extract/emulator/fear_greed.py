"""Alternative.me's Fear & Greed index as the emulator plays it: `/fng/?limit=N[&date_format=...]`.
No rate-limit answer of theirs has been recorded; a 429 with a plain-text body stands in."""

from __future__ import annotations

import datetime as dt

from extract.emulator import payloads
from extract.emulator.answer import Answer

PROVIDER = "fear_greed"


def serves(path: str) -> bool:
    return path in ("/fng", "/fng/")


def base_url(url: str, _coingecko_plan: str = "public") -> str:
    return url


def respond(emulator, _path: str, query: dict, _headers: dict, now: dt.datetime) -> Answer:
    try:
        limit = int(query.get("limit", "1"))
    except ValueError:
        limit = 1
    date_format = query.get("date_format", "")
    if date_format not in ("", *payloads.FNG_DATE_FORMATS):
        date_format = ""
    return Answer(200, payloads.fear_greed(emulator.market, limit, date_format, now))


def rate_limited(emulator, _window: str, _query: dict) -> Answer:
    return Answer(429, b"Too Many Requests\n", {"Retry-After": str(emulator.config.retry_after_seconds)})
