"""Alpha Vantage as the emulator plays it: `/query?function=...` on the free or the premium plan
(by key: EmulatorConfig.alpha_vantage_keys, else alpha_vantage_plan), every answer HTTP 200,
problems as one-key notices:
premium endpoints and `outputsize=full` refused on the free plan, the demo key, a missing key,
unknown symbols, and the burst, per-minute and daily limits. Texts and sources:
docs/provider-answers.md."""

from __future__ import annotations

import datetime as dt

from extract.alpha_vantage.settings import DAILY, DAILY_ADJUSTED, DIVIDENDS, MONTHLY, SPLITS
from extract.emulator import payloads
from extract.emulator.answer import Answer

PROVIDER = "alpha_vantage"
FUNCTIONS = (DAILY, DAILY_ADJUSTED, MONTHLY, SPLITS, DIVIDENDS)
# The demo key serves the documentation's examples (IBM) only.
DEMO_SYMBOLS = ("IBM",)

INVALID_CALL = (
    "Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for {}."
)
MISSING_KEY = (
    "the parameter apikey is invalid or missing. Please claim your free API key on "
    "(https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds."
)
DEMO_KEY = (
    "The **demo** API key is for demo purposes only. Please claim your free API key at "
    "(https://www.alphavantage.co/support/#api-key) to explore our full API offerings. It takes fewer than 20 "
    "seconds, and we are committed to making it free forever."
)
PREMIUM_ENDPOINT = (
    "Thank you for using Alpha Vantage! This is a premium endpoint. You may subscribe to any of the premium plans "
    "at https://www.alphavantage.co/premium/ to instantly unlock all premium endpoints"
)
PREMIUM_FULL = (
    "Thank you for using Alpha Vantage! The outputsize=full parameter value is a premium feature for the "
    "{} endpoint. You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to "
    "instantly unlock all premium features"
)
BURST = (
    "Thank you for using Alpha Vantage! Please consider spreading out your free API requests more sparingly. You "
    "may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to lift the free key rate "
    "limit (25 requests per day) and instantly unlock all premium endpoints"
)
MINUTE_LIMIT = (
    "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per "
    "day. Please visit https://www.alphavantage.co/premium/ if you would like to target a higher API call frequency."
)
# The current wording echoes the key, so a client must keep it out of its messages.
DAY_LIMIT = (
    "We have detected your API key as {} and our standard API rate limit is 25 requests per day. Please subscribe "
    "to any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."
)


def serves(path: str) -> bool:
    return path == "/query"


def base_url(url: str, _coingecko_plan: str = "public") -> str:
    return url


def respond(emulator, _path: str, query: dict, _headers: dict, now: dt.datetime) -> Answer:
    function = query.get("function", "")
    key = query.get("apikey")
    symbol = query.get("symbol", "").upper()
    if not key:
        return Answer(200, {"Error Message": MISSING_KEY})
    if key == "demo" and symbol not in DEMO_SYMBOLS:
        return Answer(200, {"Information": DEMO_KEY})
    if function not in FUNCTIONS:
        return Answer(200, {"Error Message": INVALID_CALL.format(function)})
    outputsize = query.get("outputsize", "compact")
    plan = (
        "premium" if key == "demo" else emulator.config.alpha_vantage_keys.get(key, emulator.config.alpha_vantage_plan)
    )
    if plan == "free":
        if function == DAILY_ADJUSTED:
            return Answer(200, {"Information": PREMIUM_ENDPOINT})
        if function == DAILY and outputsize == "full":
            return Answer(200, {"Information": PREMIUM_FULL.format(function)})
    sessions = emulator.market.equity(symbol)
    if sessions is None:
        return Answer(200, {"Error Message": INVALID_CALL.format(function)})
    exchange = emulator.market.equities[symbol].exchange
    if function == MONTHLY:
        return Answer(200, payloads.av_monthly(symbol, sessions, now, exchange))
    if function == SPLITS:
        return Answer(200, payloads.av_splits(symbol, sessions, now, exchange))
    if function == DIVIDENDS:
        return Answer(200, payloads.av_dividends(symbol, sessions, now))
    return Answer(200, payloads.av_daily(symbol, sessions, function, outputsize, now, exchange))


def rate_limited(_emulator, window: str, query: dict) -> Answer:
    if window == "day":
        return Answer(200, {"Information": DAY_LIMIT.format(query.get("apikey", ""))})
    return Answer(200, {"Information": BURST} if window == "second" else {"Note": MINUTE_LIMIT})
