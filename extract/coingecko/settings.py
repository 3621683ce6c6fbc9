"""CoinGecko endpoints, plans and budgets (https://docs.coingecko.com).

Plans as sold (pricing page and docs, quoted with dates in docs/provider-answers.md): the host,
key header, call budget, monthly call credits, how far back history reaches, and whether the
true candles of `/coins/{id}/ohlc/range` are served ("Exclusive for Paid Plan Subscribers
(Analyst, Lite, Pro and Enterprise)": not Basic).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PUBLIC_BASE_URL = "https://api.coingecko.com/api/v3"
PRO_BASE_URL = "https://pro-api.coingecko.com/api/v3"
KEY_SETTING = "COINGECKO_API_KEY"
PLAN_SETTING = "COINGECKO_PLAN"


@dataclass(frozen=True)
class Plan:
    name: str
    base_url: str
    key_header: str | None
    per_minute: int
    per_month: int | None
    history_days: int | None  # None: hourly history since HOURLY_SINCE
    candles: bool  # /coins/{id}/ohlc/range


# `pro` stands for Analyst and above (Lite, Pro, Enterprise): the same endpoints, more calls.
PLANS = {
    # Keyless: "5 to 15 calls per minute, depending on usage conditions worldwide", shared per IP.
    "public": Plan("public", PUBLIC_BASE_URL, None, 5, None, 365, candles=False),
    "demo": Plan("demo", PUBLIC_BASE_URL, "x-cg-demo-api-key", 100, 10_000, 365, candles=False),
    "basic": Plan("basic", PRO_BASE_URL, "x-cg-pro-api-key", 250, 100_000, 730, candles=False),
    "pro": Plan("pro", PRO_BASE_URL, "x-cg-pro-api-key", 500, 500_000, None, candles=True),
}
# Hourly points exist from 30 January 2018; /ohlc/range "Available from 9 February 2018 onwards".
HOURLY_SINCE = dt.date(2018, 2, 9)

MARKETS_BATCH = 250  # `/coins/markets` accepts at most 250 ids per call
# `/market_chart/range` returns hourly points for spans of 2..90 days: stay well inside.
CHART_WINDOW_DAYS = 85
MIN_WINDOW_DAYS = 2
OHLC_WINDOW_DAYS = 180  # `/ohlc/range?interval=daily`: "up to 180 days per request/ 180 daily interval candles"
# `/ohlc/range?interval=hourly` (docs, "Coin OHLC Chart within Time Range by ID"): "up to 31 days per
# request / 744 hourly interval candles".
OHLC_HOURLY_WINDOW_DAYS = 31
# Error codes (docs, "Errors & Rate Limits"): what each means for the run.
MISSING_KEY = 10002  # no key on the pro host
PLAN_RESTRICTED = 10005  # endpoint not in the plan
PRO_KEY_ON_PUBLIC_HOST = 10010
DEMO_KEY_ON_PRO_HOST = 10011
HISTORY_RANGE = 10012  # beyond the plan's history
MARKET_NUMERIC_FIELDS = (
    "current_price",
    "market_cap",
    "market_cap_rank",
    "fully_diluted_valuation",
    "total_volume",
    "high_24h",
    "low_24h",
    "price_change_24h",
    "price_change_percentage_24h",
    "market_cap_change_24h",
    "market_cap_change_percentage_24h",
    "circulating_supply",
    "total_supply",
    "max_supply",
    "ath",
    "ath_change_percentage",
    "atl",
    "atl_change_percentage",
)


def plan_limits(plan: str) -> dict[str, int | None]:
    spec = PLANS[plan]
    return {"per_minute": spec.per_minute, "per_month": spec.per_month}
