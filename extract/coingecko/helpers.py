"""Pure CoinGecko parsing and windowing: no dlt, no HTTP, so it is tested on real payloads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from extract.coingecko.settings import CHART_WINDOW_DAYS, MARKET_NUMERIC_FIELDS, MIN_WINDOW_DAYS, OHLC_WINDOW_DAYS
from extract.errors import PayloadError

UTC = dt.UTC
PROVIDER = "coingecko"


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


def ohlc_windows(start: dt.date, until: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Windows of at most OHLC_WINDOW_DAYS for `/ohlc/range?interval=daily` (paid plans)."""
    begin = dt.datetime.combine(start, dt.time(), UTC)
    while begin < until:
        end = min(begin + dt.timedelta(days=OHLC_WINDOW_DAYS), until)
        yield begin, end
        begin = end


def candle_rows(coin_id: str, payload: object, now: dt.datetime) -> list[dict]:
    """`/ohlc/range` rows [close_ms, open, high, low, close]; CoinGecko stamps a candle with its
    close time, so a daily candle closing at D+1 00:00 UTC is day D's bar. Candles not closing on
    a midnight, or closing after `now` (the running day), are not daily bars and are dropped."""
    if not isinstance(payload, list):
        raise PayloadError(PROVIDER, coin_id, f"expected a list of candles, got {type(payload).__name__}")
    rows = []
    for candle in payload:
        if not (isinstance(candle, list) and len(candle) == 5 and all(_is_number(v) for v in candle)):
            raise PayloadError(PROVIDER, coin_id, f"expected [ms, open, high, low, close], got {candle!r}", "ohlc")
        close_ms = int(candle[0])
        if close_ms % 86_400_000 or close_ms > now.timestamp() * 1000:
            continue
        closed = dt.datetime.fromtimestamp(close_ms / 1000, UTC)
        rows.append(
            {
                "coin_id": coin_id,
                "ts": close_ms,
                "candle_date": closed.date() - dt.timedelta(days=1),
                "open": float(candle[1]),
                "high": float(candle[2]),
                "low": float(candle[3]),
                "close": float(candle[4]),
            }
        )
    return rows
