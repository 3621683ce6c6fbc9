"""Alpaca Market Data v2 as the emulator plays it: `GET /v2/stocks/bars` (daily, hour and minute
bars; minutes and hours from extract/emulator/equity_minutes.py, generated page by page) from the
synthetic market's US equities (an Alpaca symbol is the equity of the same symbol; listings
elsewhere are unknown to Alpaca and left out, as symbols without data are), unadjusted, on the
plan of the caller's key pair (EmulatorConfig.alpaca_keys): free (200 calls/min) or plus (10,000).

Bars are the Alpha Vantage emulator's unadjusted sessions (the same open, high, low, close and
volume for a symbol and day, on either feed, so the two providers reconcile), stamped at New
York midnight in UTC, with a deterministic trade count and VWAP; only closed sessions are served.
Pages hold `limit` bars counted across symbols, sorted by symbol then time, and continue after
an opaque `next_page_token` (base64 of "SYMBOL|D|time", as in the SDKs' fixtures). Every answer
after the key check carries X-RateLimit-Limit/Remaining/Reset; a 429 has no Retry-After.
Texts and sources: docs/provider-answers.md ("Alpaca")."""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime as dt
import math
import random
import re
import threading
import time
from collections import deque
from zoneinfo import ZoneInfo

from dlt.common.json import json as dlt_json

from extract.alpaca.settings import BARS_PATH, FEEDS, PAGE_LIMIT, PLANS
from extract.calendars import last_closed_session
from extract.emulator.answer import Answer
from extract.emulator.equity_minutes import hour_bars, minute_bars
from extract.emulator.market import EquitySession

PROVIDER = "alpaca"
PREFIX = "/v2/stocks/"
UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
US_EXCHANGES = ("XNYS", "XNAS")
ALL_FEEDS = (*FEEDS, "otc", "boats")  # OpenAPI
DAILY_TIMEFRAMES = ("1Day", "1D")
INTRADAY_TIMEFRAMES = {"1Min": minute_bars, "1T": minute_bars, "1Hour": hour_bars, "1H": hour_bars}
# Valid timeframes the emulator does not serve (OpenAPI patterns).
OTHER_TIMEFRAMES = re.compile(
    r"([1-9]|[1-5][0-9])(Min|T)|([1-9]|1[0-9]|2[0-3])(Hour|H)|1(Week|W)|(1|2|3|4|6|12)(Month|M)"
)
SIP_DELAY = dt.timedelta(minutes=15)

