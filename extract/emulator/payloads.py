"""Provider payloads built from the synthetic market, byte-shaped like the real responses.

Shapes follow the recorded responses in shared/fixtures/providers and the providers' docs:
CoinGecko arrays of [ms, value] and market objects in wire order, Alpha Vantage's numbered
string fields newest first, Alternative.me's string values and epoch-second timestamps.
"""

from __future__ import annotations

import datetime as dt
import json

from extract.calendars import DEFAULT_EXCHANGE, last_closed_session
from extract.emulator.market import (
    CRYPTO_EPOCH,
    HOUR_MS,
    CoinSeries,
    EquitySession,
    SyntheticMarket,
    adjusted_closes,
    fear_greed_classification,
)

UTC = dt.UTC
# Alpha Vantage pretty-prints its JSON with a 4-space indent (the recorded cassette in
# shared/fixtures/providers is exactly that, byte for byte); CoinGecko and Alternative.me
# answer compactly.
INDENT = {"alpha_vantage": 4}
DAY = dt.timedelta(days=1)
# Real history has holes: the recorded 2025 response has no entry for 2024-10-26.
FEAR_GREED_MISSING_DAYS = frozenset({dt.date(2024, 10, 26)})
AV_DAILY_KEYS = ("1. open", "2. high", "3. low", "4. close", "5. volume")
AV_ADJUSTED_KEYS = (
    "1. open",
    "2. high",
    "3. low",
    "4. close",
    "5. adjusted close",
    "6. volume",
    "7. dividend amount",
    "8. split coefficient",
)


