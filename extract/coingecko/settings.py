"""CoinGecko endpoints and limits (https://docs.coingecko.com)."""

MARKETS_BATCH = 250  # `/coins/markets` accepts at most 250 ids per call
# `/market_chart/range` returns hourly points for spans of 2..90 days: stay well inside.
CHART_WINDOW_DAYS = 85
MIN_WINDOW_DAYS = 2
PUBLIC_HISTORY_DAYS = 365  # public/demo plans only see the last 365 days
OHLC_WINDOW_DAYS = 180  # `/ohlc/range?interval=daily` (pro): at most 180 daily candles per call
KEY_HEADERS = {"demo": "x-cg-demo-api-key", "pro": "x-cg-pro-api-key"}
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