# nginx's page for a missing or wrong key pair [probe].
UNAUTHORIZED_PAGE = (
    b"<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n"
    b"<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
TOO_MANY_REQUESTS = {"message": "too many requests."}
SIP_NOT_PERMITTED = {"message": "subscription does not permit querying recent SIP data"}
END_BEFORE_START = {"message": "end should not be before start"}
SYMBOLS_REQUIRED = {"message": "Invalid format for parameter symbols: query parameter 'symbols' is required"}
# By analogy with `symbols` (assumed).
TIMEFRAME_REQUIRED = {"message": "Invalid format for parameter timeframe: query parameter 'timeframe' is required"}
INVALID_TIMEFRAME = {"code": 42210000, "message": "invalid timeframe"}  # 2021's body; today's is not confirmed
# The first part is Alpaca's [probe]; the tail after the colon is Go's time.Parse error (assumed).
INVALID_TIME = (
    "Invalid format for parameter {name}: error parsing '{value}' as RFC3339 or 2006-01-02 time: "
    'parsing time "{value}" as "2006-01-02": cannot parse "{value}" as "2006"'
)
# Assumed (no recorded text).
INVALID_LIMIT = {"message": f"Invalid format for parameter limit: must be between 1 and {PAGE_LIMIT}"}
INVALID_FEED = {"message": "invalid feed"}
INVALID_PAGE_TOKEN = {"message": "invalid page token"}
# The emulator's own limits (not Alpaca's answers).
ONLY_SERVED = {"message": "the emulator serves timeframe=1Day, 1Hour and 1Min only"}
ONLY_ASCENDING = {"message": "the emulator serves intraday bars in sort=asc only"}
ONLY_RAW = {"message": "the emulator serves adjustment=raw only"}

_lock = threading.Lock()


def serves(path: str) -> bool:
    return path.startswith(PREFIX)


def base_url(url: str, _coingecko_plan: str = "public") -> str:
    return url


def _calls(emulator) -> dict[str, deque[float]]:
    """Answer times per key id in the plan's sliding minute (the emulator's per-route state)."""
    return emulator.route_state.setdefault(PROVIDER, {}).setdefault("calls", {})


def _limit_of(emulator, plan: str) -> int | None:
    """The plan's calls per minute, unless the test configured the provider's limit itself
    (EmulatorConfig.per_minute["alpaca"], enforced by the server for every caller)."""
    return None if PROVIDER in emulator.config.per_minute else PLANS[plan].per_minute


def _admit(emulator, key_id: str, limit: int | None) -> tuple[bool, dict[str, str]]:
    """(admitted, X-RateLimit-* headers) for one call of `key_id` under `limit` per window."""
    window = emulator.config.window_seconds
    now = time.time()
    with _lock:
        recent = _calls(emulator).setdefault(key_id, deque())
        while recent and now - recent[0] >= window:
            recent.popleft()
        admitted = limit is None or len(recent) < limit
        if admitted:
            recent.append(now)
        reset = (recent[0] if recent else now) + window
        remaining = max(0, limit - len(recent)) if limit is not None else 0
    if limit is None:
        return admitted, {}
    return admitted, {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(math.ceil(reset)),
    }


def _plan_of(emulator, headers: dict) -> tuple[str, str] | None:
    """(key id, plan) of a known key pair, else None."""
    key_id, secret = headers.get("apca-api-key-id"), headers.get("apca-api-secret-key")
    known = emulator.config.alpaca_keys.get(key_id or "")
    if known is None or known[0] != secret:
        return None
    return key_id, known[1]


def _time(name: str, value: str) -> dt.datetime:
    """RFC 3339, or a date taken as 00:00 UTC (Go's parse of the 2006-01-02 layout)."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), UTC)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
            raise ValueError(value)
        return dt.datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        raise _BadRequestError({"message": INVALID_TIME.format(name=name, value=value)}) from None


class _BadRequestError(Exception):
    def __init__(self, body: dict) -> None:
        super().__init__(body)
        self.body = body


def new_york_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), NEW_YORK).astimezone(UTC)


def stamp(ts: dt.datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def page_token(symbol: str, ts: dt.datetime) -> str:
    return base64.b64encode(f"{symbol}|D|{ts.strftime('%Y-%m-%dT%H:%M:%S')}.000000000Z".encode()).decode()


def _read_token(token: str) -> tuple[str, dt.datetime]:
    try:
        symbol, kind, at = base64.b64decode(token, validate=True).decode().split("|")
        if kind != "D":
            raise ValueError(kind)
        return symbol, dt.datetime.fromisoformat(at[:19]).replace(tzinfo=UTC)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _BadRequestError(INVALID_PAGE_TOKEN) from None


def bar(symbol: str, session: EquitySession) -> dict:
    """One daily bar: the session's unadjusted prices and volume, a trade count of ~100-300
    shares a trade and a VWAP inside the day's range, drawn per symbol and day."""
    rng = random.Random(f"alpaca:{symbol}:{session.date.isoformat()}")
    typical = (session.high + session.low + session.close) / 3
    vwap = min(session.high, max(session.low, typical * (1 + rng.gauss(0.0, 0.001))))
    return {
        "t": stamp(new_york_midnight(session.date)),
        "o": session.open,
        "h": session.high,
        "l": session.low,
        "c": session.close,
        "v": session.volume,
        "n": max(1, round(session.volume / rng.uniform(100, 300))),
        "vw": round(vwap, 6),
    }


def _series(emulator, symbol: str, start: dt.datetime, end: dt.datetime, last: dt.date) -> list[EquitySession]:
    profile = emulator.market.equities.get(symbol)
    if profile is None or profile.exchange not in US_EXCHANGES:
        return []
    sessions = emulator.market.equity(symbol)
    first = bisect.bisect_left(sessions, start.date() - dt.timedelta(days=1), key=lambda s: s.date)
    stop = bisect.bisect_right(sessions, min(last, end.date() + dt.timedelta(days=1)), key=lambda s: s.date)
    return [s for s in sessions[first:stop] if s.date <= last and start <= new_york_midnight(s.date) <= end]


def respond(emulator, path: str, query: dict, headers: dict, now: dt.datetime) -> Answer:
    caller = _plan_of(emulator, headers)
    if caller is None:
        return Answer(401, UNAUTHORIZED_PAGE, {"Content-Type": "text/html"})
    key_id, plan = caller
    admitted, limits = _admit(emulator, key_id, _limit_of(emulator, plan))
    if not admitted:
        emulator.count_throttled(PROVIDER)
        return Answer(429, TOO_MANY_REQUESTS, limits)
    if path != BARS_PATH:
        return Answer(404, {"message": "Not Found"}, limits)
    try:
        return Answer(200, _bars(emulator, query, plan, now), limits)
    except _BadRequestError as refused:
        status = 403 if refused.body is SIP_NOT_PERMITTED else 400
        return Answer(status, refused.body, limits)


def _bars(emulator, query: dict, plan: str, now: dt.datetime) -> dict:
    symbols = [s for s in query.get("symbols", "").split(",") if s]
    if not symbols:
        raise _BadRequestError(SYMBOLS_REQUIRED)
    timeframe = query.get("timeframe")
    if not timeframe:
        raise _BadRequestError(TIMEFRAME_REQUIRED)
    if timeframe not in DAILY_TIMEFRAMES and timeframe not in INTRADAY_TIMEFRAMES:
        raise _BadRequestError(ONLY_SERVED if OTHER_TIMEFRAMES.fullmatch(timeframe) else INVALID_TIMEFRAME)
    feed = query.get("feed", "sip")
    if feed not in ALL_FEEDS:
        raise _BadRequestError(INVALID_FEED)
    if query.get("adjustment", "raw") != "raw":
        raise _BadRequestError(ONLY_RAW)
    try:
        limit = int(query.get("limit", "1000"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= PAGE_LIMIT:
        raise _BadRequestError(INVALID_LIMIT)
    delayed = feed == "sip" and plan == "free"
    start = _time("start", query["start"]) if "start" in query else new_york_midnight(now.astimezone(NEW_YORK).date())
    end = _time("end", query["end"]) if "end" in query else now - (SIP_DELAY if delayed else dt.timedelta())
    if end < start:
        raise _BadRequestError(END_BEFORE_START)
    if delayed and end > now - SIP_DELAY:
        raise _BadRequestError(SIP_NOT_PERMITTED)
    last = last_closed_session("XNYS", now)
    descending = query.get("sort", "asc") == "desc"
    if timeframe in INTRADAY_TIMEFRAMES:
        if descending:
            raise _BadRequestError(ONLY_ASCENDING)
        return _intraday_page(emulator, symbols, INTRADAY_TIMEFRAMES[timeframe], start, end, last, limit, query)
    items = []
    for symbol in sorted(dict.fromkeys(symbols)):
        served = _series(emulator, symbol, start, end, last)
        items += [(symbol, s) for s in (reversed(served) if descending else served)]
    first = 0
    if query.get("page_token"):
        after = _read_token(query["page_token"])
        keys = [(symbol, new_york_midnight(s.date)) for symbol, s in items]
        if after not in keys:
            raise _BadRequestError(INVALID_PAGE_TOKEN)
        first = keys.index(after) + 1
    page = items[first : first + limit]
    bars: dict[str, list[dict]] = {}
    for symbol, session in page:
        bars.setdefault(symbol, []).append(bar(symbol, session))
    more = first + limit < len(items)
    token = page_token(page[-1][0], new_york_midnight(page[-1][1].date)) if more and page else None
    return {"bars": bars, "next_page_token": token}


def _intraday_page(emulator, symbols, bars_of, start, end, last, limit, query) -> bytes:
    """A page of intraday bars, generated lazily from the page token's bar on (a year of minute
    bars for a hundred symbols is ~13M bars: never all in memory), encoded here (orjson, through
    dlt) since pages are large."""
    after = _read_token(query["page_token"]) if query.get("page_token") else None
    bars: dict[str, list[dict]] = {}
    taken, more, previous = 0, False, None
    for symbol in sorted(dict.fromkeys(symbols)):
        if after and symbol < after[0]:
            continue
        profile = emulator.market.equities.get(symbol)
        if profile is None or profile.exchange not in US_EXCHANGES:
            continue
        first_day, last_day = start.astimezone(NEW_YORK).date(), min(last, end.astimezone(NEW_YORK).date())
        if after and symbol == after[0]:
            first_day = max(first_day, after[1].astimezone(NEW_YORK).date())
        sessions = emulator.market.equity(symbol)
        begin = bisect.bisect_left(sessions, first_day, key=lambda s: s.date)
        stop = bisect.bisect_right(sessions, last_day, key=lambda s: s.date)
        low, high = stamp(start), stamp(end)
        floor = stamp(after[1]) if after and symbol == after[0] else None
        for session in sessions[begin:stop]:
            for bar in bars_of(symbol, session):
                if not low <= bar["t"] <= high or (floor and bar["t"] <= floor):
                    continue
                if taken == limit:
                    more = True
                    break
                bars.setdefault(symbol, []).append(bar)
                taken, previous = taken + 1, (symbol, bar["t"])
            if more:
                break
        if more:
            break
    if after and not bars and not more and after[0] not in symbols:
        raise _BadRequestError(INVALID_PAGE_TOKEN)
    token = page_token(previous[0], dt.datetime.fromisoformat(previous[1])) if more and previous else None
    return dlt_json.dumpb({"bars": bars, "next_page_token": token})


def rate_limited(emulator, _window: str, _query: dict) -> Answer:
    """The server's limit (EmulatorConfig.per_minute["alpaca"]) reached: Alpaca's 429."""
    limit = emulator.config.per_minute.get(PROVIDER)
    reset = math.ceil(time.time() + emulator.config.window_seconds)
    headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    return Answer(429, TOO_MANY_REQUESTS, headers)
