"""Alpaca Market Data v2 endpoint, plans and budgets (https://docs.alpaca.markets/docs/about-market-data-api).

What is known about the endpoint, its payloads, errors and plans, with sources:
docs/research/alpaca-market-data.md; every answer the source handles and the emulator gives:
docs/provider-answers.md ("Alpaca").
"""

from __future__ import annotations

from dataclasses import dataclass

BASE_URL = "https://data.alpaca.markets"
BARS_PATH = "/v2/stocks/bars"
KEY_ID_SETTING = "ALPACA_API_KEY_ID"
SECRET_SETTING = "ALPACA_API_SECRET_KEY"
FEED_SETTING = "ALPACA_FEED"
PLAN_SETTING = "ALPACA_PLAN"
FREE_KEYS_URL = "https://alpaca.markets"
# Headers of the OpenAPI security schemes.
KEY_ID_HEADER = "APCA-API-KEY-ID"
SECRET_HEADER = "APCA-API-SECRET-KEY"

# The contract's feeds: `iex` (the free plan's real-time feed) or `sip` (all US exchanges; on the
# free plan only data at least 15 minutes old). Always sent: the OpenAPI says the default is `sip`,
# the FAQ "the 'best' available feed based on the user's subscription".
FEEDS = ("iex", "sip")
DEFAULT_FEED = "iex"
# Unadjusted bars: history never changes after the fact (a split or dividend adjusts every
# earlier bar), so per-symbol cursors stay valid; dbt adjusts.
ADJUSTMENT = "raw"
# `limit`: "1..10000, default 1000 ... The limit applies to the total number of data points, not
# per symbol!" (OpenAPI); 10001 is a 400 [probe].
PAGE_LIMIT = 10_000
# Symbols per request. The maximum is not documented (research note, "Not confirmed"): 100 keeps
# the comma-separated list far below common URL length limits (~8 kB).
SYMBOLS_PER_REQUEST = 100
# Timeframes as the API writes them (OpenAPI: `[1-59]Min`, `[1-23]Hour`, `1Day`, ...). The source
# loads daily bars; intraday timeframes would be further resources on the same pagination.
DAILY = "1Day"
# "the `end` parameter must be at least 15 minutes old to query SIP data without a subscription"
# (FAQ): a backfill's end is kept older than this, with a minute of margin.
SIP_DELAY_MINUTES = 16


@dataclass(frozen=True)
class Plan:
    name: str
    per_minute: int


# Docs, "About Market Data API" (plans table): Basic (free) "200 / min" historical API calls,
# Algo Trader Plus "10,000 / min". [probe] ~201 requests/min refilled ~3.3/s, per request.
PLANS = {
    "free": Plan("free", 200),
    "plus": Plan("plus", 10_000),  # Algo Trader Plus
}
DEFAULT_PLAN = "free"


def plan_limits(plan: str | None) -> dict[str, int | None]:
    return {"per_minute": PLANS[plan or DEFAULT_PLAN].per_minute}
