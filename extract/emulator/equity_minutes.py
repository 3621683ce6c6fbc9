"""A US equity session's minute and hour bars as the emulator plays them, consistent with its daily bar.

Alpaca's minute bars cover pre-market (04:00), the regular session (09:30 to 16:00, 13:00 on an
early close) and after-hours (four hours after the close), New York time, and exist only for
minutes with a trade (alpaca-trade-api-python #457, 2021-06-28; alpaca-py #580, 2025-04-13);
hour bars are clock hours, mixing pre-market into 09:00. Here every regular minute trades and
about a quarter of the extended-hours minutes do (the emulator's choice). The regular minutes
open at the daily open, close at the daily close and reach exactly the daily high and low;
extended-hours prices stay inside the day's range; 90% of the day's volume trades in the regular
session (U-shaped through the day) and the minute volumes add up to the daily volume. All drawn
from a generator seeded by symbol and day, so every request sees the same bars.
"""

from __future__ import annotations

import datetime as dt
import time
import zlib
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from extract.calendars import calendar
from extract.emulator.market import EquitySession

NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC
PRE_MARKET_OPEN = dt.time(4, 0)
REGULAR_OPEN = dt.time(9, 30)
AFTER_HOURS = dt.timedelta(hours=4)
REGULAR_VOLUME_SHARE = 0.9
EXTENDED_TRADING_SHARE = 0.25


@lru_cache(maxsize=4096)
def _close_time(day: dt.date) -> dt.datetime:
    return calendar("XNYS").session_close(day.isoformat()).to_pydatetime()


def minute_bars(symbol: str, session: EquitySession) -> list[dict]:
    """The session's minute bars in time order: {t, o, h, l, c, v, n, vw} as Alpaca sends them."""
    rng = np.random.default_rng(zlib.crc32(f"alpaca-minutes:{symbol}:{session.date.isoformat()}".encode()))
    start = dt.datetime.combine(session.date, REGULAR_OPEN, NEW_YORK).astimezone(UTC)
    close = _close_time(session.date)
    regular = int((close - start).total_seconds() // 60)
    places = 4  # as the daily bars
    low, high = session.low, session.high

    steps = rng.normal(0.0, 1.0, regular).cumsum()
    bridge = steps - np.linspace(0.0, 1.0, regular) * steps[-1]
    scale = (high - low) * 0.35 / max(1e-12, float(np.abs(bridge).max()))
    path = np.empty(regular + 1)
    path[0] = 0.0
    path[1:] = bridge * scale
    path += np.linspace(session.open, session.close, regular + 1)
    path = np.clip(np.round(path, places), low, high)
    path[0], path[-1] = session.open, session.close
    opens, closes = path[:-1], path[1:]
    wiggle = np.abs(rng.normal(0.0, (high - low) * 0.01 + 1e-9, (2, regular)))
    highs = np.clip(np.round(np.maximum(opens, closes) + wiggle[0], places), low, high)
    lows = np.clip(np.round(np.minimum(opens, closes) - wiggle[1], places), low, high)
    highs[int(np.argmax(highs))] = high
    lows[int(np.argmin(lows))] = low

    pre = int((start - dt.datetime.combine(session.date, PRE_MARKET_OPEN, NEW_YORK).astimezone(UTC)).seconds // 60)
    after = int(AFTER_HOURS.total_seconds() // 60)
    pre_minutes = np.flatnonzero(rng.random(pre) < EXTENDED_TRADING_SHARE) - pre
    after_minutes = np.flatnonzero(rng.random(after) < EXTENDED_TRADING_SHARE) + regular
    extended = np.concatenate([pre_minutes, after_minutes])
    anchor = np.where(extended < 0, session.open, session.close)
    drift = rng.normal(0.0, (high - low) * 0.05 + 1e-9, (3, len(extended)))
    ext_close = np.clip(np.round(anchor + drift[0], places), low, high)
    ext_open = np.clip(np.round(anchor + drift[1], places), low, high)
    ext_high = np.clip(np.round(np.maximum(ext_open, ext_close) + np.abs(drift[2]), places), low, high)
    ext_low = np.clip(np.round(np.minimum(ext_open, ext_close) - np.abs(drift[2]), places), low, high)

    minutes = np.concatenate([extended[extended < 0], np.arange(regular), extended[extended >= 0]])
    o = np.concatenate([ext_open[extended < 0], opens, ext_open[extended >= 0]])
    h = np.concatenate([ext_high[extended < 0], highs, ext_high[extended >= 0]])
    lo = np.concatenate([ext_low[extended < 0], lows, ext_low[extended >= 0]])
    c = np.concatenate([ext_close[extended < 0], closes, ext_close[extended >= 0]])
    is_regular = (minutes >= 0) & (minutes < regular)
    weights = np.where(is_regular, 0.0, 1.0) * rng.lognormal(0.0, 0.5, len(minutes))
    position = np.arange(regular) / max(1, regular - 1) * 2 - 1
    weights[is_regular] = (1 + 2 * position**2) * rng.lognormal(0.0, 0.3, regular)
    share = np.where(is_regular, REGULAR_VOLUME_SHARE, 1 - REGULAR_VOLUME_SHARE) if len(extended) else 1.0
    group = np.where(is_regular, weights.sum(where=is_regular), weights.sum(where=~is_regular))
    volumes = np.floor(weights / group * share * session.volume).astype(np.int64)
    last_regular = int(np.flatnonzero(is_regular)[-1])
    volumes[last_regular] += session.volume - int(volumes.sum())
    trades = np.maximum(1, np.round(volumes / rng.uniform(50, 200, len(minutes)))).astype(np.int64)
    vwap = np.clip(np.round((h + lo + c) / 3, 4), lo, h)

    base = int(start.timestamp())
    columns = zip(
        (base + 60 * minutes).tolist(), o.tolist(), h.tolist(), lo.tolist(), c.tolist(),
        volumes.tolist(), trades.tolist(), vwap.tolist(), strict=True,
    )  # fmt: skip
    return [
        {"t": _stamp(t), "o": bo, "h": bh, "l": bl, "c": bc, "v": bv, "n": bn, "vw": bw}
        for t, bo, bh, bl, bc, bv, bn, bw in columns
    ]


def hour_bars(symbol: str, session: EquitySession) -> list[dict]:
    """The session's minute bars by clock hour (UTC hours are New York's: whole-hour offsets)."""
    hours: dict[str, list[dict]] = {}
    for bar in minute_bars(symbol, session):
        hours.setdefault(bar["t"][:13] + ":00:00Z", []).append(bar)
    result = []
    for stamp, bars in hours.items():
        volume = sum(b["v"] for b in bars)
        weighted = sum(b["vw"] * b["v"] for b in bars)
        result.append(
            {
                "t": stamp,
                "o": bars[0]["o"],
                "h": max(b["h"] for b in bars),
                "l": min(b["l"] for b in bars),
                "c": bars[-1]["c"],
                "v": volume,
                "n": sum(b["n"] for b in bars),
                "vw": round(weighted / volume, 4) if volume else bars[-1]["vw"],
            }
        )
    return result


def _stamp(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
