"""Alpha Vantage endpoints, plans and budgets (https://www.alphavantage.co/documentation/).

Every answer the source handles, with where its text comes from, is listed in
docs/provider-answers.md.
"""

from __future__ import annotations

from dataclasses import dataclass

BASE_URL = "https://www.alphavantage.co"
KEY_SETTING = "ALPHAVANTAGE_API_KEY"
PLAN_SETTING = "ALPHAVANTAGE_PLAN"
FREE_KEY_URL = "https://www.alphavantage.co/support/#api-key"

# The exchange (ISO 10383 MIC) an Alpha Vantage symbol suffix implies (the documentation's global
# examples: TSCO.LON, SHOP.TRT, GPV.TRV, MBG.DEX, RELIANCE.BSE, 600104.SHH, 000002.SHZ); a symbol
# without a suffix is a US listing. The same list is dbt_project.yml's alpha_vantage_exchange_suffixes.
EXCHANGE_SUFFIXES = {
    "LON": "XLON",
    "TRT": "XTSE",
    "TRV": "XTSX",
    "DEX": "XETR",
    "BSE": "XBOM",
    "SHH": "XSHG",
    "SHZ": "XSHG",  # Shenzhen has no calendar of its own in exchange-calendars: Shanghai's holidays
}

DAILY = "TIME_SERIES_DAILY"
DAILY_ADJUSTED = "TIME_SERIES_DAILY_ADJUSTED"  # premium ("Trending Premium" in the docs)
MONTHLY = "TIME_SERIES_MONTHLY"  # free, always the whole history, no outputsize
SPLITS = "SPLITS"  # free corporate actions
DIVIDENDS = "DIVIDENDS"

SERIES_KEYS = {DAILY: "Time Series (Daily)", DAILY_ADJUSTED: "Time Series (Daily)", MONTHLY: "Monthly Time Series"}
SERIES_KEY = SERIES_KEYS[DAILY]
PRICE_FIELDS = ("1. open", "2. high", "3. low", "4. close")
ADJUSTED_FIELDS = (*PRICE_FIELDS, "5. adjusted close", "6. volume", "7. dividend amount", "8. split coefficient")
DAILY_FIELDS = (*PRICE_FIELDS, "5. volume")
FIELDS = {DAILY: DAILY_FIELDS, DAILY_ADJUSTED: ADJUSTED_FIELDS, MONTHLY: DAILY_FIELDS}
# The raw table holds both daily functions' fields; a row has the other function's left null.
RAW_FIELDS = tuple(dict.fromkeys((*ADJUSTED_FIELDS, *DAILY_FIELDS)))
# `compact` returns "only the latest 100 data points" (~140 calendar days): beyond that a cursor needs `full`.
COMPACT_SESSIONS = 100
COMPACT_REACH_DAYS = 130
# Splits and dividends change rarely (dividends are declared weeks ahead): a free plan refreshes
# them this often per symbol, so a daily run spends its few calls on the day's bars.
CORPORATE_ACTIONS_REFRESH_DAYS = 7
# A remembered plan is checked again this often (a key may have been upgraded): one call.
PLAN_RECHECK_DAYS = 30


@dataclass(frozen=True)
class Plan:
    """What a plan allows: the daily function, whether `outputsize=full` is served, whether the
    free extras (corporate actions, monthly history) are needed, and its call budget."""

    name: str
    daily_function: str
    full_history: bool
    per_second: int | None
    per_minute: int | None
    per_day: int | None


PLANS = {
    # Free key: 25 requests a day and, since December 2025, one per second (docs/provider-answers.md).
    "free": Plan("free", DAILY, full_history=False, per_second=1, per_minute=None, per_day=25),
    # The smallest premium plan: 75 requests a minute, no daily limit.
    "premium": Plan("premium", DAILY_ADJUSTED, full_history=True, per_second=None, per_minute=75, per_day=None),
}


def plan_limits(plan: str | None) -> dict[str, int | None]:
    """The call budget of `plan`; an unknown plan is budgeted as free until learned."""
    spec = PLANS[plan or "free"]
    return {"per_second": spec.per_second, "per_minute": spec.per_minute, "per_day": spec.per_day}
