"""Pure CoinGecko parsing and windowing: no dlt, no HTTP, so it is tested on real payloads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from extract.coingecko.settings import CHART_WINDOW_DAYS, MARKET_NUMERIC_FIELDS, MIN_WINDOW_DAYS, OHLC_WINDOW_DAYS
from extract.errors import PayloadError

UTC = dt.UTC
PROVIDER = "coingecko"
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def market_rows(payload: object, snapshot_date: dt.date) -> list[dict]:
    """Validate a `/coins/markets` page; keep every field as sent, plus the snapshot date."""
    if not isinstance(payload, list):
        raise PayloadError(PROVIDER, None, f"/coins/markets returned {type(payload).__name__}, expected a list")
    rows = []
    for item in payload:
        coin_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(coin_id, str):
            raise PayloadError(PROVIDER, None, "market entry without a string id", "id")
        for name in MARKET_NUMERIC_FIELDS:
            value = item.get(name)
            if value is not None and not _is_number(value):
                raise PayloadError(PROVIDER, coin_id, f"expected a number or null, got {value!r}", name)
        if not isinstance(item.get("last_updated"), str):
            raise PayloadError(PROVIDER, coin_id, "missing timestamp", "last_updated")
        rows.append({**item, "snapshot_date": snapshot_date})
    return rows


def chart_rows(coin_id: str, payload: object) -> list[dict]:
    """Flatten `/market_chart[/range]` ({prices, market_caps, total_volumes} of [ms, value]) into
    one row per timestamp. `point_date` (UTC) is the merge key that makes re-fetched days replace
    their earlier points instead of piling up beside them."""
    if not isinstance(payload, dict):
        raise PayloadError(PROVIDER, coin_id, f"expected an object, got {type(payload).__name__}")
    series: dict[str, dict[int, float | None]] = {}
    for name in ("prices", "market_caps", "total_volumes"):
        points = payload.get(name)
        if not isinstance(points, list):
            raise PayloadError(PROVIDER, coin_id, "missing or not a list", name)
        values: dict[int, float | None] = {}
        for point in points:
            if not (isinstance(point, list) and len(point) == 2 and _is_number(point[0])):
                raise PayloadError(PROVIDER, coin_id, f"expected [ms, value], got {point!r}", name)
            if point[1] is not None and not _is_number(point[1]):
                raise PayloadError(PROVIDER, coin_id, f"expected a number, got {point[1]!r}", name)
            values[int(point[0])] = point[1]
        series[name] = values
    rows = []
    for ts, price in sorted(series["prices"].items()):
        if price is None:
            continue
        rows.append(
            {
                "coin_id": coin_id,
                "ts": ts,
                "point_date": dt.datetime.fromtimestamp(ts / 1000, UTC).date(),
                "price": float(price),
                "market_cap": series["market_caps"].get(ts),
                "total_volume": series["total_volumes"].get(ts),
            }
        )
    return rows


def chart_windows(start: dt.date, until: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Split [start 00:00 UTC, until] into windows CoinGecko answers with hourly points.

    Windows start at midnight so each covers whole UTC days (the merge key replaces whole
    days), are at most CHART_WINDOW_DAYS + MIN_WINDOW_DAYS long and at least MIN_WINDOW_DAYS
    (shorter spans come back 5-minutely)."""
    start = min(start, (until - dt.timedelta(days=MIN_WINDOW_DAYS)).date())
    begin = dt.datetime.combine(start, dt.time(), UTC)
    while begin < until:
        end = begin + dt.timedelta(days=CHART_WINDOW_DAYS)
        if until - end < dt.timedelta(days=MIN_WINDOW_DAYS):
            end = until
        yield begin, min(end - dt.timedelta(seconds=1), until) if end < until else until
        begin = end


def ohlc_windows(
    start: dt.date, until: dt.datetime, days: int = OHLC_WINDOW_DAYS
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Windows of at most `days` for `/ohlc/range` (paid plans): OHLC_WINDOW_DAYS for
    `interval=daily`, OHLC_HOURLY_WINDOW_DAYS for `interval=hourly`. The first starts at
    midnight and each is a whole number of days, so every window but the last covers whole UTC
    days (the hourly merge key replaces whole days)."""
    begin = dt.datetime.combine(start, dt.time(), UTC)
    while begin < until:
        end = min(begin + dt.timedelta(days=days), until)
        yield begin, end
        begin = end


def _candles(coin_id: str, payload: object) -> Iterator[tuple[int, dict[str, float]]]:
    """Validated `/ohlc/range` candles [close_ms, open, high, low, close] as (close_ms, prices)."""
    if not isinstance(payload, list):
        raise PayloadError(PROVIDER, coin_id, f"expected a list of candles, got {type(payload).__name__}")
    for candle in payload:
        if not (isinstance(candle, list) and len(candle) == 5 and all(_is_number(v) for v in candle)):
            raise PayloadError(PROVIDER, coin_id, f"expected [ms, open, high, low, close], got {candle!r}", "ohlc")
        yield int(candle[0]), dict(zip(("open", "high", "low", "close"), map(float, candle[1:]), strict=True))


def candle_rows(coin_id: str, payload: object, now: dt.datetime) -> list[dict]:
    """`/ohlc/range` rows [close_ms, open, high, low, close]; CoinGecko stamps a candle with its
    close time, so a daily candle closing at D+1 00:00 UTC is day D's bar. Candles not closing on
    a midnight, or closing after `now` (the running day), are not daily bars and are dropped."""
    rows = []
    for close_ms, prices in _candles(coin_id, payload):
        if close_ms % DAY_MS or close_ms > now.timestamp() * 1000:
            continue
        closed = dt.datetime.fromtimestamp(close_ms / 1000, UTC)
        rows.append({"coin_id": coin_id, "ts": close_ms, "candle_date": closed.date() - dt.timedelta(days=1), **prices})
    return rows


def hourly_candle_rows(coin_id: str, payload: object, now: dt.datetime) -> list[dict]:
    """`/ohlc/range?interval=hourly` rows [close_ms, open, high, low, close]. CoinGecko's docs
    (https://docs.coingecko.com/reference/coins-id-ohlc-range): "The timestamp displayed in the
    payload (response) indicates the end (or close) time of the OHLC data", so the candle stamped
    11:00 UTC is the 10:00 hour's: `candle_hour` is the hour's start (close time minus one hour),
    `candle_date` its UTC day (the merge key: a re-fetched day replaces its candles). Candles not
    closing on a whole hour, or closing after `now` (the running hour), are not hourly bars and
    are dropped."""
    rows = []
    for close_ms, prices in _candles(coin_id, payload):
        if close_ms % HOUR_MS or close_ms > now.timestamp() * 1000:
            continue
        hour = dt.datetime.fromtimestamp((close_ms - HOUR_MS) / 1000, UTC)
        rows.append({"coin_id": coin_id, "ts": close_ms, "candle_hour": hour, "candle_date": hour.date(), **prices})
    return rows
