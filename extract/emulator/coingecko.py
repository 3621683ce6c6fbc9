"""CoinGecko as the emulator plays it: the public host (`/api/v3`, keyless or a demo key) and
the paid host (standing for pro-api.coingecko.com: `/pro/api/v3`), each plan's history reach
and endpoints (`/ohlc/range` daily and hourly candles for plans with candles), its key errors
and its rate-limit answers (JSON 429 with Retry-After, or Cloudflare's HTML page for keyless
users). Texts and sources: docs/provider-answers.md."""

from __future__ import annotations

import datetime as dt
import re

from extract.coingecko.settings import (
    DEMO_KEY_ON_PRO_HOST,
    HISTORY_RANGE,
    MISSING_KEY,
    OHLC_HOURLY_WINDOW_DAYS,
    PLAN_RESTRICTED,
    PLANS,
    PRO_KEY_ON_PUBLIC_HOST,
)
from extract.emulator import payloads
from extract.emulator.answer import Answer

PROVIDER = "coingecko"
UTC = dt.UTC
PUBLIC_PREFIX = "/api/v3"
PRO_PREFIX = "/pro/api/v3"

RATE_LIMIT_BODY = {
    "status": {
        "error_code": 429,
        "error_message": "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing "
        "to subscribe to our API plans for higher rate limits.",
    }
}
# Cloudflare's block page for keyless users (title as recorded; a body of "error code: 1015").
CLOUDFLARE_429_PAGE = (
    b'<!DOCTYPE html>\n<html lang="en-US">\n<head>\n<title>Access denied | api.coingecko.com used Cloudflare to '
    b"restrict access</title>\n</head>\n<body>\n<h1>Error 1015</h1>\n<p>You are being rate limited.</p>\n"
    b"<p>error code: 1015</p>\n</body>\n</html>\n"
)
HISTORY_LIMIT_MESSAGE = (
    "Your request exceeds the allowed time range. Public API users are limited to querying historical data "
    "within the past 365 days. Upgrade to a paid plan to enjoy full historical data access: "
    "https://www.coingecko.com/en/api/pricing. "
)
PLAN_RESTRICTED_MESSAGE = "This request is limited to PRO API subscribers."
# Assumed, not from a recording (none found): HTTP 400 with the flat `{"error": ...}` of the 404.
HOURLY_RANGE_MESSAGE = f"invalid time range: interval=hourly serves up to {OHLC_HOURLY_WINDOW_DAYS} days per request"
MISSING_KEY_MESSAGE = (
    "API Key Missing. Please make sure you're using the right authentication method. For Pro API, please visit: "
    "https://docs.coingecko.com/reference/authentication. For Public/Demo API, please visit: "
    "https://docs.coingecko.com/v3.0.1/reference/authentication"
)
PRO_KEY_MESSAGE = (
    "If you are using Pro API key, please change your root URL from api.coingecko.com to pro-api.coingecko.com"
)
DEMO_KEY_MESSAGE = (
    "If you are using Demo API key, please change your root URL from pro-api.coingecko.com to api.coingecko.com"
)


def serves(path: str) -> bool:
    return path.startswith(f"{PUBLIC_PREFIX}/") or path.startswith(f"{PRO_PREFIX}/")


def base_url(url: str, plan: str = "public") -> str:
    return f"{url}{PRO_PREFIX if PLANS[plan].base_url.startswith('https://pro-api') else PUBLIC_PREFIX}"


def _stamp(now: dt.datetime) -> str:
    return now.isoformat(timespec="milliseconds")


def _key_error(code: int, message: str, now: dt.datetime) -> Answer:
    """10010 and 10011 come back as HTTP 400 with the timestamp and code beside `status`."""
    return Answer(400, {"timestamp": _stamp(now), "error_code": code, "status": {"error_message": message}})


