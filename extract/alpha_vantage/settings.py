"""Alpha Vantage endpoints (https://www.alphavantage.co/documentation/)."""

FUNCTIONS = ("TIME_SERIES_DAILY_ADJUSTED", "TIME_SERIES_DAILY")
SERIES_KEY = "Time Series (Daily)"
PRICE_FIELDS = ("1. open", "2. high", "3. low", "4. close")
ADJUSTED_FIELDS = (*PRICE_FIELDS, "5. adjusted close", "6. volume", "7. dividend amount", "8. split coefficient")
DAILY_FIELDS = (*PRICE_FIELDS, "5. volume")
# The raw table holds both functions' fields; a row has the other function's left null.
RAW_FIELDS = tuple(dict.fromkeys((*ADJUSTED_FIELDS, *DAILY_FIELDS)))
# `compact` returns the latest 100 sessions (~140 calendar days): beyond that a cursor needs `full`.
COMPACT_REACH_DAYS = 130
