"""Checks of the intraday marts after a flow run (tests/flows/test_daily.py runs them on DuckDB
and Postgres): hourly_bars equal to bars computed here from the raw points by the contract's
definition (open = the previous print, close = the hour's last print, high/low = extremes of
the prints and the open, an hour without a print repeating the last price), 24 per complete
day with the contract's session labels and the daily close; bars_4h, the session features
and the daily market snapshot against values computed here from the published bars."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

from extract.settings import Settings
from flows.runtime.warehouse import query
from tests.flows.loads import reload

HOUR_MS = 3_600_000
EPOCH = dt.datetime(1970, 1, 1)
# contract.md: ASIA 00:00-07:59, EUROPE 08:00-13:59, US 14:00-23:59 (the hour's UTC start).
SESSIONS = {**dict.fromkeys(range(8), "ASIA"), **dict.fromkeys(range(8, 14), "EUROPE"),
            **dict.fromkeys(range(14, 24), "US")}  # fmt: skip


def _expected_hourly(points: list[tuple[int, float, float | None]]) -> list[tuple]:
    """(hour_start, open, high, low, close, volume_24h, n_points) by the contract's definition,
    from one coin's raw (ts_ms, price, total_volume) points."""
    by_hour: dict[int, list[tuple[int, float, float | None]]] = defaultdict(list)
    for point in sorted(points):
        by_hour[point[0] // HOUR_MS].append(point)
    first, last = min(by_hour), max(by_hour) - 1  # the hour of the latest print is still open
    bars, previous = [], None
    for hour in range(first, last + 1):
        prints = by_hour.get(hour, [])
        if prints:
            prices = [price for _, price, _ in prints]
            open_ = previous if previous is not None else prices[0]
            bar = (open_, max([*prices, open_]), min([*prices, open_]), prices[-1], prints[-1][2], len(prints))
        else:
            bar = (previous, previous, previous, previous, None, 0)
        previous = bar[3]
        bars.append((EPOCH + dt.timedelta(hours=hour), *bar))
    return bars


def _raw_points(settings: Settings) -> dict[str, list[tuple[int, float, float | None]]]:
    rows = query(
        settings,
        "select a.symbol, p.ts, p.price, p.total_volume from raw.coingecko_market_chart as p"
        " join assets as a on a.coingecko_id = p.coin_id where a.asset_type = 'crypto' and a.is_active",
    )
    points: dict[str, list] = defaultdict(list)
    for symbol, ts, price, volume in rows:
        points[symbol].append((int(ts), float(price), volume))
    return points


def _published_hourly(settings: Settings) -> dict[str, list[tuple]]:
    rows = query(
        settings,
        "select a.symbol, h.hour_start, h.open, h.high, h.low, h.close, h.volume_24h, h.n_points, h.session,"
        " h.source, h.volume from hourly_bars as h join assets as a using (asset_id) order by a.symbol, h.hour_start",
    )
    bars: dict[str, list[tuple]] = defaultdict(list)
    for symbol, hour_start, *values in rows:
        bars[symbol].append((hour_start.replace(tzinfo=None), *values))
    return bars


def assert_hourly_bars_follow_the_definition(settings: Settings) -> dict[str, list[tuple]]:
    published = _published_hourly(settings)
    points = _raw_points(settings)
    assert set(published) == set(points), "every active coin has hourly bars"
    for symbol, bars in published.items():
        expected = _expected_hourly(points[symbol])
        assert [bar[:7] for bar in bars] == expected, symbol
        for hour_start, *_, session, source, volume in bars:
            assert session == SESSIONS[hour_start.hour], (symbol, hour_start, session)
            assert (source, volume) == ("coingecko_hourly", None), "the free plan's bars: approximate, no volume"
    return published


def assert_a_day_has_24_hours_and_its_daily_close(settings: Settings, published: dict[str, list[tuple]]) -> None:
    daily_bars = query(
        settings,
        "select a.symbol, b.date, b.close from daily_bars as b join assets as a using (asset_id)"
        " where a.asset_type = 'crypto'",
    )
    assert daily_bars
    per_day: dict[tuple[str, dt.date], list[tuple]] = defaultdict(list)
    for symbol, bars in published.items():
        for bar in bars:
            per_day[(symbol, bar[0].date())].append(bar)
    for symbol, day, close in daily_bars:
        hours = per_day[(symbol, day)]
        assert [bar[0].hour for bar in hours] == list(range(24)), (symbol, day)
        assert hours[-1][4] == close, f"{symbol} {day}: the daily close is the last hourly close"


def assert_4h_bars_aggregate_the_hours(settings: Settings, published: dict[str, list[tuple]]) -> None:
    rows = query(
        settings,
        "select a.symbol, b.window_start, b.open, b.high, b.low, b.close from bars_4h as b"
        " join assets as a using (asset_id) order by a.symbol, b.window_start",
    )
    got: dict[str, list[tuple]] = defaultdict(list)
    for symbol, start, *values in rows:
        got[symbol].append((start.replace(tzinfo=None), *values))
    for symbol, bars in published.items():
        windows: dict[dt.datetime, list[tuple]] = defaultdict(list)
        for bar in bars:
            windows[bar[0].replace(hour=bar[0].hour - bar[0].hour % 4)].append(bar)
        expected = [
            (start, hours[0][1], max(h[2] for h in hours), min(h[3] for h in hours), hours[-1][4])
            for start, hours in sorted(windows.items())
            if len(hours) == 4
        ]
        assert got[symbol] == expected, symbol


def assert_session_returns_compound_to_the_day(settings: Settings) -> None:
    rows = query(
        settings,
        "select f.asia_return, f.europe_return, f.us_return, b.close, p.close,"
        " f.asia_range_share, f.europe_range_share, f.us_range_share"
        " from daily_session_features as f join daily_bars as b using (asset_id, date)"
        " join daily_bars as p on p.asset_id = f.asset_id and p.date = f.date - 1",
    )
    assert rows, "session features for every day with a day before it"
    for asia, europe, us, close, previous_close, *shares in rows:
        assert math.isclose((1 + asia) * (1 + europe) * (1 + us), close / previous_close, rel_tol=1e-12)
        assert all(0 <= share <= 1 for share in shares)
        assert max(shares) > 0


def assert_the_snapshot(settings: Settings) -> None:
    rows = query(
        settings,
        "select s.date, s.close, s.change_24h, s.volatility_7d, s.market_cap_rank, s.fear_greed_value,"
        " s.fear_greed_class, b.close from daily_market_snapshot as s"
        " join daily_bars as b using (asset_id, date) join assets as a using (asset_id)"
        " where a.symbol = 'BTC' order by s.date",
    )
    closes = [row[7] for row in rows]
    assert [row[1] for row in rows] == closes
    assert rows[0][2] is None and rows[0][3] is None, "no change or volatility before there is a day before"
    for i in range(1, len(rows)):
        assert math.isclose(rows[i][2], closes[i] / closes[i - 1] - 1, rel_tol=1e-12)
    returns = [math.log(closes[i] / closes[i - 1]) for i in range(1, len(closes))]
    mean = sum(returns[:7]) / 7
    expected = math.sqrt(sum((r - mean) ** 2 for r in returns[:7]) / 6)
    assert rows[6][3] is None and math.isclose(rows[7][3], expected, rel_tol=1e-9), "7 daily returns"
    assert all(row[5] is not None and row[6] for row in rows), "the day's Fear & Greed on every row"
    assert rows[-1][4] is not None, "the latest day carries the rank of the markets snapshot taken after it"


def assert_intraday_marts(settings: Settings) -> dict[str, list[tuple]]:
    """Every intraday check; returns the published hourly bars by symbol."""
    published = assert_hourly_bars_follow_the_definition(settings)
    assert_a_day_has_24_hours_and_its_daily_close(settings, published)
    assert_4h_bars_aggregate_the_hours(settings, published)
    assert_session_returns_compound_to_the_day(settings)
    assert_the_snapshot(settings)
    return published


def remove_a_print(settings: Settings, coin_id: str, day: dt.date) -> None:
    """One print of `coin_id` on `day` (its first from 10:00 UTC) gone, the day's other points
    under a new load id: what a later re-fetch of that day writes through dlt's merge."""
    day_points = f"coin_id = '{coin_id}' and point_date = '{day}'"
    reload(
        settings,
        [
            f"delete from raw.coingecko_market_chart where {day_points} and ts = (select min(ts)"
            f" from raw.coingecko_market_chart where {day_points} and ts % {24 * HOUR_MS} >= {10 * HOUR_MS})"
        ],
        {"coingecko_market_chart": day_points},
    )


def first_hour(day: dt.date) -> int:
    """The hour index (hours since 1970-01-01 00:00 UTC) of `day`'s first hour."""
    return (dt.datetime.combine(day, dt.time()) - EPOCH) // dt.timedelta(hours=1)