def plan_of(emulator, path: str, headers: dict) -> str | Answer:
    """The caller's plan from the host and key, or the answer refusing the key."""
    demo, pro = headers.get("x-cg-demo-api-key"), headers.get("x-cg-pro-api-key")
    now = emulator.clock()
    if path.startswith(PRO_PREFIX):
        if demo and not pro:
            return _key_error(DEMO_KEY_ON_PRO_HOST, DEMO_KEY_MESSAGE, now)
        if not pro:
            return Answer(401, {"status": {"timestamp": _stamp(now), "error_code": MISSING_KEY,
                                           "error_message": MISSING_KEY_MESSAGE}})  # fmt: skip
        return emulator.config.coingecko_keys.get(pro, emulator.config.coingecko_paid_plan)
    if pro:
        return _key_error(PRO_KEY_ON_PUBLIC_HOST, PRO_KEY_MESSAGE, now)
    return "demo" if demo else "public"


def respond(emulator, path: str, query: dict, headers: dict, now: dt.datetime) -> Answer:
    plan = plan_of(emulator, path, headers)
    if isinstance(plan, Answer):
        return plan
    route = path.removeprefix(PRO_PREFIX).removeprefix(PUBLIC_PREFIX)
    if route == "/ping":
        return Answer(200, {"gecko_says": "(V3) To the Moon!"})
    if route == "/coins/markets":
        if "vs_currency" not in query:
            return Answer(400, {"error": "Missing parameter vs_currency"})
        ids = [i for i in query.get("ids", "").split(",") if i][: int(query.get("per_page", 100))]
        return Answer(200, payloads.coins_markets(emulator.market, ids, now))
    match = re.fullmatch(r"/coins/([^/]+)/(market_chart|market_chart/range|ohlc|ohlc/range)", route)
    if not match:
        return Answer(404, {"error": "Not Found"})
    coin_id, endpoint = match.groups()
    series = emulator.market.coin(coin_id)
    if series is None:
        return Answer(404, {"error": "coin not found"})
    spec = PLANS[plan]
    if endpoint == "ohlc/range" and not spec.candles:
        return Answer(
            401, {"status": {"error_code": PLAN_RESTRICTED, "error_message": PLAN_RESTRICTED_MESSAGE,
                             "timestamp": _stamp(now)}},
        )  # fmt: skip
    try:
        start, end = _window(query, now)
    except (KeyError, ValueError) as exc:
        return Answer(400, {"error": f"invalid parameter: {exc}"})
    hourly = endpoint == "ohlc/range" and query.get("interval") == "hourly"
    if hourly and end - start > dt.timedelta(days=OHLC_HOURLY_WINDOW_DAYS):
        return Answer(400, {"error": HOURLY_RANGE_MESSAGE})
    if spec.history_days and start < now - dt.timedelta(days=spec.history_days, minutes=5):
        return Answer(
            401, {"error": {"status": {"timestamp": _stamp(now), "error_code": HISTORY_RANGE,
                                       "error_message": HISTORY_LIMIT_MESSAGE}}},
        )  # fmt: skip
    if endpoint.startswith("market_chart"):
        return Answer(200, payloads.market_chart(series, start, end, now))
    if hourly:
        return Answer(200, payloads.hourly_ohlc(series, start, end, now))
    return Answer(200, payloads.daily_ohlc(series, start, end, now))


def rate_limited(emulator, _window: str, _query: dict) -> Answer:
    retry = {"Retry-After": str(emulator.config.retry_after_seconds)}
    if emulator.config.coingecko_html_429:
        return Answer(429, CLOUDFLARE_429_PAGE, {**retry, "Content-Type": "text/html; charset=UTF-8"})
    return Answer(429, RATE_LIMIT_BODY, retry)


def _time(value: str) -> dt.datetime:
    """`from`/`to` as UNIX seconds or the ISO dates the current docs recommend."""
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return dt.datetime.fromtimestamp(float(value), UTC)
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _window(query: dict, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    if "from" in query or "to" in query:
        return _time(query["from"]), _time(query["to"])
    days = query["days"]
    start = dt.datetime(2009, 1, 3, tzinfo=UTC) if days == "max" else now - dt.timedelta(days=float(days))
    return start, now