def _iso_ms(ts: dt.datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _price(value: float) -> float | int:
    """CoinGecko writes large prices as integers (29309) and small ones in full float form."""
    return round(value) if value >= 1000 else float(f"{value:.6g}")


def _hour_range(series: CoinSeries, start: dt.datetime, end: dt.datetime) -> range:
    first = max(0, series.hour_index(start) - (0 if start == _floor_hour(start) else -1))
    last = min(len(series.prices) - 1, series.hour_index(end))
    return range(first, last + 1)


def _floor_hour(ts: dt.datetime) -> dt.datetime:
    return ts.replace(minute=0, second=0, microsecond=0)


def market_chart(series: CoinSeries, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> dict:
    """`/market_chart[/range]` with CoinGecko's automatic granularity:
    <= 1 day -> 5-minutely (interpolated), <= 90 days -> hourly, longer -> daily at 00:00 UTC.
    A range reaching "now" ends with a point stamped at the current second.

    Hourly points are spaced like the recorded 5-minutely response at an hour's pitch
    (shared/fixtures/providers/coingecko/market_chart_matic-network_usd_days1_5min_2023-03-15.json,
    SOURCES.md: "about 5 minutes apart but not exactly", the last point "rounded to the second"):
    each sits seconds to a couple of minutes past its hour (CoinSeries.timestamp_ms), none after
    the range's end, and the running hour's point is the "now" one, so every clock hour holds
    exactly one point (the daily bars' first and last point of each UTC day rely on it)."""
    end = min(end, now)
    span = end - start
    hourly = DAY < span <= dt.timedelta(days=90)
    points: list[tuple[int, float, float, float]] = []
    if span <= DAY:
        step = dt.timedelta(minutes=5)
        at = start
        while at <= end:
            i = series.hour_index(at)
            if 0 <= i < len(series.prices) - 1:
                weight = (at - _floor_hour(at)).total_seconds() / 3600
                price = series.prices[i] * (1 - weight) + series.prices[i + 1] * weight
                points.append((int(at.timestamp() * 1000), price, price * series.supply(i), series.volume_24h(i)))
            at += step
    else:
        hours = _hour_range(series, start, end)
        if span > dt.timedelta(days=90):
            hours = [i for i in hours if (series.first_hour + i) % 24 == 0]
            stamp = lambda i: int(CRYPTO_EPOCH.timestamp() * 1000) + (series.first_hour + i) * HOUR_MS  # noqa: E731
        else:
            stamp = series.timestamp_ms
        points = [
            (stamp(i), series.prices[i], series.prices[i] * series.supply(i), series.volume_24h(i)) for i in hours
        ]
        if hourly:
            points = [point for point in points if point[0] <= end.timestamp() * 1000]
    if end >= now - dt.timedelta(minutes=1) and points:
        i = series.hour_index(now)
        if 0 <= i < len(series.prices):
            now_ms = int(now.timestamp()) * 1000
            if hourly:  # "now" stands for the running hour: one point per clock hour
                points = [point for point in points if point[0] // HOUR_MS < now_ms // HOUR_MS]
            points.append(
                (
                    now_ms,
                    series.prices[i],
                    series.prices[i] * series.supply(i),
                    series.volume_24h(i),
                )
            )
    return {
        "prices": [[ts, price] for ts, price, _, _ in points],
        "market_caps": [[ts, cap] for ts, _, cap, _ in points],
        "total_volumes": [[ts, vol] for ts, _, _, vol in points],
    }


def daily_ohlc(series: CoinSeries, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> list[list]:
    """Daily candles of complete UTC days in [start, end]; each stamped with its close time
    (the next 00:00 UTC), as CoinGecko stamps candles."""
    day = start.date()
    candles = []
    while dt.datetime.combine(day + DAY, dt.time(), UTC) <= min(end + DAY, now):
        first = series.hour_index(dt.datetime.combine(day, dt.time(), UTC))
        if first >= 0:
            hours = series.prices[first : first + 24]
            if len(hours) == 24:
                close_ms = int(dt.datetime.combine(day + DAY, dt.time(), UTC).timestamp() * 1000)
                candles.append([close_ms, hours[0], max(hours), min(hours), hours[-1]])
        day += DAY
    return candles


def hourly_ohlc(series: CoinSeries, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> list[list]:
    """`/ohlc/range?interval=hourly`: the candles closing in (start, end] that have closed by now,
    each stamped with its close time on the whole hour ("The timestamp displayed in the payload
    (response) indicates the end (or close) time of the OHLC data", CoinGecko's docs), so 31 days
    from a midnight are 744 candles. A candle follows the series from its hour's price to the
    next hour's (the path the 5-minutely chart interpolates): open and close those two prices,
    high and low the larger and the smaller. (daily_ohlc takes a day's 24 hourly prices, so a
    day's first hourly open is its daily open; closes and extremes may differ by the last hour.)"""
    stop = min(series.hour_index(min(end, now)), len(series.prices) - 1)  # candle i closes as hour i + 1 starts
    candles = []
    for i in range(max(0, series.hour_index(start)), stop):
        open_, close = series.prices[i], series.prices[i + 1]
        close_ms = int(CRYPTO_EPOCH.timestamp() * 1000) + (series.first_hour + i + 1) * HOUR_MS
        candles.append([close_ms, open_, max(open_, close), min(open_, close), close])
    return candles


def _market_cap(series, now: dt.datetime) -> float | None:
    """A coin's market cap at `now`, or None while it has less than a day of prices."""
    i = min(series.hour_index(now), len(series.prices) - 1)
    return series.prices[i] * series.supply(i) if i >= 24 else None


def market_cap_ranks(market: SyntheticMarket, now: dt.datetime) -> dict[str, int]:
    """Every listed coin's rank by market cap at `now`: a property of the coin, the same
    whichever ids a request asks for (docs/provider-answers.md)."""
    caps = {coin_id: _market_cap(market.coin(coin_id), now) for coin_id in market.coins}
    listed = sorted((coin_id for coin_id, cap in caps.items() if cap is not None), key=lambda c: -caps[c])
    return {coin_id: rank for rank, coin_id in enumerate(listed, start=1)}


def coins_markets(market: SyntheticMarket, coin_ids: list[str], now: dt.datetime) -> list[dict]:
    rows = []
    for coin_id in coin_ids:
        series = market.coin(coin_id)
        if series is None:
            continue  # CoinGecko silently leaves unknown ids out of /coins/markets
        i = min(series.hour_index(now), len(series.prices) - 1)
        if i < 24:
            continue
        profile = series.profile
        price, before = series.prices[i], series.prices[i - 24]
        supply = series.supply(i)
        window = series.prices[max(0, i - 23) : i + 1]
        history = series.prices[: i + 1]
        ath_i = max(range(len(history)), key=history.__getitem__)
        atl_i = min(range(len(history)), key=history.__getitem__)
        cap, cap_before = price * supply, before * series.supply(i - 24)
        rows.append(
            {
                "id": coin_id,
                "symbol": profile.symbol,
                "name": profile.name,
                "image": f"https://assets.coingecko.com/coins/images/1/large/{coin_id}.png",
                "current_price": _price(price),
                "market_cap": round(cap),
                "market_cap_rank": None,
                "fully_diluted_valuation": round(price * profile.max_supply) if profile.max_supply else None,
                "total_volume": round(series.volume_24h(i)),
                "high_24h": _price(max(window)),
                "low_24h": _price(min(window)),
                "price_change_24h": float(f"{price - before:.6g}"),
                "price_change_percentage_24h": round(100 * (price / before - 1), 5),
                "market_cap_change_24h": round(cap - cap_before),
                "market_cap_change_percentage_24h": round(100 * (cap / cap_before - 1), 5),
                "circulating_supply": round(supply, 1),
                "total_supply": round(profile.max_supply or supply * 1.01, 1),
                "max_supply": profile.max_supply,
                "ath": _price(history[ath_i]),
                "ath_change_percentage": round(100 * (price / history[ath_i] - 1), 5),
                "ath_date": _iso_ms(dt.datetime.fromtimestamp(series.timestamp_ms(ath_i) / 1000, UTC)),
                "atl": _price(history[atl_i]),
                "atl_change_percentage": round(100 * (price / history[atl_i] - 1), 5),
                "atl_date": _iso_ms(dt.datetime.fromtimestamp(series.timestamp_ms(atl_i) / 1000, UTC)),
                "roi": None,
                "last_updated": _iso_ms(now - dt.timedelta(seconds=37)),
            }
        )
    ranks = market_cap_ranks(market, now)
    for row in rows:
        row["market_cap_rank"] = ranks[row["id"]]
    rows.sort(key=lambda row: row["market_cap_rank"])
    return rows


def _av_number(value: float) -> str:
    return f"{value:.4f}"


def av_daily(
    symbol: str,
    sessions: list[EquitySession],
    function: str,
    outputsize: str,
    now: dt.datetime,
    exchange: str = DEFAULT_EXCHANGE,
) -> dict:
    """`TIME_SERIES_DAILY[_ADJUSTED]`: the exchange's closed sessions, newest first, all values
    strings. "5. Time Zone" is US/Eastern whatever the exchange, as in recorded answers for
    London and Toronto symbols."""
    last = last_closed_session(exchange, now)
    served = [s for s in sessions if s.date <= last]
    adjusted_close = adjusted_closes(served)
    first = 0 if outputsize == "full" else max(0, len(served) - 100)
    adjusted = function == "TIME_SERIES_DAILY_ADJUSTED"
    series = {}
    for index in range(len(served) - 1, first - 1, -1):
        s = served[index]
        values = [s.open, s.high, s.low, s.close]
        if adjusted:
            fields = [
                *map(_av_number, values),
                _av_number(adjusted_close[index]),
                str(s.volume),
                _av_number(s.dividend),
                f"{s.split:.1f}",
            ]
            series[s.date.isoformat()] = dict(zip(AV_ADJUSTED_KEYS, fields, strict=True))
        else:
            series[s.date.isoformat()] = dict(
                zip(AV_DAILY_KEYS, [*map(_av_number, values), str(s.volume)], strict=True)
            )
    return {
        "Meta Data": {
            "1. Information": "Daily Time Series with Splits and Dividend Events"
            if adjusted
            else "Daily Prices (open, high, low, close) and Volumes",
            "2. Symbol": symbol,
            "3. Last Refreshed": last.isoformat(),
            "4. Output Size": "Full size" if outputsize == "full" else "Compact",
            "5. Time Zone": "US/Eastern",
        },
        "Time Series (Daily)": series,
    }


def av_monthly(symbol: str, sessions: list[EquitySession], now: dt.datetime, exchange: str = DEFAULT_EXCHANGE) -> dict:
    """`TIME_SERIES_MONTHLY`: the whole history, each month keyed by its last trading day (the
    running month by the latest one, equal to "3. Last Refreshed"), unadjusted, newest first."""
    last = last_closed_session(exchange, now)
    months: dict[tuple[int, int], list[EquitySession]] = {}
    for session in sessions:
        if session.date <= last:
            months.setdefault((session.date.year, session.date.month), []).append(session)
    series = {}
    for days in reversed(months.values()):
        values = [days[0].open, max(d.high for d in days), min(d.low for d in days), days[-1].close]
        volume = sum(d.volume for d in days)
        series[days[-1].date.isoformat()] = dict(
            zip(AV_DAILY_KEYS, [*map(_av_number, values), str(volume)], strict=True)
        )
    return {
        "Meta Data": {
            "1. Information": "Monthly Prices (open, high, low, close) and Volumes",
            "2. Symbol": symbol,
            "3. Last Refreshed": last.isoformat(),
            "4. Time Zone": "US/Eastern",
        },
        "Monthly Time Series": series,
    }


def av_splits(symbol: str, sessions: list[EquitySession], now: dt.datetime, exchange: str = DEFAULT_EXCHANGE) -> dict:
    """`SPLITS`: historical split events, newest first, factors as 4-decimal strings."""
    last = last_closed_session(exchange, now)
    events = [s for s in sessions if s.split != 1.0 and s.date <= last]
    return {
        "symbol": symbol,
        "data": [{"effective_date": s.date.isoformat(), "split_factor": f"{s.split:.4f}"} for s in reversed(events)],
    }


# Dividends are declared about four weeks before their ex-date; records of older ones lack the
# other dates (the string "None", as in the recorded IBM answer).
DIVIDEND_DECLARED_DAYS = 28
DIVIDEND_DATES_SINCE = dt.date(2021, 1, 1)


def av_dividends(symbol: str, sessions: list[EquitySession], now: dt.datetime) -> dict:
    """`DIVIDENDS`: historical and declared (future) distributions, newest first, all strings."""
    today = now.astimezone(UTC).date()
    data = []
    for s in reversed(sessions):
        declared = s.date - dt.timedelta(days=DIVIDEND_DECLARED_DAYS)
        if not s.dividend or declared > today:
            continue
        known = s.date >= DIVIDEND_DATES_SINCE
        data.append(
            {
                "ex_dividend_date": s.date.isoformat(),
                "declaration_date": declared.isoformat() if known else "None",
                "record_date": (s.date + dt.timedelta(days=1)).isoformat() if known else "None",
                "payment_date": (s.date + dt.timedelta(days=21)).isoformat() if known else "None",
                "amount": f"{s.dividend:g}",
            }
        )
    return {"symbol": symbol, "data": data}


FNG_DATE_FORMATS = {"us": "%m-%d-%Y", "cn": "%Y-%m-%d", "kr": "%Y-%m-%d", "world": "%d-%m-%Y"}


def fear_greed(market: SyntheticMarket, limit: int, date_format: str, now: dt.datetime) -> dict:
    today = now.astimezone(UTC).date()
    days = [(d, v) for d, v in market.fear_greed() if d <= today and d not in FEAR_GREED_MISSING_DAYS]
    days.reverse()
    if limit > 0:
        days = days[:limit]
    data = []
    for d, value in days:
        midnight = dt.datetime.combine(d, dt.time(), UTC)
        stamp = midnight.strftime(FNG_DATE_FORMATS[date_format]) if date_format else str(int(midnight.timestamp()))
        data.append({"value": str(value), "value_classification": fear_greed_classification(value), "timestamp": stamp})
    if data:
        next_midnight = dt.datetime.combine(today + DAY, dt.time(), UTC)
        data[0]["time_until_update"] = str(int((next_midnight - now).total_seconds()))
    return {"name": "Fear and Greed Index", "data": data, "metadata": {"error": None}}


def encode(provider: str, body: object) -> bytes:
    """A JSON body as the provider writes it on the wire."""
    return json.dumps(body, indent=INDENT.get(provider)).encode()
